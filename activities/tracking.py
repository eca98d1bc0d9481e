"""Pull-ingestion activities: list shipped orders, poll the tracking service, signal changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.carrier import register
from activities.errors import beating
from domain.polling import POLLED_STATES, Parcel, TrackedFact, new_facts, remembered
from domain.ports import CarrierTracking
from workflows import search_attributes as sa
from workflows.messages import FactEnvelope
from workflows.order import OrderWorkflow

"""Seconds between heartbeats while a port call or a listing is under way."""


class ParcelChanges(BaseModel):
    """What one poll learnt about one parcel: its new facts and every event id forwarded."""

    key: str
    workflow_id: str
    facts: list[TrackedFact]
    seen: list[str]


class PollResult(BaseModel):
    """One batch's poll: the changes of each parcel looked up (none for an unknown number)."""

    changes: list[ParcelChanges]


class TrackingActivities:
    """Thin activities over Temporal visibility and a ``CarrierTracking`` port."""

    def __init__(self, client: Client, tracking: CarrierTracking, task_queue: str) -> None:
        self._client = client
        self._tracking = tracking
        self._task_queue = task_queue

    @activity.defn(name="tracking.list_parcels")
    async def list_parcels(self) -> list[Parcel]:
        """Every running order on this task queue with a number in a polled state (heartbeating
        while the listing runs)."""
        return await beating(self._listed())

    async def _listed(self) -> list[Parcel]:
        states = ", ".join(f"'{state.value}'" for state in POLLED_STATES)
        query = (
            f"WorkflowType = 'Order' AND ExecutionStatus = 'Running'"
            f" AND TaskQueue = '{self._task_queue}' AND {sa.ORDER_STATE.name} IN ({states})"
        )
        parcels: list[Parcel] = []
        async for execution in self._client.list_workflows(query):
            attrs = execution.typed_search_attributes
            carrier, number = attrs.get(sa.CARRIER), attrs.get(sa.TRACKING_NUMBER)
            state = attrs.get(sa.ORDER_STATE)
            if carrier and number and state:
                parcels.append(
                    Parcel(
                        workflow_id=execution.id,
                        carrier=carrier,
                        number=number,
                        state=state,
                        uploaded_at=attrs.get(sa.UPLOADED_AT),
                    )
                )
        return parcels

    @activity.defn(name="tracking.poll")
    async def poll(self, batch: list[Parcel], seen: dict[str, list[str]]) -> PollResult:
        """Register the numbers new to us, then ONE look-up for the batch (≤ 50, R12).

        ``seen`` holds, per parcel key, the event ids already forwarded; the result carries
        only new facts, and the ids to remember once they are forwarded.
        """
        fresh = [p for p in batch if p.key not in seen]
        if fresh:
            await beating(self._register(fresh))
        records = await beating(self._tracking.lookup([p.pair for p in batch]))
        changes: list[ParcelChanges] = []
        for parcel, record in zip(batch, records, strict=True):
            forwarded = seen.get(parcel.key, [])
            facts = new_facts(record, forwarded)
            changes.append(
                ParcelChanges(
                    key=parcel.key,
                    workflow_id=parcel.workflow_id,
                    facts=facts,
                    seen=remembered(forwarded, facts),
                )
            )
        return PollResult(changes=changes)

    def _register(self, parcels: list[Parcel]) -> Awaitable[None]:
        return register(self._tracking, [(p.pair, p.workflow_id) for p in parcels])

    @activity.defn(name="tracking.forward")
    async def forward(self, workflow_id: str, facts: list[TrackedFact]) -> int:
        """Signal the order with each new fact, oldest first, heartbeating; how many it received.

        An order that ended meanwhile receives nothing, and that is no failure. A retry may
        signal a fact twice: the order de-duplicates by ``event_id``.
        """
        return await beating(self._signal(workflow_id, facts))

    async def _signal(self, workflow_id: str, facts: list[TrackedFact]) -> int:
        handle = self._client.get_workflow_handle_for(OrderWorkflow.run, workflow_id)
        for sent, fact in enumerate(facts):
            try:
                await handle.signal(OrderWorkflow.fact, FactEnvelope(fact=fact))
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                activity.logger.info("order %s has ended: %s", workflow_id, error.message)
                return sent
        return len(facts)

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every activity of this class, for the worker."""
        return [self.list_parcels, self.poll, self.forward]
