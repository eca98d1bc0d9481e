"""The simulated claims desk's state: insured parcels, claims, fault plans and the ledger."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from adapters.easypost.sim.rules import FINAL, NewClaim, SimRefusal, invalid, within_insurance
from domain.money import Money

ENDPOINTS = ("create", "retrieve", "list", "cancel")
SETTLEMENTS = {
    "in_review": "Claim is under review.",
    "needs_action": "More information is needed to process the claim.",
    "approved": "Claim was approved.",
    "approved_partial": "Claim was partially approved.",
    "rejected": "",
}
"""What an operator (or a test) can move a claim to, with the default status detail."""


class Fault(StrEnum):
    """What the API does to the next calls of one endpoint (after the API key check)."""

    ERROR_5XX = "error_5xx"
    """Answer 503 without doing anything."""
    RATE_LIMITED = "rate_limited"
    """Answer 429 with ``Retry-After`` without doing anything."""
    STALL = "stall"
    """Sleep ``stall_seconds`` (past the client's timeout), do nothing, then answer 504."""
    EXECUTE_THEN_DROP = "execute_then_drop"
    """Do the work (create the claim), then answer 500 with an empty body: the answer is lost."""


@dataclass(frozen=True)
class Insurance:
    """An insured parcel: claims on its tracking code may ask up to ``amount``."""

    insurance_id: str
    tracking_code: str
    amount: Money
    shipment_id: str


@dataclass(frozen=True)
class HistoryEntry:
    """One status a claim went through."""

    status: str
    status_detail: str
    at: datetime


@dataclass
class SimClaim:
    """A claim on the desk."""

    seq: int
    claim_id: str
    filed: NewClaim
    insurance: Insurance
    created_at: datetime
    history: list[HistoryEntry] = field(default_factory=list)
    approved: Money | None = None

    @property
    def current(self) -> HistoryEntry:
        """The claim's latest status."""
        return self.history[-1]


@dataclass(frozen=True)
class LedgerEntry:
    """One side effect: a claim filed, moved on or cancelled, with the filer's reference."""

    seq: int
    at: datetime
    kind: str
    claim_id: str
    tracking_code: str
    reference: str
    amount_minor: int | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        """The entry as ``GET /sim/ledger`` shows it."""
        return {**asdict(self), "at": self.at.isoformat()}


class SimState:
    """Everything the simulator knows. Thread-safe: tests drive it while the server runs.

    ``auto_insure`` insures any unknown tracking code up to that amount on its first claim
    (the dev stack's demo parcels); without it a parcel must be insured (``insure``) first.
    With ``webhook_url``, the app POSTs an Event signed with ``webhook_secret`` there whenever
    a claim's status changes (``sim.webhooks``).
    """

    def __init__(
        self,
        api_key: str = "sim-easypost-key",
        *,
        now: Callable[[], datetime] | None = None,
        auto_insure: Money | None = None,
        stall_seconds: float = 5.0,
        retry_after: float = 1.0,
        webhook_url: str | None = None,
        webhook_secret: str = "",
    ) -> None:
        self.api_key = api_key
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.auto_insure = auto_insure
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after
        self.lock = threading.RLock()
        self._clock = now or (lambda: datetime.now(UTC))
        self.insurances: dict[str, Insurance] = {}
        self.claims: dict[str, SimClaim] = {}
        self._ledger: list[LedgerEntry] = []
        self._faults: dict[str, list[Fault]] = {}

    def now(self) -> datetime:
        """The desk's time (whole seconds, as EasyPost's timestamps)."""
        return self._clock().replace(microsecond=0)

    def set_now(self, when: datetime) -> None:
        """Freeze the clock at ``when``."""
        with self.lock:
            self._clock = lambda: when

    def advance(self, delta: timedelta) -> None:
        """Move a frozen clock forward (freezes a live one first)."""
        self.set_now(self._clock() + delta)

    def insure(self, tracking_code: str, amount: Money) -> Insurance:
        """Insure a parcel for ``amount`` (USD)."""
        if amount.currency != "USD" or amount.minor <= 0:
            raise invalid("amount", "insurance is a positive USD amount")
        with self.lock:
            insurance = Insurance(_id("ins"), tracking_code.strip(), amount, _id("shp"))
            self.insurances[_fold(tracking_code)] = insurance
            return insurance

    def file(self, new: NewClaim) -> SimClaim:
        """Create a claim: the parcel is insured, asks at most that, and has no active claim."""
        with self.lock:
            insurance = self.insurances.get(_fold(new.tracking_code))
            if insurance is None and self.auto_insure is not None:
                insurance = self.insure(new.tracking_code, self.auto_insure)
            if insurance is None:
                reasons = ["No eligible insurance found with provided tracking code."]
                message = "The requested resource could not be found."
                raise SimRefusal(404, "NOT_FOUND", message, reasons)
            within_insurance(new, insurance.amount)
            if active := self.active_claim(new.tracking_code):
                errors = [{"field": "tracking_code", "message": f"has a claim: {active}"}]
                message = "A claim already exists for this shipment."
                raise SimRefusal(422, "CLAIM.DUPLICATE", message, errors)
            now = self.now()
            claim = SimClaim(len(self.claims) + 1, _id("clm"), new, insurance, now)
            claim.history.append(HistoryEntry("submitted", "Claim was created.", now))
            self.claims[claim.claim_id] = claim
            self._record("claim_filed", claim, new.amount.minor)
            return claim

    def active_claim(self, tracking_code: str) -> str | None:
        """The id of the parcel's claim that is not cancelled, if any."""
        with self.lock:
            wanted = _fold(tracking_code)
            return next(
                (
                    c.claim_id
                    for c in self.claims.values()
                    if _fold(c.filed.tracking_code) == wanted and c.current.status != "cancelled"
                ),
                None,
            )

    def claim(self, claim_id: str) -> SimClaim:
        """One claim, or EasyPost's not-found answer."""
        with self.lock:
            found = self.claims.get(claim_id)
            if found is None:
                message = "The requested resource could not be found."
                raise SimRefusal(404, "NOT_FOUND", message, [f"no claim {claim_id}"])
            return found

    def newest_first(self) -> list[SimClaim]:
        """Every claim, the latest filed first (as the list endpoint pages them)."""
        with self.lock:
            return sorted(self.claims.values(), key=lambda c: c.seq, reverse=True)

    def cancel(self, claim_id: str) -> SimClaim:
        """The filer withdraws a claim that is not settled yet."""
        with self.lock:
            claim = self.claim(claim_id)
            if claim.current.status in FINAL:
                raise invalid("id", f"a {claim.current.status} claim cannot be cancelled")
            claim.history.append(
                HistoryEntry("cancelled", "Claim cancellation was requested.", self.now())
            )
            self._record("claim_cancelled", claim)
            return claim

    def settle(
        self, claim_id: str, outcome: str, amount: Money | None = None, detail: str = ""
    ) -> SimClaim:
        """The claims desk moves a claim on: review, ask for more, approve (in part), reject."""
        with self.lock:
            claim = self.claim(claim_id)
            if claim.current.status in FINAL:
                message = f"the claim is already {claim.current.status}"
                raise SimRefusal(409, "CLAIM.FINAL", message)
            if outcome not in SETTLEMENTS:
                raise invalid("outcome", f"must be one of {', '.join(SETTLEMENTS)}")
            requested = claim.filed.amount
            if outcome == "approved":
                claim.approved = requested
            elif outcome == "approved_partial":
                if amount is None or not 0 < amount.minor < requested.minor:
                    raise invalid("amount", "a partial approval pays more than 0, less than asked")
                claim.approved = amount
            elif outcome == "rejected" and not detail.strip():
                raise invalid("detail", "a rejection says why")
            status_detail = detail.strip() or SETTLEMENTS[outcome]
            claim.history.append(HistoryEntry(outcome, status_detail, self.now()))
            paid = claim.approved.minor if claim.approved else None
            self._record(f"claim_{outcome}", claim, paid, status_detail)
            return claim

    def inject(self, endpoint: str, fault: Fault, count: int = 1) -> None:
        """Apply ``fault`` to the next ``count`` calls of ``endpoint``."""
        if endpoint not in ENDPOINTS:
            raise invalid("endpoint", f"must be one of {', '.join(ENDPOINTS)}")
        with self.lock:
            self._faults.setdefault(endpoint, []).extend([fault] * count)

    def take_fault(self, endpoint: str) -> Fault | None:
        """The fault planned for this call of ``endpoint``, used up."""
        with self.lock:
            planned = self._faults.get(endpoint)
            return planned.pop(0) if planned else None

    def ledger(
        self, *, reference: str | None = None, tracking_code: str | None = None
    ) -> list[LedgerEntry]:
        """Every side effect so far, optionally one filer reference's or one parcel's."""
        with self.lock:
            return [
                e
                for e in self._ledger
                if reference in (None, e.reference)
                and (tracking_code is None or _fold(e.tracking_code) == _fold(tracking_code))
            ]

    def filings(self, tracking_code: str) -> list[LedgerEntry]:
        """The claims filed on one parcel (a correct client files exactly one)."""
        return [e for e in self.ledger(tracking_code=tracking_code) if e.kind == "claim_filed"]

    def _record(
        self, kind: str, claim: SimClaim, amount: int | None = None, detail: str = ""
    ) -> None:
        entry = LedgerEntry(
            seq=len(self._ledger) + 1,
            at=self.now(),
            kind=kind,
            claim_id=claim.claim_id,
            tracking_code=claim.filed.tracking_code,
            reference=claim.filed.reference,
            amount_minor=amount,
            detail=detail,
        )
        self._ledger.append(entry)


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _fold(tracking_code: str) -> str:
    return tracking_code.strip().upper()
