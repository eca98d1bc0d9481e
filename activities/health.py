"""Seller-health activities: hand one record to its store's health workflow (R7, R18)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import activity
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from domain.health import HealthThresholds
from workflows import search_attributes as sa
from workflows.store_health import (
    DEFAULT_TIMEZONE,
    HealthRecord,
    StoreHealthInput,
    StoreHealthWorkflow,
    store_workflow_id,
)


class HealthActivities:
    """Signal-with-start on ``store-health-{seller_id}``: the store workflow exists once per store.

    A retried activity sends the same record again; the workflow counts it once (de-duplicated
    by kind and order). ``task_queue`` defaults to the activity's own queue, so the worker that
    runs the order workflows also runs the store workflows.
    """

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        thresholds: HealthThresholds | None = None,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._timezone = timezone
        self._thresholds = thresholds or HealthThresholds()

    @activity.defn(name="health.record")
    async def record(self, record: HealthRecord) -> None:
        """Deliver ``record`` to its store's workflow, starting that workflow if need be."""
        seller = record.seller_id
        await self._client.start_workflow(
            StoreHealthWorkflow.run,
            StoreHealthInput(
                seller_id=seller, timezone=self._timezone, thresholds=self._thresholds
            ),
            id=store_workflow_id(seller),
            task_queue=self._task_queue or activity.info().task_queue,
            start_signal=record.kind,
            start_signal_args=[record],
            search_attributes=TypedSearchAttributes([SearchAttributePair(sa.SELLER_ID, seller)]),
            static_summary=f"seller health of store {seller}",
        )

    def all(self) -> list[Callable[..., Awaitable[None]]]:
        """Every activity of this class, for the worker."""
        return [self.record]
