"""D6, D7 (R15-R17): a lost parcel becomes a reship the buyer can follow and a claim on the
carrier; once the carrier pays, the evidence bundle spans the order, the reship and the claim."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.claims import CarrierAnswer, Claim, ClaimState
from domain.disputes import Solution, SolutionKind
from domain.events import (
    CarrierScanned,
    DisputeOpened,
    ParcelDelivered,
    ProposeSolution,
    RespondToDispute,
    UploadTracking,
)
from domain.money import Money
from domain.states import OrderState
from tests.fakes import FakeClaims
from tests.numbers import fresh_s10
from tests.workflows.harness import TIMER_ARMING_SLACK as SLACK
from tests.workflows.harness import OrderRun, order_run, save_history, until
from workers.orders import Orders
from workflows.carrier_claim import CarrierClaimWorkflow, claim_workflow_id
from workflows.messages import OrderView
from workflows.number_hold import hold_id
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H, DAY = timedelta(hours=1), timedelta(days=1)
DISPUTED_AFTER = 20 * DAY


@dataclass
class LostAndReshipped:
    """D6: a parcel lost in transit, disputed, and solved by a Yanwen reship."""

    original: str
    replacement: str
    uploaded: datetime
    view: OrderView
    """The order once the reship was proposed."""


async def reship_a_lost_parcel(
    run: OrderRun, dispute_id: str, loss_scan_after: timedelta | None = None
) -> LostAndReshipped:
    """Ship, get picked up 3 h later (and reported lost ``loss_scan_after`` the upload, 17TRACK
    ``Exception_Lost``), a dispute 20 days on, the seller's answer, then the reship."""
    original = fresh_s10()
    view = await run.handle.execute_update(
        OrderWorkflow.upload_tracking,
        UploadTracking(carrier="china_post", tracking_number=original),
    )
    assert view.order.shipment is not None
    uploaded = view.order.shipment.uploaded_at
    scans = [CarrierScanned(event_id="pu", at=uploaded + 3 * H, status="in_transit")]
    if loss_scan_after is not None:
        at, code = uploaded + loss_scan_after, "Exception_Lost"
        # As 17TRACK's table reads it (adapters/seventeentrack/statuses.py): the incident says lost.
        lost = CarrierScanned(
            event_id="lost", at=at, status="exception", code=code, incident="lost"
        )
        scans.append(lost)
    for scan in scans:
        await run.move_to(scan.at)
        await run.signal(scan)
    opened = uploaded + DISPUTED_AFTER
    await run.move_to(opened)
    await run.signal(DisputeOpened(event_id="d-lost", at=opened, dispute_id=dispute_id))
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
    return LostAndReshipped(original, replacement, uploaded, view)


async def test_a_reship_for_a_lost_parcel_is_followed_messaged_and_claimed(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        lost = await reship_a_lost_parcel(run, "D6")
        original, replacement, view = lost.original, lost.replacement, lost.view
        assert view.state is OrderState.SOLUTION_OFFERED
        assert view.order.shipment is not None
        assert view.order.shipment.tracking_number == original  # kept for the claim
        (message,) = [c for c in run.platform.calls if c.method == "message_buyer"]
        assert replacement in str(message.args[1])

        child = env.client.get_workflow_handle(f"{run.handle.id}-R1")
        # The child exists once the update returned; it ships its number in its first steps.
        child_view = await until(
            lambda: child.query(OrderWorkflow.view), lambda v: v.order.shipment is not None
        )
        assert child_view.order.shipment is not None
        assert child_view.order.shipment.tracking_number == replacement
        assert child_view.order.facts.reship_of == run.handle.id
        assert run.platform.keys("upload_tracking") == [f"{run.handle.id}:upload:1"]  # offline

        claim = await env.client.get_workflow_handle(
            claim_workflow_id("china_post", original)
        ).describe()
        assert claim.status is WorkflowExecutionStatus.RUNNING
        # No loss scan: the claim says its written proof is still missing, it invents none.
        opened = await env.client.get_workflow_handle(claim.id).query(CarrierClaimWorkflow.view)
        assert opened.claim.facts.proof.startswith("missing: the carrier's written loss proof")
        await run.save_history("reship_and_claim")
        for handle in (child, env.client.get_workflow_handle(claim.id)):
            await handle.terminate("test over")


async def test_d7_the_claim_is_paid_and_the_bundle_holds_the_loss_proof_and_both_histories(
    env: WorkflowEnvironment,
) -> None:
    paid = CarrierAnswer(status="paid", amount=Money(minor=20_00))
    desk = FakeClaims(answers=[paid])
    async with order_run(env, claims=desk) as run:
        lost = await reship_a_lost_parcel(run, "D7", loss_scan_after=10 * DAY)
        original, replacement, facts = lost.original, lost.replacement, lost.view.order.facts
        lost_at = lost.uploaded + 10 * DAY

        # The replacement parcel's own order: scanned, then delivered on its own clock.
        child = OrderRun(
            env=env,
            handle=env.client.get_workflow_handle_for(OrderWorkflow.run, f"{run.handle.id}-R1"),
            platform=run.platform,
            paid_at=lost.uploaded + DISPUTED_AFTER,
        )
        shipped = await until(child.view, lambda v: v.order.shipment is not None)
        assert shipped.order.shipment is not None
        sent = shipped.order.shipment.uploaded_at
        await child.move_to(sent + DAY)
        await child.signal(CarrierScanned(event_id="r-pu", at=sent + DAY, status="in_transit"))
        await child.move_to(sent + 9 * DAY)
        await child.signal(ParcelDelivered(event_id="r-dl", at=sent + 9 * DAY, code="Delivered"))
        assert (await child.view()).state is OrderState.DELIVERED

        # The claim on the lost parcel: filed by API with the carrier's statement, then paid.
        claim: WorkflowHandle[CarrierClaimWorkflow, Claim] = env.client.get_workflow_handle_for(
            CarrierClaimWorkflow.run, claim_workflow_id("china_post", original)
        )
        filed = await until(
            lambda: claim.query(CarrierClaimWorkflow.view),
            lambda v: v.claim.filed_at is not None,
        )
        assert filed.claim.filed_at is not None
        assert filed.claim.facts.loss_confirmed_at == lost_at
        await env.fast_forward(claim, filed.claim.filed_at + 3 * DAY + SLACK - filed.as_of)
        async with asyncio.timeout(10):
            closed = await claim.result()
        assert (closed.state, closed.paid_amount) == (ClaimState.PAID, Money(minor=20_00))
        (filing,) = desk.claims.values()
        assert f"{original} reported Exception_Lost at {lost_at.isoformat()}" in filing.proof

        bundle = await Orders(env.client, "unused").evidence(facts.marketplace, facts.order_id)
        assert bundle.loss_proof is not None
        assert (bundle.loss_proof.code, bundle.loss_proof.at) == ("Exception_Lost", lost_at)
        assert bundle.loss_proof.tracking_number == original
        assert [m.kind for m in bundle.messages_sent] == ["response", "solution", "buyer_message"]
        assert replacement in bundle.messages_sent[-1].text
        assert [(e.event_id, e.code) for e in bundle.tracking_history] == [
            ("pu", ""),
            ("lost", "Exception_Lost"),
        ]
        (again,) = bundle.replacements
        assert again.shipment is not None
        assert again.shipment.tracking_number == replacement
        assert [(e.event_id, e.code) for e in again.tracking_history] == [
            ("r-pu", ""),
            ("r-dl", "Delivered"),
        ]
        (document,) = bundle.claims
        assert (document.state, document.paid_amount, document.claim_ref) == (
            ClaimState.PAID,
            Money(minor=20_00),
            "YW-1",
        )
        assert document.proof == bundle.loss_proof.reference
        assert not [m for m in bundle.missing if m.startswith(("order-", "claim-"))]
        await save_history(claim, "claim_paid")
        await child.handle.terminate("test over")


async def test_a_reship_number_another_order_holds_is_refused_and_nothing_is_sent(
    env: WorkflowEnvironment,
) -> None:
    taken = fresh_s10("UG")
    async with order_run(env) as other, order_run(env) as run:
        await other.handle.execute_update(
            OrderWorkflow.upload_tracking, UploadTracking(carrier="yanwen", tracking_number=taken)
        )
        original = fresh_s10()
        view = await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=original),
        )
        assert view.order.shipment is not None
        opened = view.order.shipment.uploaded_at + DISPUTED_AFTER
        await run.move_to(opened)
        await run.signal(DisputeOpened(event_id="d", at=opened, dispute_id="D-taken"))
        reship = Solution(
            kind=SolutionKind.RESHIP, reship_carrier="cainiao", reship_tracking_number=taken
        )
        refusal = await run.refusal(
            OrderWorkflow.propose_solution, ProposeSolution(solution=reship)
        )
        assert refusal.type == "duplicate"
        assert other.handle.id in refusal.message
        assert run.platform.keys("propose_solution") == []
        assert run.platform.keys("message_buyer") == []
        assert (await run.view()).state is OrderState.AWAITING_FIRST_RESPONSE

        own = Solution(
            kind=SolutionKind.RESHIP, reship_carrier="china_post", reship_tracking_number=original
        )
        refused = await run.refusal(OrderWorkflow.propose_solution, ProposeSolution(solution=own))
        assert (refused.type, "the lost parcel's own number" in refused.message) == (
            "duplicate",
            True,
        )

        fresh = fresh_s10("UG")
        ok = Solution(
            kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=fresh
        )
        await run.handle.execute_update(
            OrderWorkflow.propose_solution, ProposeSolution(solution=ok)
        )
        held = await env.client.get_workflow_handle(hold_id(fresh)).describe()
        assert (await held.memo())["holder"] == f"{run.handle.id}-R1"
        child = env.client.get_workflow_handle(f"{run.handle.id}-R1")
        shipped = await until(
            lambda: child.query(OrderWorkflow.view), lambda v: v.order.shipment is not None
        )
        assert shipped.order.shipment is not None
        assert shipped.order.shipment.tracking_number == fresh
        await child.terminate("test over")
        await env.client.get_workflow_handle(claim_workflow_id("china_post", original)).terminate()
