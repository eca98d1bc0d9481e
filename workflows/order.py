"""The order workflow: one per order, a thin deterministic driver of ``domain.lifecycle``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.numbers import NumberClaim
    from domain.alternatives import withdrawal_alternatives
    from domain.claims import ClaimFacts
    from domain.commands import (
        CheckCarrier,
        Command,
        OpenCarrierClaim,
        SendTrackingUpload,
        SendWithdrawal,
        StartReship,
    )
    from domain.errors import (
        PERMANENT_FAILURE,
        PLATFORM_REFUSED_FAILURE,
        RefusalReason,
        reason_named,
    )
    from domain.events import (
        AttachPackingVideo,
        CarrierChecked,
        Event,
        Fact,
        ProposeSolution,
        RefusedByPlatform,
        RespondToDispute,
        UploadTracking,
        WithdrawTracking,
    )
    from domain.evidence import loss_proof, missing_loss_proof
    from domain.lifecycle import Decision, advance, counts_at, decide
    from domain.order import (
        Order,
        OrderFacts,
        Shipment,
        pending_deadlines,
        replacement_order_id,
    )
    from domain.states import EventKind
    from workflows import order_calls as calls
    from workflows import search_attributes as sa
    from workflows.carrier_claim import CarrierClaimWorkflow, claim_workflow_id
    from workflows.clock import sleep_until
    from workflows.messages import FactEnvelope, OrderInput, OrderOutcome, OrderView
    from workflows.order_publication import details, health_records, search_attribute_values
    from workflows.store_health import HealthRecord, ShippedRecord, WithdrawalRecord

CARRIER_CHECK_PATCH = "carrier-check-r8"
NUMBER_CLAIMS_PATCH = "number-claims-r2"
STORE_HEALTH_PATCH = "store-health-r7"
WITHDRAWAL_CHECK_PATCH = "withdrawal-asks-carrier-r8"
"""Right before a withdrawal is sent, ask the carrier for scans; afterwards stop tracking it."""
CHECK_ASIDE_PATCH = "carrier-check-aside"
"""The R8 carrier check runs beside the order's clocks instead of holding them up."""
RESHIP_CLAIM_PATCH = "reship-number-claims-r2"
"""A reship's number is claimed (for its replacement order) before the solution is sent."""
FOLLOW_AT_UPLOAD_PATCH = "follow-at-upload"
"""An upload registers its number with the tracking service at once, tagged with the order."""
STOP_AT_END_PATCH = "stop-tracking-at-end"
"""An order that ends stops the tracking of the number it carries (17TRACK ``stoptrack``)."""
FAILED_UPLOAD_PATCH = "failed-upload-undone"
"""An upload whose platform call failed for good (not a refusal: the authorisation lost, a
request the platform cannot take) is undone like a refused one: the number was never sent."""
FACT_TIME_PATCH = "fact-counts-when-it-happened"
"""A fact handed over late, in one workflow task with a timer that fired after it, counts at the
time it happened (``domain.lifecycle.counts_at``), not after the timer."""
_NOT_CREATED = "the order-creation hook has not arrived yet"
_NEVER_CREATED = "no order-creation hook arrived: the early facts were dropped"


@workflow.defn(name="Order")
class OrderWorkflow:
    """Keeps one order's state, fires its clocks, runs its platform calls exactly once."""

    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        # Set from the input here, not in run(): signals and updates delivered with the start
        # are handled before run() begins, and must see (and keep) the same order.
        self._order: Order | None = inp.carried or (Order.new(inp.facts) if inp.facts else None)
        self._woken = False
        self._commands = asyncio.Lock()
        self._published: dict[str, Any] = {}
        self._early_facts: list[Fact] = []
        self._outbox: list[CheckCarrier] = []
        self._untrack: list[Shipment] = []
        self._follow: list[Shipment] = []
        self._aside: list[Awaitable[None]] = []
        """Calls to the tracking service started beside the order's clocks (a carrier check, a
        stop of tracking): the order awaits them before it ends or continues as new."""
        self._health: list[HealthRecord] = []
        self._decided_until = workflow.now()
        """The latest time the order was decided at: a late fact never counts before it."""

    @property
    def order(self) -> Order:
        assert self._order is not None  # noqa: S101 - set before any handler runs
        return self._order

    @workflow.run
    async def run(self, inp: OrderInput) -> OrderOutcome:
        """Drive the order until its life ends, continuing as new when history grows long."""
        if self._order is None:
            created = await self._wait_for_creation(inp)
            if not created:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return OrderOutcome(state=None, resolution=_NEVER_CREATED, order=None)
        if inp.carried is None and workflow.patched(CARRIER_CHECK_PATCH):
            self.order.checks_carrier = True
        self._commit(advance(self.order, workflow.now()), wake=False)
        if inp.reship is not None and inp.carried is None and self.order.shipment is None:
            await self._ship_replacement(*inp.reship)
        while not self.order.state.is_terminal:
            if self._history_too_long(inp):
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._aside_done()
                await self._report_health()
                workflow.continue_as_new(inp.model_copy(update={"carried": self.order}))
            await self._run_outbox()
            await self._report_health()
            await self._sleep_until_next_deadline_or_event()
            self._commit(advance(self.order, workflow.now()), wake=False)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.order.shipment is not None and workflow.patched(STOP_AT_END_PATCH):
            self._untrack.append(self.order.shipment)
        await self._aside_done()
        await self._report_health()
        if self.order.shipment is not None:
            # R2: a number once used stays a duplicate for the policy's period after the end.
            keep_until = workflow.now() + self.order.policy.number_reuse_after
            shipment = self.order.shipment
            await self._release(shipment.carrier, shipment.tracking_number, keep_until)
        return OrderOutcome(
            state=self.order.state, resolution=self.order.resolution, order=self.order
        )

    async def _ship_replacement(self, carrier: str, number: str) -> None:
        try:
            await self._run_command(UploadTracking(carrier=carrier, tracking_number=number))
        except ApplicationError as refused:
            workflow.logger.warning("replacement parcel not followed: %s", refused.message)
            self.order.notices.append(f"replacement {carrier} {number} refused: {refused.message}")

    async def _start_reship(self, command: StartReship) -> None:
        """R16: the replacement parcel as its own order workflow, linked and left to run on."""
        facts = self.order.facts
        child = facts.model_copy(
            update={
                "order_id": replacement_order_id(facts.order_id, command.seq),
                "paid_at": workflow.now(),
                "eta": None,
                "platform_supports_withdrawal": False,
                "reship_of": facts.workflow_id,
            }
        )
        replacement = await workflow.start_child_workflow(
            OrderWorkflow.run,
            OrderInput(facts=child, reship=(command.carrier, command.tracking_number)),
            id=child.workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"replacement parcel of order {facts.order_id}",
        )
        replacement.add_done_callback(_left_to_run_on)

    async def _open_claim(self, command: OpenCarrierClaim) -> None:
        """R17: the claim on the lost parcel, its own workflow, left to run after the order."""
        # Only the child's input changes with the proof: replay compares no child input.
        lost = loss_proof(self.order)
        if lost is not None and lost.tracking_number != command.tracking_number:
            lost = None
        claim = ClaimFacts(
            order_workflow_id=self.order.facts.workflow_id,
            carrier=command.carrier,
            tracking_number=command.tracking_number,
            proof=lost.reference if lost else missing_loss_proof(command.tracking_number),
            declared_value=command.declared_value,
            loss_confirmed_at=lost.at if lost else None,
        )
        claimed = await workflow.start_child_workflow(
            CarrierClaimWorkflow.run,
            claim,
            id=claim_workflow_id(command.carrier, command.tracking_number),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        claimed.add_done_callback(_left_to_run_on)

    async def _wait_for_creation(self, inp: OrderInput) -> bool:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._order is not None, timeout=inp.wait_for_creation
            )
        return self._order is not None

    async def _aside_done(self) -> None:
        """Every call started aside, done (before the run ends or continues as new)."""
        self._start_stopping()
        while self._aside:
            pending, self._aside = self._aside, []
            await asyncio.gather(*pending)

    def _start_stopping(self) -> None:
        while self._follow:
            self._aside.append(calls.follow_tracking(self._follow.pop(0)))
        while self._untrack:
            self._aside.append(calls.stop_tracking(self._untrack.pop(0)))

    async def _run_outbox(self) -> None:
        self._start_stopping()
        while self._outbox:
            check = self._outbox.pop(0)
            if workflow.patched(CHECK_ASIDE_PATCH):
                self._aside.append(asyncio.ensure_future(self._check_carrier(check, aside=True)))
            else:
                await self._check_carrier(check, aside=False)

    async def _check_carrier(self, check: CheckCarrier, *, aside: bool) -> None:
        """R8: ask the carrier whether it knows the number, and take its answer as a fact."""
        known = await calls.carrier_knows(check, bounded=aside)
        if known is None:
            return
        fact = CarrierChecked(
            event_id=check.idempotency_key,
            at=workflow.now(),
            known=known,
            tracking_number=check.tracking_number,
        )
        # Aside, the answer may come while the order sleeps: wake it to plan its clocks again.
        self._commit(decide(self.order, fact, workflow.now()), wake=aside)

    async def _report_health(self) -> None:
        while self._health:
            await calls.report_health(self._health.pop(0))

    def _note(self, record: HealthRecord) -> None:
        if workflow.patched(STORE_HEALTH_PATCH):
            self._health.append(record)
            self._woken = True

    async def _sleep_until_next_deadline_or_event(self) -> None:
        if self._outbox or self._health or self._untrack or self._follow:
            return
        deadlines = pending_deadlines(self.order)
        first = min((d.wake_at for d in deadlines), default=None)
        if await sleep_until(first, lambda: self._woken):
            self._woken = False

    def _history_too_long(self, inp: OrderInput) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= inp.continue_as_new_after
        )

    # Outside facts ---------------------------------------------------------------------------

    @workflow.signal
    def created(self, facts: OrderFacts) -> None:
        """The order-creation hook: the order exists (repeated deliveries change nothing)."""
        if self._order is not None:
            return
        order = Order.new(facts)
        for early in self._early_facts:
            order = decide(order, early, workflow.now()).order
        self._early_facts.clear()
        self._order = order
        self._woken = True

    @workflow.signal
    def fact(self, envelope: FactEnvelope) -> None:
        """A carrier scan, ETA change, delivery, buyer confirmation or dispute (de-duplicated)."""
        if self._order is None:
            self._early_facts.append(envelope.fact)
            return
        at = self._fact_time(envelope.fact)
        self._commit(decide(self.order, envelope.fact, at), at=at)

    def _fact_time(self, fact: Fact) -> datetime:
        now = workflow.now()
        at = counts_at(self.order, fact, now, self._decided_until)
        if at != now and workflow.patched(FACT_TIME_PATCH):
            return at
        return now

    # Seller commands -------------------------------------------------------------------------

    @workflow.update
    async def upload_tracking(self, command: UploadTracking) -> OrderView:
        """Ship the order: attach a carrier and tracking number (R1, R2)."""
        return await self._run_command(command)

    @upload_tracking.validator
    def _validate_upload(self, command: UploadTracking) -> None:
        self._refuse_if_forbidden(command)

    @workflow.update
    async def withdraw_tracking(self) -> OrderView:
        """Withdraw the tracking number inside the cancel window (R4, R5)."""
        return await self._run_command(WithdrawTracking())

    @withdraw_tracking.validator
    def _validate_withdraw(self) -> None:
        self._refuse_if_forbidden(WithdrawTracking())

    @workflow.update
    async def respond_to_dispute(self, command: RespondToDispute) -> OrderView:
        """Give the dispute's first response (R14)."""
        return await self._run_command(command)

    @respond_to_dispute.validator
    def _validate_respond(self, command: RespondToDispute) -> None:
        self._refuse_if_forbidden(command)

    @workflow.update
    async def propose_solution(self, command: ProposeSolution) -> OrderView:
        """Offer a refund, partial refund, reship or return (R14)."""
        return await self._run_command(command)

    @propose_solution.validator
    def _validate_propose(self, command: ProposeSolution) -> None:
        self._refuse_if_forbidden(command)

    @workflow.update
    async def attach_packing_video(self, command: AttachPackingVideo) -> OrderView:
        """Record the packing-video still of a high-value order (R13)."""
        return await self._run_command(command)

    @attach_packing_video.validator
    def _validate_video(self, command: AttachPackingVideo) -> None:
        self._refuse_if_forbidden(command)

    @workflow.query
    def view(self) -> OrderView:
        """State, timeline and next deadlines."""
        if self._order is None:
            raise ApplicationError(_NOT_CREATED, type="not_created")
        return self._view()

    def _refuse_if_forbidden(self, command: Event) -> None:
        if self._order is None:
            raise ApplicationError(_NOT_CREATED, type="wrong_state", non_retryable=True)
        decision = decide(self.order, command, workflow.now())
        if decision.refusal is not None:
            raise ApplicationError(decision.detail, type=decision.refusal.value, non_retryable=True)

    async def _run_command(self, command: Event) -> OrderView:
        async with self._commands:
            decision = self._decide_or_refuse(command)
            if isinstance(command, WithdrawTracking) and workflow.patched(WITHDRAWAL_CHECK_PATCH):
                decision = await self._ask_carrier_before_withdrawing(command, decision)
            claim = self._claim_of(decision)
            if claim is not None:
                await calls.claim_number(claim)
                # Facts may have arrived while the claim ran: decide again on the latest order.
                try:
                    decision = self._decide_or_refuse(command)
                except ApplicationError:
                    await self._release(claim.carrier, claim.number, holder=claim.holder)
                    raise
            withdrawn = self.order.shipment if isinstance(command, WithdrawTracking) else None
            self._commit(decision)
            for side_effect in decision.commands:
                if isinstance(side_effect, StartReship):
                    await self._start_reship(side_effect)
                elif isinstance(side_effect, OpenCarrierClaim):
                    await self._open_claim(side_effect)
                elif not isinstance(side_effect, CheckCarrier):
                    await self._execute(side_effect)
            ids = {"seller_id": self.order.facts.seller_id, "order_id": self.order.facts.order_id}
            shipment = self.order.shipment
            if isinstance(command, UploadTracking) and shipment is not None:
                at = shipment.uploaded_at
                self._note(ShippedRecord(**ids, at=at))
                if self.order.checks_carrier and workflow.patched(FOLLOW_AT_UPLOAD_PATCH):
                    self._follow.append(shipment)  # pushes from the first scan on
                    self._woken = True
            if withdrawn is not None and self.order.shipment is None:
                at = withdrawn.withdrawn_at or workflow.now()
                self._note(WithdrawalRecord(**ids, at=at, seq=withdrawn.seq))
                await self._release(withdrawn.carrier, withdrawn.tracking_number)
                if workflow.patched(WITHDRAWAL_CHECK_PATCH):
                    # R10: no longer this order's parcel. After the update: the seller's
                    # answer does not wait on the tracking service.
                    self._untrack.append(withdrawn)
                    self._woken = True
            return self._view()

    def _claim_of(self, decision: Decision) -> NumberClaim | None:
        """The number an upload (or, since ``reship-number-claims-r2``, a reship) must claim."""
        facts = self.order.facts
        for command in decision.commands:
            if isinstance(command, SendTrackingUpload) and workflow.patched(NUMBER_CLAIMS_PATCH):
                holder = facts.workflow_id
                return calls.number_claim(command.carrier, command.tracking_number, holder)
            if (
                isinstance(command, StartReship)
                and workflow.patched(NUMBER_CLAIMS_PATCH)
                and workflow.patched(RESHIP_CLAIM_PATCH)
            ):
                replacement = facts.model_copy(
                    update={"order_id": replacement_order_id(facts.order_id, command.seq)}
                )
                holder = replacement.workflow_id
                return calls.number_claim(command.carrier, command.tracking_number, holder)
        return None

    async def _ask_carrier_before_withdrawing(
        self, command: WithdrawTracking, decision: Decision
    ) -> Decision:
        """R8: a scan the carrier has but has not pushed yet locks the order: the withdrawal is
        then refused ``carrier_scanned`` and nothing reaches the platform."""
        shipment = self.order.shipment
        if shipment is None or not decision.commands:
            return decision
        facts = await calls.carrier_scans(shipment)
        for fact in facts:
            self._commit(decide(self.order, fact, workflow.now()), wake=False)
        return self._decide_or_refuse(command) if facts else decision

    def _decide_or_refuse(self, command: Event) -> Decision:
        decision = decide(self.order, command, workflow.now())
        if decision.refusal is not None:
            raise ApplicationError(decision.detail, type=decision.refusal.value, non_retryable=True)
        return decision

    async def _release(
        self,
        carrier: str,
        number: str,
        keep_until: datetime | None = None,
        holder: str | None = None,
    ) -> None:
        """Free the order's claim on a number, or with ``keep_until`` keep it taken until then."""
        if workflow.patched(NUMBER_CLAIMS_PATCH):
            claim = calls.number_claim(carrier, number, holder or self.order.facts.workflow_id)
            await calls.release_number(claim.model_copy(update={"keep_until": keep_until}))

    async def _execute(self, command: Command) -> None:
        try:
            await calls.platform_call(command, calls.platform_due(self.order, command))
        except ActivityError as failure:
            cause = failure.cause
            kind = _REFUSAL_KIND.get(type(command))
            if not isinstance(cause, ApplicationError):
                raise
            details = list(cause.details)  # (reason, message) of a refusal
            if (
                cause.type == PERMANENT_FAILURE
                and isinstance(command, SendTrackingUpload)
                and workflow.patched(FAILED_UPLOAD_PATCH)
            ):
                details = [RefusalReason.PLATFORM_FAILED.value, cause.message]
            elif cause.type != PLATFORM_REFUSED_FAILURE:
                raise
            if kind is None:
                workflow.logger.warning("platform refused %s: %s", command.kind, cause.message)
                raise ApplicationError(
                    cause.message, type=RefusalReason.PLATFORM_REFUSED.value, non_retryable=True
                ) from failure
            code, message = [*details, RefusalReason.PLATFORM_REFUSED.value, ""][:2]
            refused = RefusedByPlatform(
                event_id=f"{command.idempotency_key}:refused",
                at=workflow.now(),
                kind=kind,
                code=str(code),
                message=str(message),
            )
            self._commit(decide(self.order, refused, workflow.now()))
            if isinstance(command, SendTrackingUpload):
                await self._release(command.carrier, command.tracking_number)
            raise ApplicationError(
                f"the marketplace refused: {code} {message}".strip(),
                type=(self.order.lock_reason or reason_named(str(code))).value,
                non_retryable=True,
            ) from failure

    # State publication -----------------------------------------------------------------------

    def _commit(self, decision: Decision, *, wake: bool = True, at: datetime | None = None) -> None:
        """Make ``decision``, taken ``at`` (else now), the order's state; ``wake`` re-plans the
        main loop's timer."""
        at = at or workflow.now()
        self._decided_until = at
        if self._order is not None:
            for record in health_records(self._order, decision.order, at):
                self._note(record)
        self._order = decision.order
        self._outbox.extend(c for c in decision.commands if isinstance(c, CheckCarrier))
        for deadline in decision.fired:
            workflow.logger.info("deadline reached: %s (%s)", deadline.label, deadline.kind.value)
        self._woken = self._woken or wake
        self._publish()

    def _publish(self) -> None:
        order = self.order
        deadlines = pending_deadlines(order)
        values = search_attribute_values(order, deadlines)
        if values == self._published:
            return
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in sa.ALL:
            value = values[key.name]
            if self._published.get(key.name, ...) != value:
                updates.append(key.value_unset() if value is None else key.value_set(value))
        self._published = values
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(details(order, deadlines))

    def _view(self) -> OrderView:
        # Show every clock that ran out by now, even if its timer task is still in flight.
        now = workflow.now()
        order = advance(self.order, now).order
        stuck = order.locked_at is not None or not order.facts.platform_supports_withdrawal
        ways = withdrawal_alternatives(order, now) if stuck else []
        return OrderView(
            order=order, deadlines=pending_deadlines(order), as_of=now, alternatives=ways
        )


def _left_to_run_on(child: asyncio.Task[Any]) -> None:
    """A linked workflow's end, even a failure or a termination, is its own to report: the order
    takes note of it here so that it is never logged as an exception nobody retrieved."""
    if not child.cancelled():
        child.exception()


_REFUSAL_KIND: dict[type[Command], EventKind] = {
    SendTrackingUpload: EventKind.PLATFORM_REFUSED_UPLOAD,
    SendWithdrawal: EventKind.PLATFORM_REFUSED_WITHDRAWAL,
}
