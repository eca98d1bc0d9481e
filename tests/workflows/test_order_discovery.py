"""Orders the hooks missed: the discovery poller starts them, reads their ETA back, ends them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.discovery import Discovered, DiscoveryActivities
from domain.events import BuyerConfirmed, Fact, UploadTracking
from domain.marketplace import PlatformOrder
from domain.money import Money
from domain.order import OrderFacts, workflow_id_for
from domain.states import OrderState
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from tests.workflows.harness import until
from workers.orders import Delivery, Orders
from workers.worker import build_worker
from workflows.messages import OrderOutcome, OrderView
from workflows.order import OrderWorkflow
from workflows.order_discovery import DiscoveryPollerInput, DiscoveryPollerWorkflow

pytestmark = pytest.mark.temporal
H = timedelta(hours=1)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def fresh_id() -> str:
    """A numeric order id no other test of the session uses."""
    return str(4_400_000_000 + uuid.uuid4().int % 100_000_000)


@dataclass
class Discovery:
    """A worker, its fake platform, a running discovery poller and the poller's clock."""

    env: WorkflowEnvironment
    platform: FakePlatform
    orders: Orders
    poller: WorkflowHandle[DiscoveryPollerWorkflow, None]
    now: datetime

    def list_on_platform(self, order_id: str, **kw: object) -> PlatformOrder:
        base: dict[str, object] = {
            "order_id": order_id,
            "status": "WAIT_SELLER_SEND_GOODS",
            "seller_id": "store-7",
            "total": Money(minor=31_50),
            "paid_at": self.now - H,
            "estimated_delivery": self.now + 20 * DAY,
        }
        order = PlatformOrder.model_validate(base | kw)
        self.platform.orders[order_id] = order
        return order

    def change(self, order_id: str, **kw: object) -> None:
        self.platform.orders[order_id] = self.platform.orders[order_id].model_copy(update=kw)

    def order(self, order_id: str) -> WorkflowHandle[OrderWorkflow, object]:
        return self.env.client.get_workflow_handle_for(
            OrderWorkflow.run, workflow_id_for("aliexpress", order_id)
        )

    async def view_once_started(self, order_id: str) -> OrderView:
        async def read() -> OrderView | None:
            try:
                return await self.order(order_id).query(OrderWorkflow.view)
            except Exception:  # noqa: BLE001 - not started yet
                return None

        view = await until(read, lambda v: v is not None)
        assert view is not None
        return view

    async def rounds(self) -> int:
        return (await self.poller.query(DiscoveryPollerWorkflow.memory)).rounds


@asynccontextmanager
async def discovery(env: WorkflowEnvironment) -> AsyncIterator[Discovery]:
    """A poller reading an (at first empty) platform every second of the server's clock."""
    platform = FakePlatform()
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    every = DiscoveryPollerInput(
        every=SECOND, hook_grace=H / 2, awaiting_every=SECOND, shipped_every=SECOND
    )
    async with build_worker(env.client, task_queue=task_queue, platform=platform):
        # Skipping stays off while orders start from the poller: they keep the server's clock.
        with env.with_time_skipping_disabled():
            poller = await env.client.start_workflow(
                DiscoveryPollerWorkflow.run,
                every,
                id=f"order-discovery-{task_queue}",
                task_queue=task_queue,
            )
            now = (await env.get_current_time(poller)).replace(microsecond=0)
            yield Discovery(env, platform, Orders(env.client, task_queue), poller, now)
            await poller.terminate("test over")


async def test_an_order_whose_hook_was_dropped_is_started_once_even_when_the_hook_comes(
    env: WorkflowEnvironment,
) -> None:
    async with discovery(env) as run:
        dropped = fresh_id()
        run.list_on_platform(dropped)

        view = await run.view_once_started(dropped)
        facts = view.order.facts
        assert view.state is OrderState.AWAITING_SHIPMENT
        assert (facts.seller_id, facts.total) == ("store-7", Money(minor=31_50))
        assert (facts.paid_at, facts.eta) == (run.now - H, run.now + 20 * DAY)

        # The hook arrives after all, with the category the listing does not carry.
        hook = OrderFacts.model_validate(facts.model_dump() | {"category": "watches"})
        assert await run.orders.create(hook) is Delivery.ACCEPTED
        seen = await run.rounds()
        await until(run.rounds, lambda n: n >= seen + 2)
        runs = await run.orders.list(f"WorkflowId = '{facts.workflow_id}'")
        assert len(runs) == 1
        assert (await run.order(dropped).query(OrderWorkflow.view)).order.facts.category is None


async def test_a_hook_first_then_the_poll_of_the_same_order_make_one_workflow(
    env: WorkflowEnvironment,
) -> None:
    async with discovery(env) as run:
        hooked = fresh_id()
        listed = run.list_on_platform(hooked)
        assert listed.paid_at is not None
        assert listed.total is not None
        hook = OrderFacts(
            order_id=hooked,
            seller_id="store-7",
            total=listed.total,
            paid_at=listed.paid_at,
            eta=run.now + 18 * DAY,
            category="watches",
        )
        assert await run.orders.create(hook) is Delivery.ACCEPTED
        await until(
            lambda: run.poller.query(DiscoveryPollerWorkflow.memory),
            lambda m: any(f.order_id == hooked for f in m.followed),
        )
        runs = await run.orders.list(f"WorkflowId = '{hook.workflow_id}'")
        assert len(runs) == 1
        assert (await run.view_once_started(hooked)).order.facts == hook


async def test_an_eta_read_back_reaches_the_order_once_and_an_auto_confirmed_order_completes(
    env: WorkflowEnvironment,
) -> None:
    async with discovery(env) as run:
        shipped = fresh_id()
        run.list_on_platform(shipped)
        await run.view_once_started(shipped)
        await run.order(shipped).execute_update(
            OrderWorkflow.upload_tracking,
            UploadTracking(carrier="china_post", tracking_number=fresh_s10()),
        )
        moved = run.now + 27 * DAY
        run.change(shipped, status="WAIT_BUYER_ACCEPT_GOODS", estimated_delivery=moved)

        view = await until(
            lambda: run.order(shipped).query(OrderWorkflow.view), lambda v: v.order.eta == moved
        )
        assert view.state is OrderState.SHIPPED
        seen = await run.rounds()
        await until(run.rounds, lambda n: n >= seen + 3)
        timeline = (await run.order(shipped).query(OrderWorkflow.view)).order.timeline
        assert [e.kind for e in timeline].count("eta_changed") == 1

        run.change(shipped, status="FINISH", end_reason="buyer_accept_goods_timeout")
        async with asyncio.timeout(10):
            outcome = await run.order(shipped).result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is OrderState.COMPLETED
        described = await run.order(shipped).describe()
        assert described.status is WorkflowExecutionStatus.COMPLETED
        memory = await until(
            lambda: run.poller.query(DiscoveryPollerWorkflow.memory),
            lambda m: all(f.order_id != shipped for f in m.followed),
        )
        assert memory.forwarded == [
            f"platform-eta:{shipped}:{moved.isoformat()}",
            f"platform-order-finished:{shipped}",
        ]


async def test_an_order_still_listed_after_its_workflow_ended_is_neither_started_nor_followed(
    env: WorkflowEnvironment,
) -> None:
    async with discovery(env) as run:
        over = fresh_id()
        listed = run.list_on_platform(over, paid_at=run.now + DAY)  # paid "later": not yet
        assert listed.total is not None
        hook = OrderFacts(order_id=over, seller_id="store-7", total=listed.total, paid_at=run.now)
        assert await run.orders.create(hook) is Delivery.ACCEPTED
        await run.orders.ship("aliexpress", over, "china_post", fresh_s10())
        confirmed = BuyerConfirmed(event_id="hook-confirmed", at=run.now + SECOND)
        await run.orders.send_fact("aliexpress", over, confirmed)
        async with asyncio.timeout(10):
            await run.order(over).result()

        run.change(over, paid_at=run.now - H)  # the platform still lists it, paid long ago
        memory = await until(
            lambda: run.poller.query(DiscoveryPollerWorkflow.memory), lambda m: over in m.ended
        )
        seen = memory.rounds
        memory = await until(
            lambda: run.poller.query(DiscoveryPollerWorkflow.memory),
            lambda m: m.rounds >= seen + 2,
        )
        assert memory.ended == [over]
        assert all(f.order_id != over for f in memory.followed)
        assert run.platform.reads.count(over) == 1  # read when listed, then left alone
        assert len(await run.orders.list(f"WorkflowId = '{hook.workflow_id}'")) == 1


async def test_a_listing_whose_worker_died_is_made_again_within_seconds(
    env: WorkflowEnvironment,
) -> None:
    # A worker SIGKILLed mid-listing neither answers nor heartbeats: the next worker must take
    # the listing over in seconds, or every dropped hook waits that long to be found.
    platform, starts = FakePlatform(), RecordedStarts()
    real = DiscoveryActivities(platform, starts)
    started = starts.created
    attempts: list[int] = []

    @activity.defn(name="discovery.list")
    async def list_awaiting(
        marketplace: str, known: list[str], paid_before: datetime
    ) -> Discovered:
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            await asyncio.Event().wait()  # the dead worker's call: no answer, no heartbeat
        return await real.list_awaiting(marketplace, known, paid_before)

    queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[DiscoveryPollerWorkflow],
        activities=[list_awaiting, real.check],
    ):
        with env.with_time_skipping_disabled():
            poller = await env.client.start_workflow(
                DiscoveryPollerWorkflow.run,
                DiscoveryPollerInput(every=SECOND, hook_grace=SECOND),
                id=f"order-discovery-{queue}",
                task_queue=queue,
            )
        now = await env.get_current_time(poller)
        dropped = fresh_id()
        platform.orders[dropped] = PlatformOrder(
            order_id=dropped,
            status="WAIT_SELLER_SEND_GOODS",
            seller_id="store-7",
            total=Money(minor=31_50),
            paid_at=now - H,
            estimated_delivery=now + 20 * DAY,
        )
        began = asyncio.get_running_loop().time()
        try:
            await until(lambda: _now(started), bool, limit=30)
            took = asyncio.get_running_loop().time() - began
            assert [facts.order_id for facts in started] == [dropped]
            assert len(attempts) == 2
            assert took < 20  # its 10 s heartbeat timeout, then a retry (not 30 s)
        finally:
            await poller.terminate("test over")


@dataclass
class RecordedStarts:
    """The order starts a poller asked for (no order workflow runs)."""

    created: list[OrderFacts] = field(default_factory=list)

    async def create(self, facts: OrderFacts) -> Delivery:
        self.created.append(facts)
        return Delivery.ACCEPTED

    async def send_fact(self, marketplace: str, order_id: str, fact: Fact) -> Delivery:
        raise AssertionError(f"no fact expected, got {fact.kind} for {marketplace} {order_id}")


async def _now(value: list[OrderFacts]) -> list[OrderFacts]:
    return list(value)
