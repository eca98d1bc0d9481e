"""Starting orders from hooks: once per order, never after it ended, early facts kept (H1-H3)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.events import BuyerConfirmed, CarrierScanned, ParcelDelivered
from domain.states import OrderState
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from tests.workflows.harness import order_facts
from workers.orders import Delivery, Orders
from workers.worker import build_worker
from workflows.messages import OrderOutcome

pytestmark = pytest.mark.temporal


@pytest.fixture
async def orders(env: WorkflowEnvironment) -> AsyncIterator[Orders]:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with build_worker(env.client, task_queue=task_queue, platform=FakePlatform()):
        with env.with_time_skipping_disabled():
            yield Orders(env.client, task_queue)


async def test_the_same_creation_hook_three_times_at_once_starts_one_workflow(
    orders: Orders,
) -> None:
    facts = order_facts(datetime.now(UTC))
    results = await asyncio.gather(*(orders.create(facts) for _ in range(3)))
    assert results == [Delivery.ACCEPTED] * 3
    runs = await orders.list(f"WorkflowId = '{facts.workflow_id}'")
    assert len(runs) == 1
    assert (
        await orders.view(facts.marketplace, facts.order_id)
    ).state is OrderState.AWAITING_SHIPMENT


async def test_a_hook_redelivered_after_the_order_ended_starts_nothing(orders: Orders) -> None:
    facts = order_facts(datetime.now(UTC))
    assert await orders.create(facts) is Delivery.ACCEPTED
    await orders.ship(facts.marketplace, facts.order_id, "china_post", fresh_s10())
    now = datetime.now(UTC)
    await orders.send_fact(facts.marketplace, facts.order_id, BuyerConfirmed(event_id="bc", at=now))
    outcome = await orders.handle(facts.marketplace, facts.order_id).result()
    assert isinstance(outcome, OrderOutcome)
    assert outcome.state is OrderState.COMPLETED
    assert await orders.create(facts) is Delivery.ALREADY_PROCESSED
    assert len(await orders.list(f"WorkflowId = '{facts.workflow_id}'")) == 1


async def test_a_scan_that_arrives_before_its_order_is_applied_once_the_order_exists(
    orders: Orders,
) -> None:
    facts = order_facts(datetime.now(UTC))
    early = CarrierScanned(
        event_id="early-1", at=datetime.now(UTC), status="info_received", code="IR"
    )
    assert await orders.send_fact(facts.marketplace, facts.order_id, early) is Delivery.ACCEPTED
    assert await orders.create(facts) is Delivery.ACCEPTED
    view = await orders.view(facts.marketplace, facts.order_id)
    assert [e.event_id for e in view.order.timeline] == ["early-1"]
    later = ParcelDelivered(event_id="dl", at=datetime.now(UTC) + timedelta(seconds=1))
    assert await orders.send_fact(facts.marketplace, facts.order_id, later) is Delivery.ACCEPTED
