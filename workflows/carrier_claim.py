"""The carrier-claim workflow (R17): one per lost or damaged parcel, driving ``domain.claims``."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.claims import ClaimActivities
    from activities.errors import NON_RETRYABLE
    from domain.claims import (
        FINAL_STATES,
        CarrierAnswer,
        CheckClaim,
        Claim,
        ClaimCommand,
        ClaimDeadline,
        ClaimDecision,
        ClaimEvent,
        ClaimFacts,
        DeadlineReached,
        FileClaim,
        FiledByApi,
        FiledManually,
        FilingRoute,
        StatusReported,
        advance,
        decide,
        open_claim,
        pending_deadlines,
    )
    from workflows.clock import sleep_until

CLAIMS_CALL = timedelta(seconds=30)
FILE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,  # then an operator files by hand, well before the filing deadline
    non_retryable_error_types=NON_RETRYABLE,
)
CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,  # a status read that keeps failing waits for the next follow-up
    non_retryable_error_types=NON_RETRYABLE,
)


def claim_workflow_id(carrier: str, tracking_number: str) -> str:
    """The claim workflow's id: one claim per parcel."""
    return f"claim-{carrier.lower()}-{tracking_number}"


class ClaimView(BaseModel):
    """The ``view`` query: the claim as of ``as_of``, and its clocks still to come."""

    claim: Claim
    deadlines: list[ClaimDeadline]
    as_of: datetime


class ClaimStatusPush(BaseModel):
    """The ``status_pushed`` signal: the carrier pushed a claim's status (an EasyPost webhook)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    """The carrier's event id (it may deliver one event more than once)."""
    claim_ref: str
    """The carrier's claim id: a push about another claim changes nothing."""
    status: str
    """The carrier's own word for the status (``approved``), for the logs."""
    answer: CarrierAnswer


@workflow.defn(name="CarrierClaim")
class CarrierClaimWorkflow:
    """Files one claim exactly once, then follows it up until it is paid, rejected or expired."""

    @workflow.init
    def __init__(self, facts: ClaimFacts) -> None:
        # Opened here, not in run(): an operator's update may arrive with the start.
        self._opened = open_claim(facts, workflow.info().workflow_id, workflow.now())
        self._claim = self._opened.claim
        self._outbox: list[ClaimCommand] = []
        self._woken = False
        self._details = ""

    @workflow.run
    async def run(self, facts: ClaimFacts) -> Claim:
        """Route the filing (API or operator), then follow the claim until its end."""
        opened = self._opened
        if opened.refusal is not None:
            raise ApplicationError(opened.detail, type=opened.refusal.value, non_retryable=True)
        self._commit(opened)
        by_api = await workflow.execute_activity_method(
            ClaimActivities.supports_api,
            facts.carrier,
            start_to_close_timeout=CLAIMS_CALL,
            retry_policy=CHECK_RETRY,
        )
        self._apply(FilingRoute(by_api=by_api))
        await self._run_outbox()
        while self._claim.state not in FINAL_STATES:
            await self._sleep_until_next_deadline_or_event()
            self._apply(DeadlineReached())
            await self._run_outbox()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._claim

    @workflow.update
    def filed_manually(self, reference: str) -> ClaimView:
        """An operator filed the claim by hand: ``reference`` is the carrier's claim number."""
        self._commit(self._decide_or_refuse(FiledManually(reference=reference)))
        self._woken = True
        return self.view()

    @filed_manually.validator
    def _validate_filed_manually(self, reference: str) -> None:
        if not reference.strip():
            msg = "a manual filing needs the carrier's claim reference"
            raise ApplicationError(msg, type="missing_reference", non_retryable=True)
        self._decide_or_refuse(FiledManually(reference=reference))

    @workflow.signal
    def status_pushed(self, push: ClaimStatusPush) -> None:
        """The carrier pushed the claim's status: taken like a polled one (the same status twice
        changes nothing), and the wait for the next follow-up, the safety net, ends early."""
        workflow.logger.info("claim status pushed: %s (%s)", push.status, push.event_id)
        self._apply(StatusReported(answer=push.answer, claim_ref=push.claim_ref))
        self._woken = True

    @workflow.query
    def view(self) -> ClaimView:
        """The claim with every clock that ran out by now, and the clocks still to come."""
        now = workflow.now()
        claim = advance(self._claim, now).claim
        return ClaimView(claim=claim, deadlines=pending_deadlines(claim), as_of=now)

    async def _run_outbox(self) -> None:
        while self._outbox:
            command = self._outbox.pop(0)
            if isinstance(command, FileClaim):
                await self._file(command)
            else:
                await self._check(command)

    async def _file(self, command: FileClaim) -> None:
        try:
            ref = await workflow.execute_activity_method(
                ClaimActivities.file_claim,
                command,
                start_to_close_timeout=CLAIMS_CALL,
                retry_policy=FILE_RETRY,
                summary=command.idempotency_key,
            )
        except ActivityError as failure:
            workflow.logger.warning("filing by API failed: %s", failure.cause)
            self._apply(FilingRoute(by_api=False, detail=f"API filing failed: {failure.cause}"))
            return
        self._apply(FiledByApi(claim_ref=ref))

    async def _check(self, command: CheckClaim) -> None:
        try:
            answer = await workflow.execute_activity_method(
                ClaimActivities.claim_status,
                command,
                start_to_close_timeout=CLAIMS_CALL,
                retry_policy=CHECK_RETRY,
                summary=command.claim_ref,
            )
        except ActivityError as failure:
            workflow.logger.warning("claim follow-up failed: %s", failure.cause)
            return
        self._apply(StatusReported(answer=answer))

    async def _sleep_until_next_deadline_or_event(self) -> None:
        if self._outbox:
            return
        deadlines = pending_deadlines(self._claim)
        first = deadlines[0].at if deadlines else None
        if await sleep_until(first, lambda: self._woken):
            self._woken = False

    def _decide_or_refuse(self, event: ClaimEvent) -> ClaimDecision:
        decision = decide(self._claim, event, workflow.now())
        if decision.refusal is not None:
            raise ApplicationError(decision.detail, type=decision.refusal.value, non_retryable=True)
        return decision

    def _apply(self, event: ClaimEvent) -> None:
        """Apply a fact from the carrier or a clock; a refused fact is logged, never fatal."""
        decision = decide(self._claim, event, workflow.now())
        if decision.refusal is not None:
            workflow.logger.warning("claim ignored %s: %s", type(event).__name__, decision.detail)
        self._commit(decision)

    def _commit(self, decision: ClaimDecision) -> None:
        self._claim = decision.claim
        self._outbox.extend(decision.commands)
        details = _details(self._claim, pending_deadlines(self._claim))
        if details != self._details:
            self._details = details
            workflow.set_current_details(details)


def _details(claim: Claim, deadlines: list[ClaimDeadline]) -> str:
    facts = claim.facts
    lines = [f"**claim {claim.state.value}**", f"{facts.carrier} {facts.tracking_number}"]
    if claim.claim_ref:
        lines.append(f"claim ref: {claim.claim_ref} (filed by {claim.filed_by})")
    lines.extend(f"pending: {d.label} until {d.at.isoformat()}" for d in deadlines[:3])
    lines.extend(f"reminder: {r}" for r in claim.reminders[-3:])
    if claim.outcome:
        lines.append(claim.outcome)
    return "\n\n".join(lines)
