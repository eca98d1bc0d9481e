"""17TRACK end to end: the order registers its number tagged with its own workflow id, the carrier
simulator keeps the tag and echoes it in its signed push, the hook server finds the order by it,
and an order that ends stops the tracking of its number.

Real HTTP throughout: the worker's 17TRACK client against the carrier simulator, the
simulator's push against the hook server.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.tracking import TrackingActivities
from adapters import carrier_sim
from adapters.asgi_server import serve_in_thread
from adapters.carrier_sim.protocol import due_pushes
from adapters.carrier_sim.push import push_due
from adapters.carrier_sim.state import ParcelScript, ScriptedEvent, SettableClock
from adapters.seventeentrack import SeventeenTrackClient
from domain.events import BuyerConfirmed, CarrierScanned, ParcelDelivered
from domain.order import workflow_id_for
from domain.polling import Parcel
from domain.states import OrderState
from tests.e2e.test_hooks import OLD_SECRET, Hooks, new_order_id, order_hook, plain_client
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from workers.hooks import create_app
from workers.orders import Orders
from workers.worker import build_worker
from workflows.messages import FactEnvelope, OrderOutcome

TOKEN = "sim-17track-key"
SCANNED_AT = datetime(2026, 3, 2, 5, tzinfo=UTC)


@dataclass
class Stack:
    """The hook server, the orders behind it and the carrier simulator the worker tracks with."""

    hooks: Hooks
    carrier: carrier_sim.SimState
    tracking: SeventeenTrackClient
    """The worker's own 17TRACK client (the poller's activities use one like it)."""
    task_queue: str


@pytest.fixture
async def stack(env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    carrier = carrier_sim.SimState(TOKEN, SettableClock(SCANNED_AT + timedelta(hours=1)))
    orders = Orders(await plain_client(env), task_queue)
    hook_app = create_app(orders, [OLD_SECRET], seventeentrack_key=TOKEN)
    with (
        serve_in_thread(carrier_sim.create_app(carrier)) as carrier_url,
        serve_in_thread(hook_app) as hooks_url,
    ):
        carrier.webhook_url = f"{hooks_url}/hooks/17track"
        async with (
            SeventeenTrackClient(f"{carrier_url}/track/v2.2", TOKEN) as tracking,
            build_worker(
                env.client, task_queue=task_queue, platform=FakePlatform(), tracking=tracking
            ),
            httpx.AsyncClient(base_url=hooks_url, timeout=30) as http,
        ):
            yield Stack(Hooks(http=http, orders=orders), carrier, tracking, task_queue)


async def eventually(check: Callable[[], bool], within: float = 20.0) -> None:
    """Wait until ``check()`` holds (the order's calls run aside, on the worker)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, "not reached in time"
        await asyncio.sleep(0.1)


async def test_a_push_reaches_its_order_through_the_tag_17track_echoes_and_the_end_stops_it(
    stack: Stack,
) -> None:
    hooks, carrier = stack.hooks, stack.carrier
    order_id, number = new_order_id(), fresh_s10()
    workflow_id = workflow_id_for("aliexpress", order_id)
    assert (await hooks.post("/hooks/orders", order_hook(order_id))).status_code == 202
    await hooks.orders.ship("aliexpress", order_id, "china_post", number)

    # The order's carrier check registered the number with the order's workflow id as tag.
    await eventually(lambda: carrier.tag_of(number) == workflow_id)
    pickup = ScriptedEvent(at=SCANNED_AT, sub_status="InTransit_PickedUp", location="Yiwu")
    carrier.add_script(ParcelScript(number=number, events=(pickup,)))
    [(_, _, body)] = due_pushes(carrier)
    pushed = json.loads(body)["data"]
    assert (pushed["number"], pushed["tag"]) == (number, workflow_id)

    assert await push_due(carrier) == {"pushed": 1, "failed": 0}

    view = await hooks.orders.view("aliexpress", order_id)
    assert (view.state, view.order.first_scan_at) == (OrderState.LOCKED, SCANNED_AT)
    assert view.order.locked_at is not None  # the carrier's scan locked the number (R4.2)
    assert not carrier.stopped
    delivered = ParcelDelivered(
        event_id="dlv-1", at=SCANNED_AT + timedelta(days=9), tracking_number=number, code="DLV"
    )
    await hooks.orders.send_fact("aliexpress", order_id, delivered)
    confirmed = BuyerConfirmed(event_id="cfm-1", at=SCANNED_AT + timedelta(days=10))
    await hooks.orders.send_fact("aliexpress", order_id, confirmed)
    handle = hooks.orders.client.get_workflow_handle(workflow_id, result_type=OrderOutcome)
    outcome = await asyncio.wait_for(handle.result(), timeout=30)
    assert outcome.state is OrderState.COMPLETED
    assert carrier.stopped == {number}  # an order that ends stops its number's tracking


async def fact_signals(orders: Orders, workflow_id: str) -> list[FactEnvelope]:
    """Every ``fact`` signal the order received, as it received it."""
    history = await orders.client.get_workflow_handle(workflow_id).fetch_history()
    convert = orders.client.data_converter.payload_converter
    return [
        convert.from_payloads(signal.input.payloads, [FactEnvelope])[0]
        for event in history.events
        if event.HasField("workflow_execution_signaled_event_attributes")
        and (signal := event.workflow_execution_signaled_event_attributes).signal_name == "fact"
    ]


async def test_a_scan_pushed_then_polled_is_one_fact_and_reaches_the_order_once(
    stack: Stack,
) -> None:
    hooks, carrier = stack.hooks, stack.carrier
    order_id, number = new_order_id(), fresh_s10()
    workflow_id = workflow_id_for("aliexpress", order_id)
    assert (await hooks.post("/hooks/orders", order_hook(order_id))).status_code == 202
    await hooks.orders.ship("aliexpress", order_id, "china_post", number)
    await eventually(lambda: carrier.tag_of(number) == workflow_id)
    customs = ScriptedEvent(
        at=SCANNED_AT, sub_status="Exception_Security", description="Held", location="Paris"
    )
    carrier.add_script(ParcelScript(number=number, events=(customs,)))
    assert await push_due(carrier) == {"pushed": 1, "failed": 0}

    # The poller's look-up of the same number, by a poller that has not seen the push.
    polling = TrackingActivities(hooks.orders.client, stack.tracking, stack.task_queue)
    parcel = Parcel(
        workflow_id=workflow_id, carrier="china_post", number=number, state=OrderState.LOCKED
    )
    (changes,) = (await ActivityEnvironment().run(polling.poll, [parcel], {})).changes
    assert await ActivityEnvironment().run(polling.forward, workflow_id, changes.facts) == 1

    by_push, by_poll = [envelope.fact for envelope in await fact_signals(hooks.orders, workflow_id)]
    assert by_poll == by_push
    assert isinstance(by_push, CarrierScanned)
    assert (by_push.status, by_push.incident, by_push.code, by_push.tracking_number) == (
        "exception",
        "customs_hold",
        "Exception_Security",
        number,
    )
    view = await hooks.orders.view("aliexpress", order_id)
    scans = [e for e in view.order.timeline if e.source == "carrier"]
    assert [(e.event_id, e.status, e.incident, e.code) for e in scans] == [
        (by_push.event_id, "exception", "customs_hold", "Exception_Security")
    ]
    assert view.state is OrderState.LOCKED
