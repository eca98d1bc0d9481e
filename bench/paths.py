"""The two measured paths: bare no-op workflows, and parcelflow's happy-path orders."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowHistory

from bench.bare import BareWorkflow
from domain.events import BuyerConfirmed, CarrierScanned, Fact, ParcelDelivered, ProofOfDelivery
from domain.money import Money
from domain.order import OrderFacts
from domain.states import OrderState
from tests.numbers import fresh_s10
from workers.orders import Orders
from workflows.messages import FactEnvelope, OrderOutcome
from workflows.order import OrderWorkflow

FINISH_WITHIN = 120.0
MARKETPLACE = "aliexpress"


@dataclass(frozen=True)
class Batch:
    """``count`` workflows run concurrently to completion in ``seconds``; their histories."""

    count: int
    seconds: float
    histories: list[WorkflowHistory]

    @property
    def per_second(self) -> float:
        """Workflows completed per second."""
        return self.count / self.seconds


def new_order(tag: str) -> OrderFacts:
    """A $20 order paid now, ETA in 15 days, default policy (no clock blocks the happy path)."""
    paid_at = datetime.now(UTC)
    return OrderFacts(
        marketplace=MARKETPLACE,
        order_id=f"{tag}{uuid.uuid4().hex[:12]}",
        seller_id="bench-store",
        total=Money(minor=20_00),
        paid_at=paid_at,
        eta=paid_at + timedelta(days=15),
    )


async def happy_order(orders: Orders) -> str:
    """Hook → upload → scan → delivered → buyer confirms; the workflow id once completed."""
    facts = new_order("h")
    await orders.create(facts)
    number = fresh_s10()
    await orders.ship(MARKETPLACE, facts.order_id, "china_post", number)
    handle = orders.handle(MARKETPLACE, facts.order_id)

    async def tell(fact: Fact) -> None:
        await handle.signal(OrderWorkflow.fact, FactEnvelope(fact=fact))

    now = datetime.now
    scan = CarrierScanned(
        event_id="s1", at=now(UTC), status="in_transit", code="PU", tracking_number=number
    )
    await tell(scan)
    proof = ProofOfDelivery(signer="J.", photo_url="https://pod.example/p.jpg")
    await tell(
        ParcelDelivered(event_id="dl", at=now(UTC), code="DL", proof=proof, tracking_number=number)
    )
    await tell(BuyerConfirmed(event_id="bc", at=now(UTC)))
    outcome = await handle.result()
    if not isinstance(outcome, OrderOutcome) or outcome.state is not OrderState.COMPLETED:
        msg = f"{facts.workflow_id} ended {outcome}"
        raise RuntimeError(msg)
    return facts.workflow_id


async def run_orders(client: Client, task_queue: str, count: int) -> Batch:
    """``count`` happy-path orders at once; wall time until the last one completes."""
    orders = Orders(client, task_queue)
    started = time.perf_counter()
    async with asyncio.timeout(FINISH_WITHIN):
        ids = await asyncio.gather(*(happy_order(orders) for _ in range(count)))
    seconds = time.perf_counter() - started
    return Batch(count, seconds, await _histories(client, ids))


async def run_bare(
    client: Client, task_queue: str, count: int, activities: int, local: int = 0
) -> Batch:
    """``count`` bare workflows of ``activities`` no-op activities (and ``local`` local ones)."""
    ids = [f"bare-{uuid.uuid4().hex[:12]}" for _ in range(count)]

    async def one(workflow_id: str) -> None:
        await client.execute_workflow(
            BareWorkflow.run, args=[activities, local], id=workflow_id, task_queue=task_queue
        )

    started = time.perf_counter()
    async with asyncio.timeout(FINISH_WITHIN):
        await asyncio.gather(*(one(i) for i in ids))
    seconds = time.perf_counter() - started
    return Batch(count, seconds, await _histories(client, ids))


async def _histories(client: Client, ids: list[str]) -> list[WorkflowHistory]:
    return list(await asyncio.gather(*(client.get_workflow_handle(i).fetch_history() for i in ids)))
