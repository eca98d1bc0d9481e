"""H6: a worker killed mid-flight loses no order and fires no deadline twice after it restarts."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.order import OrderFacts
from domain.policy import Policy
from domain.states import OrderState
from tests.numbers import fresh_s10
from tests.workflows.harness import order_facts
from workers.orders import Orders
from workflows.messages import OrderOutcome

pytestmark = pytest.mark.temporal
HANDLING = timedelta(seconds=12)  # shortened: the worker stays dead across the real deadline


@contextmanager
def worker_process(address: str, task_queue: str) -> Iterator[subprocess.Popen[str]]:
    """A parcelflow worker in its own process (the one a SIGKILL takes down)."""
    process = subprocess.Popen(  # noqa: S603 - our own worker module
        [sys.executable, "-m", "bench.worker", address, task_queue, "order"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


async def test_orders_survive_a_killed_worker_and_no_deadline_fires_twice(
    env: WorkflowEnvironment,
) -> None:
    address = env.client.service_client.config.target_host
    # A plain client: these workflows run on real time, without time skipping.
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    orders = Orders(client, task_queue)
    paid_at = datetime.now(UTC).replace(microsecond=0)
    policy = Policy(handling_time=HANDLING)
    facts: list[OrderFacts] = [order_facts(paid_at, policy=policy) for _ in range(20)]
    shipped, unshipped = facts[:10], facts[10:]

    with worker_process(address, task_queue) as first:
        await asyncio.gather(*(orders.create(f) for f in facts))
        for order in shipped:
            await orders.ship(order.marketplace, order.order_id, "china_post", fresh_s10())
        first.kill()  # SIGKILL: no graceful shutdown
        first.wait()

    await asyncio.sleep((paid_at + HANDLING - datetime.now(UTC)).total_seconds() + 2)

    with worker_process(address, task_queue):
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(orders.handle(f.marketplace, f.order_id).result() for f in unshipped)),
            timeout=60,
        )
        for outcome in outcomes:
            assert isinstance(outcome, OrderOutcome)
            assert outcome.state is OrderState.CLOSED_UNFULFILLED
            assert outcome.order is not None
            fired = [e.at for e in outcome.order.timeline if e.kind == "handling_time"]
            assert fired == [paid_at + HANDLING]
        for order in shipped:
            view = await orders.view(order.marketplace, order.order_id)
            assert view.state is OrderState.SHIPPED
            assert not any(e.kind == "handling_time" for e in view.order.timeline)
        again = await orders.withdraw(shipped[0].marketplace, shipped[0].order_id)
        assert again.state is OrderState.AWAITING_SHIPMENT
        for order in shipped:
            await orders.handle(order.marketplace, order.order_id).terminate("test over")
