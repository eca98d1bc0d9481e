"""Order-creation ingestion: signed hooks through the hook server vs direct ``Orders.create``.

Both start workflows on a queue no worker polls: what is measured is the acceptance.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import quantiles

import httpx
import uvicorn

from adapters.asgi_server import free_port
from bench.paths import new_order
from workers.hooks import create_app
from workers.orders import Delivery, Orders
from workers.webhook_signatures import sign

SECRET = "whsec_" + base64.b64encode(b"parcelflow-bench-hook-secret").decode()
CONCURRENCY = 8
STARTUP_WITHIN = 10.0


@dataclass(frozen=True)
class Ingestion:
    """``accepted`` creations in ``seconds``, with each call's latency in seconds."""

    accepted: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        """Accepted creations per second."""
        return self.accepted / self.seconds

    def percentile(self, p: int) -> float:
        """The ``p``-th percentile latency, in milliseconds."""
        return quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


@asynccontextmanager
async def hook_server(orders: Orders) -> AsyncIterator[httpx.AsyncClient]:
    """The hook server on this event loop over real HTTP, and a client of it."""
    port = free_port()
    app = create_app(orders, [SECRET], seventeentrack_key=None)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(STARTUP_WITHIN):
            # uvicorn exposes only a flag for having started.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield http
    finally:
        server.should_exit = True
        await serving


def hook_body() -> bytes:
    """An order-created hook for a fresh order (buyer data included, as the platform sends it)."""
    facts = new_order("k")
    payload = {
        "marketplace": facts.marketplace,
        "order_id": facts.order_id,
        "seller_id": facts.seller_id,
        "total": facts.total.model_dump(),
        "paid_at": facts.paid_at.isoformat(),
        "eta": facts.eta.isoformat() if facts.eta else None,
        "buyer": {"name": "Bench Buyer", "country": "FR"},
    }
    return json.dumps(payload).encode()


async def post_hook(http: httpx.AsyncClient) -> bool:
    """POST one signed order-created hook; whether it was accepted."""
    body = hook_body()
    msg_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(datetime.now(UTC).timestamp())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(SECRET, msg_id, timestamp, body),
    }
    response = await http.post("/hooks/orders", content=body, headers=headers)
    return response.status_code == 202 and response.json()["status"] == "accepted"


async def create_direct(orders: Orders) -> bool:
    """One direct ``Orders.create``; whether it was accepted."""
    return await orders.create(new_order("d")) is Delivery.ACCEPTED


async def measure(call: Callable[[], Awaitable[bool]], count: int) -> Ingestion:
    """``count`` calls, ``CONCURRENCY`` at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []

    async def one() -> bool:
        async with gate:
            started = time.perf_counter()
            ok = await call()
            latencies.append(time.perf_counter() - started)
            return ok

    started = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(count)))
    return Ingestion(sum(results), time.perf_counter() - started, latencies)
