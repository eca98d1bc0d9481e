"""The client side of the order workflows: one seam for the hook server, the CLI and the demo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.numbers import holder_of
from domain.carriers import carrier_codes
from domain.claims import Claim
from domain.disputes import Solution
from domain.errors import RefusalReason, Refused
from domain.events import Fact, ProposeSolution, RespondToDispute, UploadTracking
from domain.evidence import EvidenceBundle, MissingLink, evidence_bundle
from domain.order import Order, OrderFacts, replacement_order_id, workflow_id_for
from workflows import search_attributes as sa
from workflows.carrier_claim import CarrierClaimWorkflow, ClaimStatusPush, claim_workflow_id
from workflows.messages import FactEnvelope, OrderInput, OrderView
from workflows.order import OrderWorkflow

V = TypeVar("V")


class Delivery(StrEnum):
    """What became of an order-creation hook or an outside fact."""

    ACCEPTED = "accepted"
    """The order's running workflow has it (started now if it did not exist; a redelivery
    changes nothing there)."""
    ALREADY_PROCESSED = "already_processed"
    """The order's workflow has ended: nothing started, nothing changed (H2)."""


class OrderNotFound(LookupError):
    """No workflow exists for this order."""


@dataclass(frozen=True)
class OrderSummary:
    """One row of an order listing (Temporal visibility)."""

    workflow_id: str
    state: str | None
    carrier: str | None
    next_deadline: datetime | None
    dispute_open: bool | None
    status: str


class Orders:
    """Start, signal, update and query order workflows on one task queue."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    def handle(self, marketplace: str, order_id: str) -> WorkflowHandle[OrderWorkflow, Any]:
        """The workflow handle of an order (its id holds no personal data)."""
        return self.client.get_workflow_handle_for(
            OrderWorkflow.run, workflow_id_for(marketplace, order_id)
        )

    async def create(self, facts: OrderFacts) -> Delivery:
        """Start the order's workflow once, however often the hook is delivered (H1, H2)."""
        return await self._signal_with_start(
            facts.marketplace, facts.order_id, OrderInput(facts=facts), "created", facts
        )

    async def holder_of(self, carrier: str, number: str) -> str | None:
        """The workflow id of the order holding ``number`` now, from its hold (R2), or None."""
        return await holder_of(self.client, carrier, number)

    async def send_fact(self, marketplace: str, order_id: str, fact: Fact) -> Delivery:
        """Deliver an outside fact; one arriving before its order is kept until it exists (H3)."""
        envelope = FactEnvelope(fact=fact)
        return await self._signal_with_start(marketplace, order_id, OrderInput(), "fact", envelope)

    async def _signal_with_start(
        self, marketplace: str, order_id: str, inp: OrderInput, signal: str, arg: object
    ) -> Delivery:
        workflow_id = workflow_id_for(marketplace, order_id)
        try:
            await self.client.start_workflow(
                OrderWorkflow.run,
                inp,
                id=workflow_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                start_signal=signal,
                start_signal_args=[arg],
                static_summary=f"order {order_id} on {marketplace}",
                search_attributes=sa.initial(marketplace),
            )
        except WorkflowAlreadyStartedError:
            return Delivery.ALREADY_PROCESSED
        return Delivery.ACCEPTED

    async def ship(self, marketplace: str, order_id: str, carrier: str, number: str) -> OrderView:
        """Upload a tracking number (refused with the rule's reason, R2/R3)."""
        command = UploadTracking(carrier=carrier, tracking_number=number)
        return await self._update(marketplace, order_id, OrderWorkflow.upload_tracking, command)

    async def withdraw(self, marketplace: str, order_id: str) -> OrderView:
        """Withdraw the tracking number (refused with the rule's reason, R4/R5)."""
        return await self._update(marketplace, order_id, OrderWorkflow.withdraw_tracking)

    async def respond(self, marketplace: str, order_id: str, message: str) -> OrderView:
        """Give the dispute's first response."""
        command = RespondToDispute(message=message)
        return await self._update(marketplace, order_id, OrderWorkflow.respond_to_dispute, command)

    async def propose(self, marketplace: str, order_id: str, solution: Solution) -> OrderView:
        """Offer a solution to the dispute."""
        command = ProposeSolution(solution=solution)
        return await self._update(marketplace, order_id, OrderWorkflow.propose_solution, command)

    async def view(self, marketplace: str, order_id: str) -> OrderView:
        """The order's state, timeline and next deadlines."""
        try:
            return await self.handle(marketplace, order_id).query(OrderWorkflow.view)
        except RPCError as error:
            raise OrderNotFound(workflow_id_for(marketplace, order_id)) from error

    async def evidence(self, marketplace: str, order_id: str) -> EvidenceBundle:
        """R15: the dispute's evidence bundle, with each replacement parcel's order workflow and
        each carrier claim's workflow the order started (one it cannot read is named missing)."""
        order = (await self.view(marketplace, order_id)).order
        replacements: list[Order] = []
        claims: list[Claim] = []
        unreadable: list[MissingLink] = []
        for reship in order.reships:
            replacement = workflow_id_for(marketplace, replacement_order_id(order_id, reship.seq))
            view, missing = await self._linked(replacement, OrderWorkflow.view)
            replacements.extend([view.order] if view else [])
            unreadable.extend([missing] if missing else [])
        for lost in order.claimed:
            claim = claim_workflow_id(lost.carrier, lost.tracking_number)
            claim_view, missing = await self._linked(claim, CarrierClaimWorkflow.view)
            claims.extend([claim_view.claim] if claim_view else [])
            unreadable.extend([missing] if missing else [])
        return evidence_bundle(order, replacements, claims, unreadable)

    async def push_claim_status(
        self, tracking_code: str, push: ClaimStatusPush
    ) -> tuple[Delivery, str] | None:
        """Signal the running claim workflow of the parcel ``tracking_code`` (its carrier is not
        in the push: each known carrier's claim id is tried, and one parcel has one claim).

        ``ALREADY_PROCESSED`` when the parcel's claim workflow has ended, None when there is
        no claim for that parcel; with the claim workflow's id otherwise.
        """
        handles = [
            self.client.get_workflow_handle_for(
                CarrierClaimWorkflow.run, claim_workflow_id(carrier, tracking_code)
            )
            for carrier in carrier_codes()
        ]
        for handle in handles:
            try:
                await handle.signal(CarrierClaimWorkflow.status_pushed, push)
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                continue  # no such workflow, or it has ended
            return Delivery.ACCEPTED, handle.id
        for handle in handles:
            try:
                await handle.describe()
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                continue
            return Delivery.ALREADY_PROCESSED, handle.id
        return None

    async def _linked(
        self, workflow_id: str, query: Callable[[Any], V]
    ) -> tuple[V | None, MissingLink | None]:
        """A linked workflow's ``view``, and why it is not whole: not found, or stopped early."""
        handle = self.client.get_workflow_handle(workflow_id)
        try:
            status = (await handle.describe()).status
            view: V = await handle.query(query)
        except RPCError as error:
            found = error.status is not RPCStatusCode.NOT_FOUND
            reason = f"not readable: {error.message}" if found else "not found"
            return None, MissingLink(workflow_id=workflow_id, reason=reason)
        except WorkflowQueryFailedError as error:
            return None, MissingLink(workflow_id=workflow_id, reason=f"not readable: {error}")
        if status in _STOPPED_EARLY:
            reason = f"{_STOPPED_EARLY[status]}: followed no further than its last recorded event"
            return view, MissingLink(workflow_id=workflow_id, reason=reason)
        return view, None

    async def list(self, query: str = "", limit: int = 100) -> list[OrderSummary]:
        """Orders matching a visibility query, e.g. ``OrderState = 'locked'``."""
        where = "WorkflowType = 'Order'" + (f" AND ({query})" if query else "")
        rows: list[OrderSummary] = []
        async for execution in self.client.list_workflows(where, limit=limit):
            attrs = execution.typed_search_attributes
            rows.append(
                OrderSummary(
                    workflow_id=execution.id,
                    state=attrs.get(sa.ORDER_STATE),
                    carrier=attrs.get(sa.CARRIER),
                    next_deadline=attrs.get(sa.NEXT_DEADLINE),
                    dispute_open=attrs.get(sa.DISPUTE_OPEN),
                    status=execution.status.name if execution.status else "UNKNOWN",
                )
            )
        return rows

    async def _update(
        self, marketplace: str, order_id: str, update: Any, *args: object
    ) -> OrderView:
        handle = self.handle(marketplace, order_id)
        try:
            view: OrderView = await handle.execute_update(update, *args)
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            if isinstance(cause, ApplicationError) and cause.type:
                raise Refused(_reason(cause.type), cause.message) from failed
            raise
        except RPCError as error:
            ended = await self._ended(handle) if error.status is RPCStatusCode.NOT_FOUND else None
            if ended is not None:
                raise Refused(RefusalReason.ORDER_ENDED, ended) from error
            raise OrderNotFound(handle.id) from error
        return view

    async def _ended(self, handle: WorkflowHandle[OrderWorkflow, Any]) -> str | None:
        """Why an order that exists takes no more commands: its life ended (in which state), or
        its workflow was stopped; None when there is no such order."""
        try:
            described = await handle.describe()
        except RPCError:
            return None
        if described.status is WorkflowExecutionStatus.COMPLETED:
            outcome = await handle.result()
            state = outcome.state.value if outcome.state else "never created"
            why = f" ({outcome.resolution})" if outcome.resolution else ""
            return f"the order has ended: {state}{why}"
        if described.status is WorkflowExecutionStatus.CONTINUED_AS_NEW:
            return None  # its next run takes the command; a race with the hand-over
        status = described.status.name.lower() if described.status else "closed"
        return f"the order's workflow was {status}: it takes no more commands"


_STOPPED_EARLY = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TIMED_OUT: "timed out",
    WorkflowExecutionStatus.CANCELED: "canceled",
}


def _reason(type_: str) -> RefusalReason:
    try:
        return RefusalReason(type_)
    except ValueError:
        return RefusalReason.PLATFORM_REFUSED
