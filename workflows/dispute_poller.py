"""The dispute poller: one workflow per task queue asking the platform for open disputes (R14).

Webhooks bring disputes at once; this catches any a webhook lost. A dispute's clocks run from
its opening time on the platform, so one found late by a poll keeps its true deadlines.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.disputes import DisputeActivities
    from workflows.tracking_poller import TRACKING_RETRY as POLL_RETRY  # same: next poll retries

DISPUTE_POLLER_ID: Final = "dispute-poller"
"""A singleton: one workflow with this id (and the task queue's name) per namespace."""
KEEP_KNOWN = 5_000
"""Dispute ids remembered (newest last): more than a store has open at once."""


class DisputePollerInput(BaseModel):
    """How often to ask, for which marketplace, and what earlier runs already forwarded."""

    marketplace: str = "aliexpress"
    every: timedelta = timedelta(minutes=10)
    known: list[str] = Field(default_factory=list)
    polls: int = 0
    continue_as_new_after: int = 500
    """Polls after which the run hands its memory to a fresh run."""


@workflow.defn(name="DisputePoller")
class DisputePollerWorkflow:
    """Polls the platform's dispute list every ``every``; forwards each open dispute once."""

    @workflow.init
    def __init__(self, inp: DisputePollerInput) -> None:
        self._known = list(inp.known)
        self._polls = inp.polls

    @workflow.run
    async def run(self, inp: DisputePollerInput) -> None:
        """Poll, forward, sleep; continue as new now and then."""
        for _ in range(inp.continue_as_new_after):
            try:
                done = await workflow.execute_activity_method(
                    DisputeActivities.poll,
                    args=[inp.marketplace, self._known],
                    start_to_close_timeout=timedelta(minutes=2),
                    heartbeat_timeout=timedelta(seconds=30),
                    retry_policy=POLL_RETRY,
                )
            except ActivityError as failure:
                workflow.logger.warning("dispute poll failed: %s", failure.cause)
            else:
                self._known = [*self._known, *done.forwarded, *done.ended][-KEEP_KNOWN:]
            self._polls += 1
            await workflow.sleep(inp.every)
        workflow.continue_as_new(
            inp.model_copy(update={"known": self._known, "polls": self._polls})
        )

    @workflow.query
    def known(self) -> list[str]:
        """The dispute ids already forwarded to their orders."""
        return self._known

    @workflow.query
    def polls(self) -> int:
        """How many times the platform was asked, across runs."""
        return self._polls
