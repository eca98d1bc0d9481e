"""Tracking rules on the real server: duplicates (R2), silent carriers (R8), customs (R12)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.events import BuyerConfirmed, CarrierScanned, ParcelDelivered, UploadTracking
from domain.policy import Policy
from domain.states import OrderState
from tests.fakes import FakeCarrier
from tests.numbers import fresh_s10
from tests.workflows.harness import OrderRun, order_run
from workflows.messages import OrderOutcome, OrderView
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H, DAY = timedelta(hours=1), timedelta(days=1)


def upload(number: str) -> UploadTracking:
    return UploadTracking(carrier="china_post", tracking_number=number)


async def test_a_number_held_by_another_order_is_refused_until_that_order_withdraws_it(
    env: WorkflowEnvironment,
) -> None:
    number = fresh_s10("LX")
    async with order_run(env) as a, order_run(env) as b:
        await a.handle.execute_update(OrderWorkflow.upload_tracking, upload(number))
        refusal = await b.refusal(OrderWorkflow.upload_tracking, upload(number))
        assert refusal.type == "duplicate"
        assert a.handle.id in refusal.message
        assert (await b.view()).state is OrderState.AWAITING_SHIPMENT
        assert b.platform.keys("upload_tracking") == []
        await a.handle.execute_update(OrderWorkflow.withdraw_tracking)
        view = await b.handle.execute_update(OrderWorkflow.upload_tracking, upload(number))
        assert view.state is OrderState.SHIPPED


async def test_two_orders_uploading_one_number_at_the_same_instant_end_with_one_winner(
    env: WorkflowEnvironment,
) -> None:
    number = fresh_s10()
    async with AsyncExitStack() as stack:
        runs = [await stack.enter_async_context(order_run(env)) for _ in range(4)]

        async def attempt(run: OrderRun) -> OrderView | ApplicationError:
            try:
                return await run.handle.execute_update(
                    OrderWorkflow.upload_tracking, upload(number)
                )
            except WorkflowUpdateFailedError as failed:
                cause = failed.cause
            assert isinstance(cause, ApplicationError)
            return cause

        outcomes = await asyncio.gather(*(attempt(run) for run in runs))
        winners = [o for o in outcomes if isinstance(o, OrderView)]
        losers = [o for o in outcomes if isinstance(o, ApplicationError)]
        assert len(winners) == 1
        assert {o.type for o in losers} == {"duplicate"}
        assert sum(len(run.platform.keys("upload_tracking")) for run in runs) == 1


async def test_a_carrier_that_does_not_know_the_number_after_four_hours_raises_a_warning(
    env: WorkflowEnvironment,
) -> None:
    carrier = FakeCarrier()
    async with order_run(env, tracking=carrier) as run:
        number = fresh_s10()
        view = await run.handle.execute_update(OrderWorkflow.upload_tracking, upload(number))
        assert view.order.shipment is not None
        uploaded = view.order.shipment.uploaded_at
        await run.reach(uploaded + 4 * H)
        view = await run.view()
        assert view.state is OrderState.SHIPPED
        assert any("carrier does not know this number yet" in n for n in view.order.notices)
        assert carrier.lookups == [[("china_post", number)]]
        assert run.platform.keys("withdraw_tracking") == []


async def test_a_carrier_that_knows_the_number_raises_no_warning(env: WorkflowEnvironment) -> None:
    number = fresh_s10()
    carrier = FakeCarrier(known={number})
    async with order_run(env, tracking=carrier) as run:
        view = await run.handle.execute_update(OrderWorkflow.upload_tracking, upload(number))
        assert view.order.shipment is not None
        await run.reach(view.order.shipment.uploaded_at + 4 * H)
        view = await run.view()
        assert not any("does not know" in n for n in view.order.notices)
        assert len(carrier.lookups) == 1


async def test_a_parcel_held_in_customs_over_48_hours_raises_an_alert(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        view = await run.handle.execute_update(OrderWorkflow.upload_tracking, upload(fresh_s10()))
        assert view.order.shipment is not None
        uploaded = view.order.shipment.uploaded_at
        await run.move_to(uploaded + 3 * H)
        await run.signal(CarrierScanned(event_id="pu", at=uploaded + 3 * H, status="in_transit"))
        customs = uploaded + timedelta(days=3)
        await run.move_to(customs)
        await run.signal(CarrierScanned(event_id="cu", at=customs, status="customs", code="CC"))
        await run.move_to(customs + 48 * H - timedelta(seconds=1))
        assert not any("customs" in n for n in (await run.view()).order.notices)
        await run.reach(customs + 48 * H + timedelta(minutes=1))
        view = await run.view()
        assert any("held in customs since" in n for n in view.order.notices)
        assert view.state is OrderState.LOCKED
        await run.save_history("customs_hold")


async def test_a_number_held_on_one_order_is_refused_on_others_under_any_carrier(
    env: WorkflowEnvironment,
) -> None:
    number = fresh_s10()
    async with order_run(env) as a, order_run(env) as b, order_run(env) as c:
        await a.handle.execute_update(OrderWorkflow.upload_tracking, upload(number))
        for run, carrier in ((b, "cainiao"), (c, "yanwen")):
            refusal = await run.refusal(
                OrderWorkflow.upload_tracking,
                UploadTracking(carrier=carrier, tracking_number=f" {number.lower()} "),
            )
            assert refusal.type == "duplicate"
            assert a.handle.id in refusal.message
            assert run.platform.keys("upload_tracking") == []


async def test_a_number_stays_a_duplicate_180_days_after_its_order_ended_then_is_free(
    env: WorkflowEnvironment,
) -> None:
    number = fresh_s10()
    patient = Policy(handling_time=timedelta(days=400))  # B waits to ship, its clock moving on
    async with order_run(env) as a, order_run(env, policy=patient) as b:
        view = await a.handle.execute_update(OrderWorkflow.upload_tracking, upload(number))
        assert view.order.shipment is not None
        delivered = view.order.shipment.uploaded_at + 5 * DAY
        await a.move_to(delivered)
        await a.signal(ParcelDelivered(event_id="dl", at=delivered, tracking_number=number))
        await a.signal(BuyerConfirmed(event_id="bc", at=delivered))
        outcome = await a.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is OrderState.COMPLETED
        ended = await a.now()

        refusal = await b.refusal(OrderWorkflow.upload_tracking, upload(number))
        assert refusal.type == "duplicate"
        assert f"{a.handle.id}, which has ended" in refusal.message
        await b.move_to(ended + 180 * DAY - DAY)
        assert (await b.refusal(OrderWorkflow.upload_tracking, upload(number))).type == "duplicate"
        await b.move_to(ended + 180 * DAY + DAY)
        shipped = await b.handle.execute_update(OrderWorkflow.upload_tracking, upload(number))
        assert shipped.order.shipment is not None
        assert shipped.order.shipment.tracking_number == number
        assert b.platform.keys("upload_tracking") == [f"{b.handle.id}:upload:1"]
