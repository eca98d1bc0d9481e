"""One poller cycle over 1,000 shipped parcels against the carrier simulator (validates the
request model of ``bench.polling_model``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.tracking import TrackingActivities
from adapters.asgi_server import serve_in_thread
from adapters.carrier_sim import ParcelScript, SettableClock, SimState, create_app
from adapters.seventeentrack import SeventeenTrackClient
from domain.polling import Parcel
from domain.states import OrderState
from workflows.tracking_poller import PollerInput, TrackingPollerWorkflow

CYCLE_WITHIN = 120.0
TOKEN = "bench-token"  # noqa: S105 - the local simulator's token, not a credential


def _listing(parcels: list[Parcel]) -> Callable[[], Awaitable[list[Parcel]]]:
    @activity.defn(name="tracking.list_parcels")
    async def list_parcels() -> list[Parcel]:
        return parcels

    return list_parcels


async def one_cycle(client: Client, parcels: int) -> int:
    """Tracking-API requests (look-ups + registrations) of the poller's first cycle."""
    uploaded = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    listed = [
        Parcel(
            workflow_id=f"order-aliexpress-{tag}{n}",
            carrier="china_post",
            number=f"LP{n:09d}CN",
            state=OrderState.SHIPPED,
            uploaded_at=uploaded,
        )
        for n in range(parcels)
    ]
    state = SimState(TOKEN, SettableClock(uploaded), max_batch=50)
    for parcel in listed:
        state.add_script(ParcelScript(number=parcel.number))
    queue = f"bench-poller-{tag}"
    with serve_in_thread(create_app(state)) as url:
        async with SeventeenTrackClient(
            f"{url}/track/v2.2", TOKEN, batch_size=50, max_rate=None
        ) as tracking:
            polling = TrackingActivities(client, tracking, queue)
            worker = Worker(
                client,
                task_queue=queue,
                workflows=[TrackingPollerWorkflow],
                activities=[_listing(listed), polling.poll, polling.forward],
            )
            async with worker:
                poller = await client.start_workflow(
                    TrackingPollerWorkflow.run, PollerInput(), id=queue, task_queue=queue
                )
                try:
                    async with asyncio.timeout(CYCLE_WITHIN):
                        # Polling a query: the workflow's progress has no event to await.
                        while (await poller.query(TrackingPollerWorkflow.progress)).cycles < 1:  # noqa: ASYNC110
                            await asyncio.sleep(0.1)
                finally:
                    await poller.terminate()
    counts = state.request_counts()["requests"]
    return int(counts.get("gettrackinfo", 0)) + int(counts.get("register", 0))
