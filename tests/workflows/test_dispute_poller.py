"""R14: a dispute the webhook never delivered is found by polling the platform (D9 deadlines)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.events import DisputeOpened, UploadTracking
from domain.marketplace import PlatformDispute
from domain.states import OrderState
from tests.numbers import fresh_s10
from tests.workflows.harness import order_run, until
from workflows.dispute_poller import DisputePollerInput, DisputePollerWorkflow
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H = timedelta(hours=1)


async def test_a_dispute_found_by_polling_keeps_the_platforms_deadlines_and_arrives_once(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        view = await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=fresh_s10()),
        )
        order_id = view.order.facts.order_id
        opened = await run.now() - 2 * H  # opened on the platform two hours before the poll
        platform = run.platform
        platform.disputes["D-77"] = PlatformDispute(
            dispute_id="D-77",
            order_id=order_id,
            reason="not_received",
            status="processing",
            opened_at=opened,
            response_deadline=opened + 20 * H,  # the platform's own, earlier than 24 h (D9)
            solution_deadline=opened + 48 * H,
        )
        platform.disputes["D-78"] = PlatformDispute(
            dispute_id="D-78",
            order_id=order_id,
            reason="not_received",
            status="finish",  # over: nothing to forward
            opened_at=opened - 40 * H,
        )
        task_queue = (await run.handle.describe()).task_queue
        with env.with_time_skipping_disabled():
            poller = await env.client.start_workflow(
                DisputePollerWorkflow.run,
                DisputePollerInput(every=H),
                id=f"dispute-poller-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
            )
        view = await until(
            lambda: run.handle.query(OrderWorkflow.view),
            lambda v: v.state is OrderState.AWAITING_FIRST_RESPONSE,
        )
        dispute = view.order.dispute
        assert dispute is not None
        assert dispute.dispute_id == "D-77"
        assert dispute.opened_at == opened
        assert dispute.response_due == opened + 20 * H
        assert dispute.solution_due == opened + 48 * H

        # The webhook arrives late after all, and the next poll lists the dispute again.
        await run.signal(DisputeOpened(event_id="hook-1", at=opened, dispute_id="D-77"))
        await env.fast_forward(poller, H)
        await until(lambda: poller.query(DisputePollerWorkflow.polls), lambda n: n >= 2)
        assert await poller.query(DisputePollerWorkflow.known) == ["D-77"]
        view = await run.handle.query(OrderWorkflow.view)
        assert [e.kind for e in view.order.timeline].count("dispute_opened") == 1
        assert view.order.dispute == dispute
        await poller.terminate("test over")
