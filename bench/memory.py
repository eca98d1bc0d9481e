"""Worker memory: the RSS a fresh worker process gains holding 1,000 open orders."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import Client

from bench.children import worker_process
from bench.paths import MARKETPLACE, new_order
from domain.states import OrderState
from workers.orders import Orders
from workflows import search_attributes as sa

SETTLE = 1.0
OPEN_WITHIN = 120.0
CONCURRENCY = 32


async def rss_per_open_orders(client: Client, address: str, count: int) -> int:
    """Bytes of RSS a fresh order worker gains once ``count`` orders await shipment in it."""
    queue = f"bench-memory-{uuid.uuid4().hex[:8]}"
    orders = Orders(client, queue)
    gate = asyncio.Semaphore(CONCURRENCY)

    created: list[str] = []

    async def create() -> None:
        async with gate:
            facts = new_order("m")
            await orders.create(facts)
            created.append(facts.order_id)

    async def terminate(order_id: str) -> None:
        async with gate:
            await orders.handle(MARKETPLACE, order_id).terminate("benchmark over")

    async with worker_process(address, queue, "order") as worker:
        await asyncio.sleep(SETTLE)
        before = worker.rss()
        await asyncio.gather(*(create() for _ in range(count)))
        waiting = (
            f"TaskQueue = '{queue}' AND "
            f"{sa.ORDER_STATE.name} = '{OrderState.AWAITING_SHIPMENT.value}'"
        )
        async with asyncio.timeout(OPEN_WITHIN):
            # Visibility is polled: the server offers nothing to await.
            while (await client.count_workflows(waiting)).count < count:  # noqa: ASYNC110
                await asyncio.sleep(0.25)
        await asyncio.sleep(SETTLE)
        grown = worker.rss() - before
    # The next repetitions find the server as this one did.
    await asyncio.gather(*(terminate(order_id) for order_id in created))
    return grown
