"""Carrier claims (R17): ``decide(claim, event, now)`` files, follows up and closes a claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal, assert_never

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.money import Money

_Duration = Annotated[timedelta, Field(gt=timedelta(0))]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClaimPolicy(_Value):
    """The clocks of a carrier claim. Tests and operators pass their own."""

    filing_deadline: _Duration = timedelta(days=30)
    """A claim not filed this long after the loss was confirmed can no longer be filed."""
    follow_up_every: _Duration = timedelta(days=3)
    """How often a filed claim's status is asked of the carrier."""
    answer_within: _Duration = timedelta(days=30)
    """A filed claim the carrier has not settled this long after filing is expired."""
    manual_filing_within: _Duration = timedelta(hours=48)
    """Without a claims API, the operator files by hand within this long (then it is overdue)."""
    reminder_fractions: tuple[Annotated[float, Field(gt=0, lt=1)], ...] = (0.5, 0.9)
    """Reminders to the operator at these fractions of the manual-filing window."""


class ClaimState(StrEnum):
    """Where a claim stands; the last three are final."""

    TO_FILE = "to_file"
    FILED = "filed"
    AWAITING_MANUAL_FILING = "awaiting_manual_filing"
    PAID = "paid"
    REJECTED = "rejected"
    EXPIRED = "expired"


FINAL_STATES = frozenset({ClaimState.PAID, ClaimState.REJECTED, ClaimState.EXPIRED})


class ClaimRefusal(StrEnum):
    """Why a claim event was refused; values match ``domain.errors.RefusalReason`` where shared."""

    WRONG_STATE = "wrong_state"
    INVALID_AMOUNT = "invalid_amount"
    MISSING_PROOF = "missing_proof"
    OTHER_CLAIM = "other_claim"


class ClaimFacts(_Value):
    """What a claim is about: the parcel, its loss or damage proof, its declared value."""

    order_workflow_id: str
    carrier: str
    tracking_number: str
    proof: str
    """A document reference to the carrier's written loss or damage proof."""
    declared_value: Money
    loss_confirmed_at: AwareDatetime | None = None
    """When the carrier confirmed the loss; the claim's opening time when omitted."""
    policy: ClaimPolicy = ClaimPolicy()


class FilingRoute(_Value):
    """How the claim gets filed: by API, or by an operator (no API, or it failed: ``detail``)."""

    by_api: bool
    detail: str = ""


class FiledByApi(_Value):
    """The carrier accepted the claim filed by API under ``claim_ref``."""

    claim_ref: str


class FiledManually(_Value):
    """An operator filed the claim by hand and gives the carrier's ``reference``."""

    reference: Annotated[str, Field(min_length=1)]


class CarrierAnswer(_Value):
    """A claim's status at the carrier: ``amount`` is what it pays when ``paid`` (R17)."""

    status: Literal["paid", "rejected", "pending"]
    amount: Money | None = None
    reason: str = ""


class StatusReported(_Value):
    """The carrier's answer to a follow-up, or pushed by the carrier (a webhook)."""

    answer: CarrierAnswer
    claim_ref: str | None = None
    """The claim the answer is about, when the carrier names it (a push): another claim's
    answer (one cancelled and filed again, say) is refused."""


class DeadlineReached(_Value):
    """The workflow woke on a clock; every deadline due by ``now`` fires."""


ClaimEvent = FilingRoute | FiledByApi | FiledManually | StatusReported | DeadlineReached


class FileClaim(_Value):
    """File the claim with the carrier's API (key ``{workflow_id}:file``)."""

    idempotency_key: str
    carrier: str
    tracking_number: str
    proof: str
    declared_value: Money


class CheckClaim(_Value):
    """Ask the carrier how the claim ``claim_ref`` stands (a read)."""

    carrier: str
    claim_ref: str


ClaimCommand = FileClaim | CheckClaim


class ClaimDeadline(_Value):
    """A clock of the claim: fires once (by ``key``) at ``at``."""

    key: str
    at: datetime
    label: str


class Claim(BaseModel):
    """The whole state of one claim: serialisable, returned as the workflow's result."""

    workflow_id: str
    facts: ClaimFacts
    state: ClaimState = ClaimState.TO_FILE
    opened_at: datetime
    filing_due: datetime
    manual_since: datetime | None = None
    claim_ref: str | None = None
    filed_at: datetime | None = None
    filed_by: Literal["api", "operator"] | None = None
    answer_due: datetime | None = None
    next_check_at: datetime | None = None
    checks: int = 0
    paid_amount: Money | None = None
    outcome: str = ""
    closed_at: datetime | None = None
    reminders: list[str] = Field(default_factory=list)
    fired: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class ClaimDecision:
    """The next claim and the commands to run, or why the event was refused."""

    claim: Claim
    commands: tuple[ClaimCommand, ...] = ()
    refusal: ClaimRefusal | None = None
    detail: str = ""


def open_claim(facts: ClaimFacts, workflow_id: str, now: datetime) -> ClaimDecision:
    """A new claim to file; refused without proof or with a declared value of zero."""
    confirmed = facts.loss_confirmed_at or now
    due = confirmed + facts.policy.filing_deadline
    claim = Claim(workflow_id=workflow_id, facts=facts, opened_at=now, filing_due=due)
    if not facts.proof.strip():
        return ClaimDecision(claim, (), ClaimRefusal.MISSING_PROOF, "a claim needs loss proof")
    if facts.declared_value.minor <= 0:
        return ClaimDecision(claim, (), ClaimRefusal.INVALID_AMOUNT, "declared value must be > 0")
    return advance(claim, now)


def pending_deadlines(claim: Claim) -> list[ClaimDeadline]:
    """The claim's clocks not yet fired, earliest first."""
    policy, out = claim.facts.policy, []
    if claim.state in {ClaimState.TO_FILE, ClaimState.AWAITING_MANUAL_FILING}:
        out.append(ClaimDeadline(key="filing_due", at=claim.filing_due, label="filing deadline"))
    if claim.state is ClaimState.AWAITING_MANUAL_FILING and claim.manual_since is not None:
        window, since = policy.manual_filing_within, claim.manual_since
        for n, fraction in enumerate(policy.reminder_fractions, 1):
            label = f"reminder: manual filing {fraction:.0%} elapsed"
            out.append(
                ClaimDeadline(key=f"reminder:{n}", at=since + window * fraction, label=label)
            )
        out.append(ClaimDeadline(key="manual_due", at=since + window, label="manual filing due"))
    if claim.state is ClaimState.FILED and claim.answer_due is not None:
        out.append(ClaimDeadline(key="answer_due", at=claim.answer_due, label="carrier answer"))
        if claim.next_check_at is not None and claim.next_check_at < claim.answer_due:
            key = f"check:{claim.checks + 1}"
            out.append(ClaimDeadline(key=key, at=claim.next_check_at, label="follow-up"))
    return sorted((d for d in out if d.key not in claim.fired), key=lambda d: d.at)


def advance(claim: Claim, now: datetime) -> ClaimDecision:
    """Fire, in time order and once each, every deadline of ``claim`` due by ``now``."""
    current, commands = _clone(claim), []
    while (due := pending_deadlines(current)) and due[0].at <= now:
        d = due[0]
        current.fired.append(d.key)
        if d.key in {"filing_due", "answer_due"}:
            what = "not filed in time" if d.key == "filing_due" else "no answer from the carrier"
            _close(current, ClaimState.EXPIRED, d.at, what)
        elif d.key.startswith("reminder:") or d.key == "manual_due":
            current.reminders.append(f"{d.at.isoformat()} {d.label}")
        else:
            current.checks += 1
            every = current.facts.policy.follow_up_every
            current.next_check_at = d.at + every * ((now - d.at) // every + 1)
            assert current.claim_ref is not None  # noqa: S101 - FILED always has a reference
            commands.append(CheckClaim(carrier=current.facts.carrier, claim_ref=current.claim_ref))
    return ClaimDecision(current, tuple(commands))


def decide(claim: Claim, event: ClaimEvent, now: datetime) -> ClaimDecision:
    """Apply ``event`` at ``now`` after every deadline due by then: next claim, or a refusal."""
    settled = advance(claim, now)
    current = _clone(settled.claim)
    state, facts = current.state, current.facts
    currency = facts.declared_value.currency
    commands: list[ClaimCommand] = []
    if _ACCEPTED_IN.get(type(event), state) is not state:
        return _refuse(settled, ClaimRefusal.WRONG_STATE, f"the claim is {state.value}")
    if isinstance(event, StatusReported) and event.claim_ref not in (None, current.claim_ref):
        detail = f"the answer is about claim {event.claim_ref}, not {current.claim_ref}"
        return _refuse(settled, ClaimRefusal.OTHER_CLAIM, detail)
    match event:
        case FilingRoute(by_api=True):
            key = f"{current.workflow_id}:file"
            commands.append(FileClaim(idempotency_key=key, **facts.model_dump(include=_FILED)))
        case FilingRoute():
            current.state, current.manual_since = ClaimState.AWAITING_MANUAL_FILING, now
            current.reminders.append(f"{now.isoformat()} file by hand: {event.detail or 'no API'}")
        case FiledByApi():
            _file(current, event.claim_ref, "api", now)
        case FiledManually():
            _file(current, event.reference, "operator", now)
        case StatusReported(answer=CarrierAnswer(status="paid", amount=amount)):
            if amount is None or amount.minor <= 0 or amount.currency != currency:
                return _refuse(settled, ClaimRefusal.INVALID_AMOUNT, f"paid {amount} in {currency}")
            current.paid_amount = amount
            _close(current, ClaimState.PAID, now, f"paid {amount}")
        case StatusReported(answer=CarrierAnswer(status="rejected", reason=reason)):
            _close(current, ClaimState.REJECTED, now, reason or "rejected by the carrier")
        case StatusReported() | DeadlineReached():
            pass  # still pending, or only clocks: advance() below has done the work
        case _:
            assert_never(event)
    later = advance(current, now)
    return ClaimDecision(later.claim, (*settled.commands, *commands, *later.commands))


_ACCEPTED_IN: dict[type[ClaimEvent], ClaimState] = {
    FilingRoute: ClaimState.TO_FILE,
    FiledByApi: ClaimState.TO_FILE,
    FiledManually: ClaimState.AWAITING_MANUAL_FILING,
    StatusReported: ClaimState.FILED,
}
"""The one state each event applies in (any other is refused); DeadlineReached applies always."""
_FILED = {"carrier", "tracking_number", "proof", "declared_value"}


def _clone(claim: Claim) -> Claim:
    return Claim.model_validate(claim.model_dump())


def _refuse(done: ClaimDecision, reason: ClaimRefusal, detail: str) -> ClaimDecision:
    return ClaimDecision(done.claim, done.commands, reason, detail)


def _file(claim: Claim, ref: str, by: Literal["api", "operator"], now: datetime) -> None:
    claim.state, claim.claim_ref, claim.filed_by, claim.filed_at = ClaimState.FILED, ref, by, now
    claim.answer_due = now + claim.facts.policy.answer_within
    claim.next_check_at = now + claim.facts.policy.follow_up_every


def _close(claim: Claim, state: ClaimState, at: datetime, outcome: str) -> None:
    claim.state, claim.closed_at, claim.outcome = state, at, outcome
