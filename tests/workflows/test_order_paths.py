"""Every path of an order's life on a real Temporal server, time skipped to exact boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.disputes import Solution, SolutionKind
from domain.events import (
    BuyerAnsweredSolution,
    BuyerConfirmed,
    CarrierScanned,
    DisputeOpened,
    EtaChanged,
    OrderClosedByPlatform,
    ParcelDelivered,
    ProofOfDelivery,
    ProposeSolution,
    RespondToDispute,
    UploadTracking,
)
from domain.money import Money
from domain.states import EventKind, OrderState
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from tests.workflows.harness import OrderRun, order_run
from workflows import search_attributes as sa
from workflows.messages import FactEnvelope, OrderOutcome
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H = timedelta(hours=1)
SECOND = timedelta(seconds=1)
S = OrderState


async def ship(run: OrderRun, number: str | None = None) -> OrderRun:
    """S1: upload a fresh China Post number at P+10h."""
    await run.move_to(run.paid_at + 10 * H)
    run.number = number or fresh_s10()
    view = await run.handle.execute_update(
        OrderWorkflow.upload_tracking,
        UploadTracking(carrier="china_post", tracking_number=run.number),
    )
    assert view.state is S.SHIPPED
    return run


async def uploaded_at(run: OrderRun) -> datetime:
    """The upload time U of the order's current shipment."""
    view = await run.view()
    assert view.order.shipment is not None
    return view.order.shipment.uploaded_at


async def test_withdraw_inside_the_window_then_upload_again(env: WorkflowEnvironment) -> None:
    async with order_run(env) as run:
        await ship(run)
        view = await run.view()
        assert view.order.shipment is not None
        upload = view.order.shipment.uploaded_at
        await run.move_to(upload + 24 * H - SECOND)
        withdrawn = await run.handle.execute_update(OrderWorkflow.withdraw_tracking)
        assert withdrawn.state is S.AWAITING_SHIPMENT
        again = await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=fresh_s10("LX")),
        )
        assert again.state is S.SHIPPED
        wid = run.handle.id
        assert run.platform.keys() == [f"{wid}:upload:1", f"{wid}:withdraw:1", f"{wid}:upload:2"]
        await run.save_history("withdraw_and_reupload")


async def test_the_window_closes_exactly_24_hours_after_upload(env: WorkflowEnvironment) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + 24 * H - SECOND)
        assert (await run.view()).state is S.SHIPPED
        await run.reach(upload + 24 * H)
        view = await run.view()
        assert view.state is S.LOCKED
        assert view.order.locked_at == upload + 24 * H
        refusal = await run.refusal(OrderWorkflow.withdraw_tracking)
        assert refusal.type == "window_closed"
        assert run.platform.keys("withdraw_tracking") == []
        described = await run.handle.describe()
        assert described.typed_search_attributes.get(sa.ORDER_STATE) == "locked"
        await run.save_history("window_closes")


async def test_a_withdrawal_at_the_very_second_the_window_closes_is_refused(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + 24 * H)
        refusal = await run.refusal(OrderWorkflow.withdraw_tracking)
        assert refusal.type == "window_closed"
        view = await run.view()
        assert view.state is S.LOCKED
        assert view.order.locked_at == upload + 24 * H
        assert run.platform.keys("withdraw_tracking") == []


async def test_the_first_carrier_scan_locks_and_withdrawal_is_refused_scanned(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + 3 * H)
        await run.signal(
            CarrierScanned(event_id="pu-1", at=upload + 3 * H, status="in_transit", code="PU")
        )
        await run.move_to(upload + 4 * H)
        view = await run.view()
        assert view.state is S.LOCKED
        assert view.order.locked_at == upload + 3 * H
        for _ in range(3):  # S8: asked again, answered from the workflow
            refusal = await run.refusal(OrderWorkflow.withdraw_tracking)
            assert refusal.type == "carrier_scanned"
        assert run.platform.keys("withdraw_tracking") == []
        await run.save_history("scan_locks")


async def test_an_eta_within_five_days_locks_at_once(env: WorkflowEnvironment) -> None:
    async with order_run(env) as run:
        await run.move_to(run.paid_at + 10 * H)
        now = await run.now()
        await run.signal(EtaChanged(event_id="eta-1", at=now, eta=now + timedelta(days=5)))
        view = await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=fresh_s10()),
        )
        assert view.state is S.LOCKED
        assert view.order.lock_reason is not None
        assert view.order.lock_reason.value == "eta_too_close"
        assert (await run.refusal(OrderWorkflow.withdraw_tracking)).type == "eta_too_close"


async def test_the_platform_moving_the_eta_closer_locks_the_order(env: WorkflowEnvironment) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + 6 * H)
        await run.signal(
            EtaChanged(event_id="eta-2", at=upload + 6 * H, eta=upload + timedelta(days=4))
        )
        view = await run.view()
        assert view.state is S.LOCKED
        assert view.order.locked_at == upload + 6 * H


async def test_an_upload_the_platform_call_fails_for_good_is_undone_and_the_number_stays_free(
    env: WorkflowEnvironment,
) -> None:
    """Not a refusal: the call could not be made (the store's authorisation lost). The order
    must not show a number the platform never got."""
    async with order_run(env) as run:
        await run.move_to(run.paid_at + 10 * H)
        number = fresh_s10()
        run.platform.fail["upload_tracking"] = "IllegalRefreshToken: re-authorise the store"
        refusal = await run.refusal(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=number),
        )
        assert refusal.type == "platform_failed"
        assert "IllegalRefreshToken" in refusal.message
        view = await run.view()
        assert (view.state, view.order.shipment) == (S.AWAITING_SHIPMENT, None)
        assert [e.kind for e in view.order.timeline][-1] == "platform_refused_upload"
        assert run.platform.keys("upload_tracking") == []

        del run.platform.fail["upload_tracking"]  # re-authorised: the same number goes through
        view = await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=number),
        )
        assert view.state is S.SHIPPED
        assert len(run.platform.keys("upload_tracking")) == 1


async def test_an_order_not_shipped_in_72_hours_is_closed_unfulfilled(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await run.move_to(run.paid_at + 72 * H - SECOND)
        assert (await run.view()).state is S.AWAITING_SHIPMENT
        await run.move_to(run.paid_at + 72 * H)
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.CLOSED_UNFULFILLED
        assert outcome.order is not None
        closed = [e for e in outcome.order.timeline if e.kind == "handling_time"]
        assert [e.at for e in closed] == [run.paid_at + 72 * H]
        await run.save_history("closed_unfulfilled")


async def open_dispute(run: OrderRun, offset: timedelta = 2 * H) -> datetime:
    upload = await uploaded_at(run)
    opened = upload + offset
    await run.move_to(opened)
    await run.signal(DisputeOpened(event_id="d-1", at=opened, dispute_id="D1"))
    return opened


async def test_a_dispute_locks_at_once_and_no_response_in_24_hours_loses_it(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        opened = await open_dispute(run)
        view = await run.view()
        assert view.state is S.AWAITING_FIRST_RESPONSE
        assert (await run.refusal(OrderWorkflow.withdraw_tracking)).type == "dispute_open"
        described = await run.handle.describe()
        assert described.typed_search_attributes.get(sa.DISPUTE_OPEN) is True
        await run.reach(opened + 12 * H)
        assert any("50%" in n for n in (await run.view()).order.notices)
        await run.move_to(opened + 24 * H)
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.RULED_AGAINST_SELLER
        assert outcome.order is not None
        assert outcome.order.refund_from_deposit == Money(minor=20_00)
        await run.save_history("dispute_no_response")


async def test_a_response_in_time_without_a_solution_loses_at_48_hours(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        opened = await open_dispute(run)
        await run.move_to(opened + 24 * H - SECOND)
        view = await run.handle.execute_update(
            OrderWorkflow.respond_to_dispute, RespondToDispute(message="tracking shows it moving")
        )
        assert view.state is S.AWAITING_SOLUTION
        await run.move_to(opened + 48 * H - SECOND)
        assert (await run.view()).state is S.AWAITING_SOLUTION
        await run.move_to(opened + 48 * H)
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.RULED_AGAINST_SELLER
        assert run.platform.keys("answer_dispute") == [f"{run.handle.id}:dispute:D1:response"]
        await run.save_history("dispute_no_solution")


async def test_a_partial_refund_in_time_resolves_the_dispute(env: WorkflowEnvironment) -> None:
    async with order_run(env) as run:
        await ship(run)
        opened = await open_dispute(run)
        await run.move_to(opened + 10 * H)
        await run.handle.execute_update(
            OrderWorkflow.respond_to_dispute, RespondToDispute(message="sorry")
        )
        await run.move_to(opened + 30 * H)
        too_much = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=20_01))
        refusal = await run.refusal(
            OrderWorkflow.propose_solution, ProposeSolution(solution=too_much)
        )
        assert refusal.type == "invalid_amount"
        partial = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=6_00))
        view = await run.handle.execute_update(
            OrderWorkflow.propose_solution, ProposeSolution(solution=partial)
        )
        assert view.state is S.SOLUTION_OFFERED
        now = await run.now()
        await run.signal(
            BuyerAnsweredSolution(event_id="ba-1", at=now, kind=EventKind.BUYER_ACCEPTED_SOLUTION)
        )
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.DISPUTE_RESOLVED
        assert run.platform.keys("propose_solution") == [f"{run.handle.id}:dispute:D1:solution:1"]
        await run.save_history("dispute_resolved")


async def test_thirty_days_without_delivery_expires_tracking(env: WorkflowEnvironment) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + timedelta(days=30) - SECOND)
        assert (await run.view()).state is S.LOCKED
        await run.reach(upload + timedelta(days=30))
        view = await run.view()
        assert view.state is S.TRACKING_EXPIRED
        assert any("claim or reship" in n for n in view.order.notices)
        await run.save_history("tracking_expired")


async def test_delivery_then_buyer_confirmation_completes_the_order(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + 3 * H)
        await run.signal(
            CarrierScanned(event_id="s1", at=upload + 3 * H, status="in_transit", code="PU")
        )
        await run.move_to(upload + timedelta(days=9))
        proof = ProofOfDelivery(signer="J.", photo_url="https://pod.example/p.jpg")
        delivered = ParcelDelivered(
            event_id="dl", at=upload + timedelta(days=9), code="DL", proof=proof
        )
        await run.signal(delivered)
        await run.signal(delivered)  # redelivered: changes nothing
        view = await run.view()
        assert view.state is S.DELIVERED
        assert view.order.proof_of_delivery == proof
        assert [e.event_id for e in view.order.timeline if e.source == "carrier"] == ["s1", "dl"]
        await run.move_to(upload + timedelta(days=10))
        await run.signal(BuyerConfirmed(event_id="bc", at=upload + timedelta(days=10)))
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.COMPLETED
        await run.save_history("delivered_completed")


async def test_a_platform_refusal_is_reported_once_and_never_retried(
    env: WorkflowEnvironment,
) -> None:
    platform = FakePlatform(refuse={"withdraw_tracking": ("carrier_scanned", "parcel picked up")})
    async with order_run(env, platform=platform) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + H)
        first = await run.refusal(OrderWorkflow.withdraw_tracking)
        assert first.type == "carrier_scanned"
        view = await run.view()
        assert view.state is S.LOCKED
        assert view.order.shipment is not None
        assert view.order.shipment.tracking_number == run.number
        for _ in range(2):
            assert (await run.refusal(OrderWorkflow.withdraw_tracking)).type == "carrier_scanned"
        assert len(run.platform.keys("withdraw_tracking")) == 1


async def test_a_not_received_dispute_after_a_photo_delivery_answers_with_the_proof(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + timedelta(days=8))
        proof = ProofOfDelivery(signer="Li Wei", photo_url="https://pod.example/p.jpg")
        at = upload + timedelta(days=8)
        await run.signal(ParcelDelivered(event_id="dl", at=at, code="DL", proof=proof))
        await run.move_to(at + 2 * H)
        await run.signal(DisputeOpened(event_id="d-8", at=at + 2 * H, dispute_id="D8"))
        view = await run.handle.execute_update(
            OrderWorkflow.respond_to_dispute, RespondToDispute(message="Delivered, see proof.")
        )
        assert view.state is S.AWAITING_SOLUTION
        (call,) = [c for c in run.platform.calls if c.method == "answer_dispute"]
        assert "signed by Li Wei" in str(call.args[1])
        assert "https://pod.example/p.jpg" in str(call.args[1])


async def test_a_high_value_order_warns_until_its_packing_video_is_attached(
    env: WorkflowEnvironment,
) -> None:
    from domain.events import AttachPackingVideo  # noqa: PLC0415

    async with order_run(env, total=Money(minor=120_00)) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.reach(upload + 2 * H)
        view = await run.view()
        assert any("without its packing-video still" in n for n in view.order.notices)
        view = await run.handle.execute_update(
            OrderWorkflow.attach_packing_video, AttachPackingVideo(reference="videos/p.mp4")
        )
        assert view.order.packing_video == "videos/p.mp4"


async def test_a_locked_order_names_the_r9_alternatives_in_its_refusal_and_view(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        upload = await uploaded_at(run)
        await run.move_to(upload + 3 * H)
        await run.signal(CarrierScanned(event_id="pu-9", at=upload + 3 * H, status="in_transit"))
        refusal = await run.refusal(OrderWorkflow.withdraw_tracking)
        assert refusal.type == "carrier_scanned"
        assert "logistics-exception negotiation" in refusal.message
        view = await run.view()
        assert len(view.alternatives) == 1
        assert "reship without penalty" in view.alternatives[0]


async def test_an_order_the_platform_ends_in_a_dispute_closes_with_its_reason_and_no_ruling(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await ship(run)
        opened = await open_dispute(run)
        await run.move_to(opened + 10 * H)
        closing = OrderClosedByPlatform(
            event_id="platform-order-finished:1", at=opened + 10 * H, reason="refund_by_platform"
        )
        await run.handle.signal(OrderWorkflow.fact, FactEnvelope(fact=closing))
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.CLOSED_BY_PLATFORM
        assert outcome.order is not None
        assert outcome.order.resolution == (
            "closed by the platform: refund_by_platform (while dispute_awaiting_response)"
        )
        assert outcome.order.refund_from_deposit is None
        closed = [e for e in outcome.order.timeline if e.kind == "order_closed_by_platform"]
        assert [(e.at, e.code) for e in closed] == [(opened + 10 * H, "refund_by_platform")]
        assert any("check on the platform what it cost" in n for n in outcome.order.notices)
        assert run.platform.keys("answer_dispute") == []
