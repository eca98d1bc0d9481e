"""D6 (R16, R17): a lost parcel becomes a reship the buyer can follow and a claim on the carrier."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.events import (
    CarrierScanned,
    DisputeOpened,
    ProposeSolution,
    RespondToDispute,
    UploadTracking,
)
from domain.ports import Solution, SolutionKind
from domain.states import OrderState
from tests.numbers import fresh_s10
from tests.workflows.harness import order_run
from workflows.carrier_claim import claim_workflow_id
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H = timedelta(hours=1)


async def test_a_reship_for_a_lost_parcel_is_followed_messaged_and_claimed(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        original = fresh_s10()
        view = await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=original),
        )
        assert view.order.shipment is not None
        uploaded = view.order.shipment.uploaded_at
        await run.move_to(uploaded + 3 * H)
        await run.signal(CarrierScanned(event_id="pu", at=uploaded + 3 * H, status="in_transit"))
        opened = uploaded + timedelta(days=20)
        await run.move_to(opened)
        await run.signal(DisputeOpened(event_id="d-lost", at=opened, dispute_id="D6"))
        await run.handle.execute_update(
            OrderWorkflow.respond_to_dispute, RespondToDispute(message="The carrier lost it.")
        )
        replacement = fresh_s10("UG")
        reship = Solution(
            kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=replacement
        )
        view = await run.handle.execute_update(
            OrderWorkflow.propose_solution, ProposeSolution(solution=reship)
        )
        assert view.state is OrderState.SOLUTION_OFFERED
        assert view.order.shipment is not None
        assert view.order.shipment.tracking_number == original  # kept for the claim
        (message,) = [c for c in run.platform.calls if c.method == "message_buyer"]
        assert replacement in str(message.args[1])

        child = env.client.get_workflow_handle(f"{run.handle.id}-R1")
        # The child exists once the update returned; it ships its number in its first steps.
        async with asyncio.timeout(10):
            child_view = await child.query(OrderWorkflow.view)
            while child_view.order.shipment is None:
                await asyncio.sleep(0.05)
                child_view = await child.query(OrderWorkflow.view)
        assert child_view.order.shipment is not None
        assert child_view.order.shipment.tracking_number == replacement
        assert child_view.order.facts.reship_of == run.handle.id
        assert run.platform.keys("upload_tracking") == [f"{run.handle.id}:upload:1"]  # offline

        claim = await env.client.get_workflow_handle(
            claim_workflow_id("china_post", original)
        ).describe()
        assert claim.status is WorkflowExecutionStatus.RUNNING
        await run.save_history("reship_and_claim")
        for handle in (child, env.client.get_workflow_handle(claim.id)):
            await handle.terminate("test over")
