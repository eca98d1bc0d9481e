"""The tracking poller: one workflow that pulls carrier scans for every shipped order (R8-R12)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.errors import NON_RETRYABLE
    from activities.tracking import ParcelChanges, TrackingActivities
    from domain.polling import Parcel, PollingPolicy, batches, due, next_wake

POLLER_ID: Final = "tracking-poller"
"""The poller is a singleton: one workflow with this id per namespace and task queue."""

TRACKING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,  # then the batch waits for the next cycle instead of stalling the rest
    non_retryable_error_types=NON_RETRYABLE,
)
LONG_CALL = timedelta(minutes=2)
HEARTBEAT = timedelta(seconds=10)
"""The listing's, a look-up's and a forward's heartbeat timeout: each heartbeats every few
seconds, so a worker that dies mid-call is noticed in seconds and the cycle goes on (a forward
on a dead worker held every parcel's polling up to ``LONG_CALL``, a listing 30 s a time)."""


class PollerProgress(BaseModel):
    """The ``progress`` query: cycles completed, what the last one listed, totals since start."""

    cycles: int = 0
    last_cycle_at: datetime | None = None
    listed: int = 0
    """Parcels listed by the last cycle."""
    parcels_polled: int = 0
    """Parcel look-ups made since the poller started (across runs)."""
    facts_forwarded: int = 0
    """New facts signalled to orders since the poller started (across runs)."""


class PollerMemory(BaseModel):
    """What the poller keeps between cycles and runs: per parcel key, what it forwarded, when
    it last polled. Only parcels still listed are kept, so it stays bounded."""

    seen: dict[str, list[str]] = Field(default_factory=dict)
    last_polled: dict[str, datetime] = Field(default_factory=dict)
    progress: PollerProgress = PollerProgress()


class PollerInput(BaseModel):
    """The poller's input: its policy, and its memory when continued as new."""

    polling: PollingPolicy = PollingPolicy()
    carried: PollerMemory | None = None
    continue_as_new_after: int = 2_000
    """History events after which the run hands its memory to a fresh run."""


@workflow.defn(name="TrackingPoller")
class TrackingPollerWorkflow:
    """Lists shipped orders, polls the due ones in batches, signals only what changed."""

    @workflow.init
    def __init__(self, inp: PollerInput) -> None:
        self._memory = inp.carried or PollerMemory()
        self._forwarded = 0

    @workflow.run
    async def run(self, inp: PollerInput) -> None:
        """Poll forever, continuing as new when history grows long."""
        while True:
            wake = await self._cycle(inp.polling)
            await workflow.sleep(max(wake - workflow.now(), timedelta(seconds=1)))
            info = workflow.info()
            if (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= inp.continue_as_new_after
            ):
                # After the sleep, so that the fresh run starts with the cycle now due.
                workflow.continue_as_new(inp.model_copy(update={"carried": self._memory}))

    @workflow.query
    def progress(self) -> PollerProgress:
        """Cycles completed, what the last one listed, look-ups and facts since the start."""
        return self._memory.progress

    async def _cycle(self, polling: PollingPolicy) -> datetime:
        try:
            listed = await workflow.execute_activity_method(
                TrackingActivities.list_parcels,
                start_to_close_timeout=LONG_CALL,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=TRACKING_RETRY,
            )
        except ActivityError as failure:
            workflow.logger.warning("listing the shipped orders failed: %s", failure.cause)
            return workflow.now() + polling.max_sleep
        memory = self._memory
        parcels = [self._remembered(p) for p in listed]
        self._forget_all_but({p.key for p in parcels})
        self._forwarded = 0
        polled, now = 0, workflow.now()
        for batch in batches(due(parcels, now, polling), polling.batch_size):
            # Attempted counts as polled: a failing batch waits its interval, never hammers.
            polled += len(batch) if await self._poll(batch) else 0
            memory.last_polled.update((parcel.key, now) for parcel in batch)
        progress = memory.progress
        memory.progress = PollerProgress(
            cycles=progress.cycles + 1,
            last_cycle_at=now,
            listed=len(parcels),
            parcels_polled=progress.parcels_polled + polled,
            facts_forwarded=progress.facts_forwarded + self._forwarded,
        )
        return next_wake([self._remembered(p) for p in parcels], workflow.now(), polling)

    def _remembered(self, parcel: Parcel) -> Parcel:
        return parcel.model_copy(
            update={"last_polled_at": self._memory.last_polled.get(parcel.key)}
        )

    async def _poll(self, batch: list[Parcel]) -> bool:
        seen = {p.key: self._memory.seen[p.key] for p in batch if p.key in self._memory.seen}
        try:
            result = await workflow.execute_activity_method(
                TrackingActivities.poll,
                args=[batch, seen],
                start_to_close_timeout=LONG_CALL,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=TRACKING_RETRY,
            )
        except ActivityError as failure:
            workflow.logger.warning("polling %d numbers failed: %s", len(batch), failure.cause)
            return False
        await asyncio.gather(*(self._forward(changes) for changes in result.changes))
        return True

    async def _forward(self, changes: ParcelChanges) -> None:
        if changes.facts:
            try:
                await workflow.execute_activity_method(
                    TrackingActivities.forward,
                    args=[changes.workflow_id, changes.facts],
                    start_to_close_timeout=LONG_CALL,
                    heartbeat_timeout=HEARTBEAT,
                    retry_policy=TRACKING_RETRY,
                )
            except ActivityError as failure:
                # Not remembered as forwarded: the next poll of this parcel sends it again.
                workflow.logger.warning("signalling %s failed: %s", changes.workflow_id, failure)
                return
            self._forwarded += len(changes.facts)
        self._memory.seen[changes.key] = changes.seen

    def _forget_all_but(self, listed: set[str]) -> None:
        memory = self._memory
        memory.seen = {k: v for k, v in memory.seen.items() if k in listed}
        memory.last_polled = {k: v for k, v in memory.last_polled.items() if k in listed}
