"""One order per tracking number (R2): a tiny workflow whose id *is* the number's claim."""

from __future__ import annotations

from temporalio import workflow


def hold_id(number: str) -> str:
    """The claim's workflow id: the number only, normalised as R2 reads it. The platform sees
    numbers, not carriers: one number is one parcel whichever carrier it is uploaded under."""
    return f"tracking-{number.strip().upper()}"


def legacy_hold_id(carrier: str, number: str) -> str:
    """The id claims had while a hold was per (carrier, number): those still running are honoured
    (a number held so is taken under every carrier) and released where they are."""
    return f"tracking-{carrier}-{number}"


@workflow.defn(name="TrackingNumberHold")
class NumberHoldWorkflow:
    """Open while an order holds the number; Temporal's unique workflow ids make claims atomic.

    Claims start it with a ten-year start delay and release it by terminating the held run
    (``activities.numbers``), so no worker runs it; its code serves the holds started before
    that, which still wait here for their ``release`` signal.
    """

    @workflow.init
    def __init__(self, holder: str) -> None:
        self._released = False
        self._holder = holder

    @workflow.run
    async def run(self, holder: str) -> str:
        """Hold the number for ``holder`` (an order workflow id) until it releases it."""
        await workflow.wait_condition(lambda: self._released)
        return holder

    @workflow.signal
    def release(self, holder: str) -> None:
        """The holder withdrew the number, the platform refused it, or the order ended."""
        if holder == self._holder:
            self._released = True

    @workflow.query
    def holder(self) -> str:
        """The order workflow id that holds the number."""
        return self._holder


@workflow.defn(name="RetiredTrackingNumber")
class RetiredNumberWorkflow:
    """A number whose order has ended: it stays taken (R2, a duplicate for another order) until
    its start delay, the policy's reuse period, runs out; then a worker runs it once, it ends,
    and the number is free. Its memo names the order and when the number is free again."""

    @workflow.run
    async def run(self, holder: str) -> str:
        """End at once: the record's life was its start delay."""
        return holder
