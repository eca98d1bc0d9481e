"""Pull ingestion on the real server: the poller finds scans at the carrier and signals changes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.tracking import TrackingActivities
from adapters.asgi_server import serve_in_thread
from adapters.carrier_sim import ParcelScript, ScriptedEvent, SettableClock, SimState, create_app
from adapters.seventeentrack import SeventeenTrackClient
from domain.errors import RefusalReason
from domain.polling import Parcel
from domain.states import OrderState
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from tests.workflows.harness import order_facts
from workers.orders import Orders
from workers.worker import build_worker
from workflows.order import OrderWorkflow
from workflows.tracking_poller import PollerInput, PollerProgress, TrackingPollerWorkflow

pytestmark = pytest.mark.temporal

Poller = WorkflowHandle[TrackingPollerWorkflow, None]


@dataclass
class Sim:
    """The carrier simulator served over real HTTP, and its clock."""

    state: SimState
    clock: SettableClock
    url: str

    def client(self) -> SeventeenTrackClient:
        # Unpaced: pacing has its own tests (tests/adapters/test_seventeentrack_tags_and_limits.py).
        return SeventeenTrackClient(
            f"{self.url}/track/v2.2", "dev-token", batch_size=50, max_rate=None
        )

    def requests(self, path: str) -> int:
        return int(self.state.request_counts()["requests"].get(path, 0))


@pytest.fixture
def sim() -> Iterator[Sim]:
    clock = SettableClock(datetime.now(UTC))
    state = SimState("dev-token", clock, max_batch=50)
    with serve_in_thread(create_app(state)) as url:
        yield Sim(state, clock, url)


@dataclass(frozen=True)
class Queues:
    """The orders' task queue, and the poller's own."""

    orders: str
    poller: str


@asynccontextmanager
async def workers(
    env: WorkflowEnvironment,
    sim: Sim,
    listing: Callable[[], Awaitable[list[Parcel]]] | None = None,
) -> AsyncIterator[Queues]:
    """The order worker, and a poller worker on its own queue, both against the simulator.

    ``listing`` replaces the visibility listing (1,000 orders without 1,000 workflows).
    """
    queues = Queues(orders=f"tq-{uuid.uuid4().hex[:8]}", poller=f"tq-{uuid.uuid4().hex[:8]}")
    async with sim.client() as tracking:
        polling = TrackingActivities(env.client, tracking, queues.orders)
        async with (
            build_worker(
                env.client, task_queue=queues.orders, platform=FakePlatform(), tracking=tracking
            ),
            Worker(
                env.client,
                task_queue=queues.poller,
                workflows=[TrackingPollerWorkflow],
                activities=[listing or polling.list_parcels, polling.poll, polling.forward],
            ),
        ):
            yield queues


async def start_poller(env: WorkflowEnvironment, task_queue: str, inp: PollerInput) -> Poller:
    with env.with_time_skipping_disabled():
        started = await env.client.start_workflow(
            TrackingPollerWorkflow.run,
            inp,
            id=f"tracking-poller-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
    # Not pinned to the first run: the poller continues as new.
    return env.client.get_workflow_handle_for(TrackingPollerWorkflow.run, started.id)


async def until(check: Callable[[], Awaitable[bool]], limit: float = 60.0) -> None:
    async with asyncio.timeout(limit):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def progress_reaches(
    poller: Poller, reached: Callable[[PollerProgress], bool]
) -> PollerProgress:
    """The poller's progress once ``reached`` holds (its totals run across its runs)."""
    seen: list[PollerProgress] = []

    async def done() -> bool:
        try:
            progress = await poller.query(TrackingPollerWorkflow.progress)
        except RPCError as error:  # a fresh run (continued as new) has not started yet
            if error.status is not RPCStatusCode.FAILED_PRECONDITION:
                raise
            return False
        seen.append(progress)
        return reached(progress)

    await until(done)
    return seen[-1]


async def fact_signals(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(
        1
        for event in history.events
        if event.HasField("workflow_execution_signaled_event_attributes")
        and event.workflow_execution_signaled_event_attributes.signal_name == "fact"
    )


@pytest.mark.parametrize("continue_as_new_after", [2_000, 1], ids=["one_run", "new_run_each"])
async def test_a_pickup_found_by_polling_locks_the_order_and_is_signalled_only_once(
    env: WorkflowEnvironment, sim: Sim, continue_as_new_after: int
) -> None:
    number = fresh_s10()
    async with workers(env, sim) as queues:
        orders = Orders(env.client, queues.orders)
        facts = order_facts(datetime.now(UTC))
        with env.with_time_skipping_disabled():
            await orders.create(facts)
            await orders.ship(facts.marketplace, facts.order_id, "china_post", number)
        picked_up = datetime.now(UTC)
        sim.state.add_script(
            ParcelScript(
                number=number,
                events=(
                    ScriptedEvent(
                        at=picked_up,
                        sub_status="InTransit_PickedUp",
                        description="Picked up",
                        location="Shenzhen",
                    ),
                ),
            )
        )
        sim.clock.set(picked_up + timedelta(seconds=1))
        listed = f"TaskQueue = '{queues.orders}' AND TrackingNumber = '{number}'"
        await until(lambda: _counted(env.client, listed))

        poller = await start_poller(
            env, queues.poller, PollerInput(continue_as_new_after=continue_as_new_after)
        )
        try:
            first = await progress_reaches(poller, lambda p: p.cycles >= 1)
            assert (first.listed, first.parcels_polled, first.facts_forwarded) == (1, 1, 1)
            view = await orders.view(facts.marketplace, facts.order_id)
            assert view.state is OrderState.LOCKED
            assert view.order.lock_reason is RefusalReason.CARRIER_SCANNED
            assert [e.code for e in view.order.timeline if e.source == "carrier"] == [
                "InTransit_PickedUp"
            ]
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await orders.handle(facts.marketplace, facts.order_id).execute_update(
                    OrderWorkflow.withdraw_tracking
                )
            assert isinstance(refused.value.cause, ApplicationError)
            assert refused.value.cause.type == "carrier_scanned"
            assert await fact_signals(env.client, facts.workflow_id) == 1
            lookups, registrations = sim.requests("gettrackinfo"), sim.requests("register")

            # A locked parcel is polled again 3 h later (R12): nothing new, so no signal.
            await env.fast_forward(poller, timedelta(hours=3, minutes=1))
            second = await progress_reaches(poller, lambda p: p.parcels_polled >= 2)
            assert (second.parcels_polled, second.facts_forwarded) == (2, 1)
            assert sim.requests("gettrackinfo") == lookups + 1
            assert sim.requests("register") == registrations
            assert await fact_signals(env.client, facts.workflow_id) == 1
        finally:
            await poller.terminate()


async def _counted(client: Client, query: str) -> bool:
    return (await client.count_workflows(query)).count >= 1


def fake_listing(parcels: list[Parcel]) -> Callable[[], Awaitable[list[Parcel]]]:
    @activity.defn(name="tracking.list_parcels")
    async def list_parcels() -> list[Parcel]:
        return parcels

    return list_parcels


async def test_1000_shipped_parcels_cost_at_most_20_lookups_a_cycle(
    env: WorkflowEnvironment, sim: Sim
) -> None:
    uploaded = datetime.now(UTC)
    parcels = [
        Parcel(
            workflow_id=f"order-aliexpress-q{n}",
            carrier="china_post",
            number=f"LP{n:09d}CN",
            state=OrderState.SHIPPED,
            uploaded_at=uploaded,
        )
        for n in range(1_000)
    ]
    for parcel in parcels:
        sim.state.add_script(ParcelScript(number=parcel.number))
    async with workers(env, sim, fake_listing(parcels)) as queues:
        poller = await start_poller(env, queues.poller, PollerInput())
        try:
            first = await progress_reaches(poller, lambda p: p.cycles >= 1)
            assert (first.listed, first.parcels_polled) == (1_000, 1_000)
            assert sim.requests("gettrackinfo") <= 20
            assert sim.requests("register") <= 20

            # Shipped parcels are polled again 15 min later; nothing is registered twice.
            await env.fast_forward(poller, timedelta(minutes=15))
            second = await progress_reaches(poller, lambda p: p.parcels_polled >= 2_000)
            assert second.parcels_polled == 2_000
            assert sim.requests("gettrackinfo") <= 40
            assert sim.requests("register") <= 20
            assert sim.state.request_counts()["numbers"]["gettrackinfo"] == 2_000
        finally:
            await poller.terminate()


async def test_a_withdrawn_number_is_stopped_at_the_tracking_service_and_polled_no_more(
    env: WorkflowEnvironment, sim: Sim
) -> None:
    withdrawn, current = fresh_s10(), fresh_s10("LX")
    async with workers(env, sim) as queues:
        orders = Orders(env.client, queues.orders)
        facts = order_facts(datetime.now(UTC))
        with env.with_time_skipping_disabled():
            await orders.create(facts)
            await orders.ship(facts.marketplace, facts.order_id, "china_post", withdrawn)
            await orders.withdraw(facts.marketplace, facts.order_id)
            await orders.ship(facts.marketplace, facts.order_id, "china_post", current)

        async def stopped() -> bool:
            return withdrawn in sim.state.stopped

        await until(stopped)  # 17TRACK stoptrack, right after the withdrawal
        listed = f"TaskQueue = '{queues.orders}' AND TrackingNumber = '{current}'"
        await until(lambda: _counted(env.client, listed))
        sim.state.add_script(
            ParcelScript(
                number=withdrawn,
                events=(ScriptedEvent(at=datetime.now(UTC), sub_status="InTransit_PickedUp"),),
            )
        )
        sim.clock.set(datetime.now(UTC) + timedelta(seconds=1))
        before = sim.state.request_counts()["numbers"].get("gettrackinfo", 0)

        poller = await start_poller(env, queues.poller, PollerInput())
        try:
            first = await progress_reaches(poller, lambda p: p.cycles >= 1)
            assert (first.listed, first.parcels_polled, first.facts_forwarded) == (1, 1, 0)
            assert sim.state.request_counts()["numbers"]["gettrackinfo"] == before + 1
            view = await orders.view(facts.marketplace, facts.order_id)
            assert view.state is OrderState.SHIPPED
            assert view.order.shipment is not None
            assert view.order.shipment.tracking_number == current
            assert [e for e in view.order.timeline if e.source == "carrier"] == []
        finally:
            await poller.terminate()


@pytest.mark.parametrize("call", ["tracking.list_parcels", "tracking.forward"])
async def test_a_call_whose_worker_died_is_made_again_within_seconds(
    env: WorkflowEnvironment, sim: Sim, call: str
) -> None:
    # A worker SIGKILLed mid-call neither answers nor heartbeats: the poller must notice it in
    # seconds, not at the call's timeout, since its cycle awaits the listing and every forward.
    number = fresh_s10()
    scanned = datetime.now(UTC) - timedelta(minutes=1)
    sim.state.add_script(
        ParcelScript(
            number=number, events=(ScriptedEvent(at=scanned, sub_status="InTransit_PickedUp"),)
        )
    )
    parcel = Parcel(
        workflow_id="order-aliexpress-dead-worker",
        carrier="china_post",
        number=number,
        state=OrderState.SHIPPED,
        uploaded_at=scanned,
    )
    attempts: list[str] = []

    async def first_attempt_dies(name: str) -> None:
        attempts.append(name)
        if name == call and attempts.count(name) == 1:
            await asyncio.Event().wait()  # the dead worker's call: no answer, no heartbeat

    @activity.defn(name="tracking.list_parcels")
    async def list_parcels() -> list[Parcel]:
        await first_attempt_dies("tracking.list_parcels")
        return [parcel]

    @activity.defn(name="tracking.forward")
    async def forward(_workflow_id: str, facts: list[object]) -> int:
        await first_attempt_dies("tracking.forward")
        return len(facts)

    queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with (
        sim.client() as tracking,
        Worker(
            env.client,
            task_queue=queue,
            workflows=[TrackingPollerWorkflow],
            activities=[
                list_parcels,
                TrackingActivities(env.client, tracking, queue).poll,
                forward,
            ],
        ),
    ):
        began = asyncio.get_running_loop().time()
        poller = await start_poller(env, queue, PollerInput())
        try:
            await progress_reaches(poller, lambda p: p.facts_forwarded >= 1)
            took = asyncio.get_running_loop().time() - began
            assert attempts.count(call) == 2
            assert took < 25  # its 10 s heartbeat timeout, then a retry (not 30 s, not 2 min)
        finally:
            await poller.terminate()
