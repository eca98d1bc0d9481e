"""A long-lived order keeps its history bounded and loses nothing when it continues as new."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.events import CarrierScanned, UploadTracking
from domain.states import OrderState
from tests.numbers import fresh_s10
from tests.workflows.harness import order_run
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal


async def test_a_chatty_order_continues_as_new_carrying_its_timeline_and_dedup_keys(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env, continue_as_new_after=40) as run:
        await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=fresh_s10()),
        )
        start = await run.now()
        first_run = (await run.handle.describe()).run_id
        for n in range(30):
            await run.signal(
                CarrierScanned(
                    event_id=f"s{n}", at=start + timedelta(minutes=n), status="in_transit"
                )
            )
        await run.signal(CarrierScanned(event_id="s3", at=start, status="in_transit"))
        described = await run.handle.describe()
        assert described.run_id != first_run
        assert (described.history_length or 0) < 40
        view = await run.view()
        assert view.state is OrderState.LOCKED
        scans = [e.event_id for e in view.order.timeline if e.source == "carrier"]
        assert scans == [f"s{n}" for n in range(30)]


async def test_an_accepted_number_cannot_be_edited_only_withdrawn(env: WorkflowEnvironment) -> None:
    first = fresh_s10()
    async with order_run(env) as run:
        await run.handle.execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=first),
        )
        refusal = await run.refusal(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=fresh_s10("LX")),
        )
        assert refusal.type == "wrong_state"
        view = await run.view()
        assert view.order.shipment is not None
        assert view.order.shipment.tracking_number == first
        assert len(run.platform.keys("upload_tracking")) == 1
