"""A scan belongs to its parcel (R10) and the carrier is asked before a withdrawal (R8), on the
real server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.seventeentrack.statuses import read_scan
from domain.events import CarrierScanned, UploadTracking
from domain.states import OrderState
from tests.fakes import FakeCarrier
from tests.numbers import fresh_s10
from tests.workflows.harness import OrderRun, order_run, until
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H = timedelta(hours=1)
S = OrderState


async def _now(value: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(value)


async def upload(run: OrderRun, number: str) -> None:
    view = await run.handle.execute_update(
        OrderWorkflow.upload_tracking, UploadTracking(carrier="china_post", tracking_number=number)
    )
    assert view.state is S.SHIPPED


async def test_a_late_pickup_scan_of_the_withdrawn_number_leaves_the_new_one_withdrawable(
    env: WorkflowEnvironment,
) -> None:
    carrier = FakeCarrier()
    first, second = fresh_s10("RR"), fresh_s10("LX")
    async with order_run(env, tracking=carrier) as run:
        await upload(run, first)
        shipped = await run.now()
        await run.move_to(shipped + H)
        withdrawn = await run.handle.execute_update(OrderWorkflow.withdraw_tracking)
        assert withdrawn.state is S.AWAITING_SHIPMENT
        # R10: the withdrawn number is no longer followed (17TRACK stoptrack), once the update
        # has answered the seller.
        stopped = await until(lambda: _now(carrier.stopped), bool)
        assert stopped == [("china_post", first)]
        await upload(run, second)

        # A 17TRACK push (or a poll started before the withdrawal) brings the old parcel's pickup.
        await run.move_to(shipped + 2 * H)
        await run.signal(
            CarrierScanned(
                event_id="pu-old",
                at=shipped + 2 * H,
                status="in_transit",
                code="InTransit_PickedUp",
                tracking_number=first,
            )
        )
        view = await run.view()
        assert view.state is S.SHIPPED
        assert view.order.locked_at is None
        assert view.order.shipment is not None
        assert view.order.shipment.tracking_number == second
        assert view.order.carrier_known is False
        kept = [e for e in view.order.timeline if e.event_id == "pu-old"]
        assert [(e.tracking_number, e.code) for e in kept] == [(first, "InTransit_PickedUp")]

        again = await run.handle.execute_update(OrderWorkflow.withdraw_tracking)
        assert again.state is S.AWAITING_SHIPMENT
        wid = run.handle.id
        assert run.platform.keys("withdraw_tracking") == [f"{wid}:withdraw:1", f"{wid}:withdraw:2"]


async def test_a_scan_the_carrier_has_not_pushed_yet_refuses_the_withdrawal_and_sends_nothing(
    env: WorkflowEnvironment,
) -> None:
    number = fresh_s10()
    carrier = FakeCarrier()
    async with order_run(env, tracking=carrier) as run:
        await upload(run, number)
        shipped = await run.now()
        carrier.scans[number] = [
            read_scan(event_id="e1", at=shipped + H, code="InTransit_PickedUp", location="Yiwu")
        ]
        await run.move_to(shipped + 2 * H)
        refusal = await run.refusal(OrderWorkflow.withdraw_tracking)
        assert refusal.type == "carrier_scanned"
        view = await run.view()
        assert (view.state, view.order.locked_at) == (S.LOCKED, shipped + H)
        assert view.order.lock_reason is not None
        assert view.order.lock_reason.value == "carrier_scanned"
        assert run.platform.keys("withdraw_tracking") == []
        assert carrier.stopped == []
        assert ("china_post", number) in carrier.lookups[-1]
        # R5: asked again, the refusal comes from the order, without asking anyone.
        lookups = len(carrier.lookups)
        assert (await run.refusal(OrderWorkflow.withdraw_tracking)).type == "carrier_scanned"
        assert len(carrier.lookups) == lookups


async def test_without_a_tracking_service_the_withdrawal_goes_ahead_unasked(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        await upload(run, fresh_s10())
        await run.move_to(await run.now() + H)
        withdrawn = await run.handle.execute_update(OrderWorkflow.withdraw_tracking)
        assert withdrawn.state is S.AWAITING_SHIPMENT
        assert run.platform.keys("withdraw_tracking") == [f"{run.handle.id}:withdraw:1"]
