"""The discovery poller: one workflow per task queue that finds orders the creation hook missed
and reads open orders back from the platform (their status, their ETA for R4.4, their end).

Each round lists the store's orders awaiting shipment and hands every one not yet followed to
the hook's own idempotent start; then it reads the followed orders that are due, on a schedule
that follows their phase: awaiting shipment every ``awaiting_every``, shipped every
``shipped_every``, an order that has just left the awaiting list at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.discovery import AWAITING_SHIPMENT, Discovered, DiscoveryActivities, Followed
    from workflows.tracking_poller import TRACKING_RETRY as POLL_RETRY  # same: next poll retries

DISCOVERY_POLLER_ID: Final = "order-discovery"
"""A singleton: one workflow with this id (and the task queue's name) per namespace."""
KEEP_FOLLOWED = 5_000
"""Open orders followed at most (the oldest first dropped): a bound on the carried memory."""
KEEP_FORWARDED = 5_000
"""Event ids of forwarded facts remembered (newest last)."""
CALL_TIMEOUT = timedelta(minutes=5)
HEARTBEAT = timedelta(seconds=10)
"""Each page, platform read and order start heartbeats (every 2 s while it runs): a listing held
by a dead worker is taken over in seconds, not after half a minute of lost discovery."""


class DiscoveryMemory(BaseModel):
    """What the poller keeps between rounds and runs."""

    followed: list[Followed] = Field(default_factory=list)
    forwarded: list[str] = Field(default_factory=list)
    ended: list[str] = Field(default_factory=list)
    """Orders still listed whose workflow has ended (the order's own clock closed it): not
    started again, not read (the newest kept)."""
    rounds: int = 0


class DiscoveryPollerInput(BaseModel):
    """How often to list and read, for which marketplace, and what earlier runs remembered."""

    marketplace: str = "aliexpress"
    every: timedelta = timedelta(minutes=10)
    """Between rounds: the listing of orders awaiting shipment."""
    hook_grace: timedelta = timedelta(minutes=30)
    """An order paid less than this ago is left to its hook (which brings the category)."""
    awaiting_every: timedelta = timedelta(hours=1)
    """Between reads of an order awaiting shipment (its status comes with every listing)."""
    shipped_every: timedelta = timedelta(hours=3)
    """Between reads of a shipped order: an ETA moved inside the 24 h cancel window is seen
    within this (R4.4)."""
    max_reads: int = 200
    """Order reads per round at most (the longest-waiting first): keeps the call rate modest."""
    carried: DiscoveryMemory = DiscoveryMemory()
    continue_as_new_after: int = 500
    """Rounds after which the run hands its memory to a fresh run."""


@workflow.defn(name="DiscoveryPoller")
class DiscoveryPollerWorkflow:
    """Lists, starts, reads and forwards; sleeps ``every``; continues as new now and then."""

    @workflow.init
    def __init__(self, inp: DiscoveryPollerInput) -> None:
        self._followed = {f.order_id: f for f in inp.carried.followed}
        self._forwarded = list(inp.carried.forwarded)
        self._ended = list(inp.carried.ended)
        self._rounds = inp.carried.rounds

    @workflow.run
    async def run(self, inp: DiscoveryPollerInput) -> None:
        """Round after round; then continue as new with the memory."""
        for _ in range(inp.continue_as_new_after):
            await self._list(inp)
            await self._read(inp)
            self._rounds += 1
            await workflow.sleep(inp.every)
        workflow.continue_as_new(inp.model_copy(update={"carried": self._memory()}))

    async def _list(self, inp: DiscoveryPollerInput) -> None:
        try:
            found: Discovered = await workflow.execute_activity_method(
                DiscoveryActivities.list_awaiting,
                args=[
                    inp.marketplace,
                    [*self._followed, *self._ended],
                    workflow.now() - inp.hook_grace,
                ],
                start_to_close_timeout=CALL_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=POLL_RETRY,
            )
        except ActivityError as failure:
            workflow.logger.warning("order listing failed: %s", failure.cause)
            return
        now = workflow.now()
        listed = {f.order_id for f in found.listed}
        ended = set(self._ended)
        for seen in found.listed:
            if seen.order_id in ended:
                continue
            before = self._followed.get(seen.order_id)
            if before is None:
                self._followed[seen.order_id] = seen.model_copy(
                    update={"next_check": now + inp.awaiting_every}
                )
            else:
                self._followed[seen.order_id] = before.model_copy(update={"status": seen.status})
        for order_id in found.ended:
            self._followed.pop(order_id, None)
        self._ended = [*self._ended, *found.ended][-KEEP_FORWARDED:]
        if found.complete:
            for order_id, followed in list(self._followed.items()):
                if followed.status in AWAITING_SHIPMENT and order_id not in listed:
                    # Shipped, or closed: read it at once to learn which.
                    self._followed[order_id] = followed.model_copy(
                        update={"status": "", "next_check": None}
                    )
        while len(self._followed) > KEEP_FOLLOWED:
            self._followed.pop(next(iter(self._followed)))

    async def _read(self, inp: DiscoveryPollerInput) -> None:
        now = workflow.now()
        due = sorted(
            (f for f in self._followed.values() if f.next_check is None or f.next_check <= now),
            key=lambda f: f.next_check or datetime.min.replace(tzinfo=now.tzinfo),
        )[: inp.max_reads]
        if not due:
            return
        try:
            checked = await workflow.execute_activity_method(
                DiscoveryActivities.check,
                args=[inp.marketplace, due, now],
                start_to_close_timeout=CALL_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=POLL_RETRY,
            )
        except ActivityError as failure:
            workflow.logger.warning("order read-back failed: %s", failure.cause)
            return
        for still in checked.open:
            every = inp.awaiting_every if still.status in AWAITING_SHIPMENT else inp.shipped_every
            self._followed[still.order_id] = still.model_copy(update={"next_check": now + every})
        for order_id in checked.ended:
            self._followed.pop(order_id, None)
        self._forwarded = [*self._forwarded, *checked.forwarded][-KEEP_FORWARDED:]

    def _memory(self) -> DiscoveryMemory:
        return DiscoveryMemory(
            followed=list(self._followed.values()),
            forwarded=self._forwarded,
            ended=self._ended,
            rounds=self._rounds,
        )

    @workflow.query
    def memory(self) -> DiscoveryMemory:
        """The orders followed, the facts forwarded, the rounds done (across runs)."""
        return self._memory()
