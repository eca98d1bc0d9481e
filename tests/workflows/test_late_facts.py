"""A fact that reached the order before one of its clocks ran out counts before it, even when a
worker outage hands both to the order in one workflow task (found by the chaos run)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.errors import RefusalReason
from domain.events import CarrierScanned, UploadTracking
from domain.states import OrderState
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from tests.workflows.harness import order_facts
from workers.worker import build_worker
from workflows.messages import FactEnvelope, OrderInput, OrderView
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H = timedelta(hours=1)
LEAD = timedelta(seconds=6)
"""How long before the window closes every worker is down (real seconds: the clock runs)."""


async def timer_fired_after_signal(handle: WorkflowHandle[OrderWorkflow, object]) -> bool:
    kinds = [event.event_type async for event in handle.fetch_history_events()]
    signal = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    return EventType.EVENT_TYPE_TIMER_FIRED in kinds[signal:]


async def test_a_scan_signalled_inside_the_window_during_an_outage_locks_the_order_as_scanned(
    env: WorkflowEnvironment,
) -> None:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    order = order_facts(datetime.now(UTC).replace(microsecond=0))
    platform = FakePlatform()
    async with build_worker(env.client, task_queue=task_queue, platform=platform):
        with env.with_time_skipping_disabled():
            handle: WorkflowHandle[OrderWorkflow, object] = await env.client.start_workflow(
                OrderWorkflow.run,
                OrderInput(facts=order),
                id=order.workflow_id,
                task_queue=task_queue,
            )
        shipped = await handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=fresh_s10("RR")),
        )
        assert shipped.order.shipment is not None
        window_end = shipped.order.shipment.uploaded_at + shipped.order.policy.cancel_window
        await env.fast_forward(handle, window_end - LEAD - await env.get_current_time(handle))

    # Every worker is down: the pickup scan reaches Temporal seconds before the window closes,
    # then the window's timer fires, and nobody has handled either yet.
    scanned_at = await env.get_current_time(handle)
    assert scanned_at < window_end, "the worker took too long to stop: the test proves nothing"
    scan = CarrierScanned(
        event_id="pickup", at=scanned_at, status="in_transit", code="InTransit_PickedUp"
    )
    await handle.signal(OrderWorkflow.fact, FactEnvelope(fact=scan))
    async with asyncio.timeout(30):
        while not await timer_fired_after_signal(handle):  # noqa: ASYNC110 - polls the server
            await asyncio.sleep(0.5)

    async with build_worker(env.client, task_queue=task_queue, platform=platform):
        async with asyncio.timeout(30):
            view: OrderView = await handle.query(OrderWorkflow.view)
            while view.order.state is OrderState.SHIPPED:  # the query may come before the task
                await asyncio.sleep(0.2)
                view = await handle.query(OrderWorkflow.view)
    assert view.order.state is OrderState.LOCKED
    assert view.order.lock_reason is RefusalReason.CARRIER_SCANNED
    assert view.order.locked_at == scanned_at
    clocks = [entry.kind for entry in view.order.timeline if entry.source == "clock"]
    assert "cancel_window" not in clocks
