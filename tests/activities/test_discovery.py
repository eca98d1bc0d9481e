"""Discovery by polling: orders the hook missed are started with the platform's facts, and an open
order's moved ETA and its end are sent to it once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment

from activities.discovery import DiscoveryActivities, Followed
from domain.events import BuyerConfirmed, EtaChanged, Fact, OrderClosedByPlatform
from domain.marketplace import PlatformOrder
from domain.money import Money
from domain.order import OrderFacts
from tests.fakes import FakePlatform
from workers.orders import Delivery

T0 = datetime(2025, 6, 3, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class FakeOrders:
    """The order workflows' client: records each start and fact; ``ended`` orders are over."""

    ended: set[str] = field(default_factory=set)
    created: list[OrderFacts] = field(default_factory=list)
    facts: list[tuple[str, Fact]] = field(default_factory=list)

    async def create(self, facts: OrderFacts) -> Delivery:
        self.created.append(facts)
        return Delivery.ALREADY_PROCESSED if facts.order_id in self.ended else Delivery.ACCEPTED

    async def send_fact(self, marketplace: str, order_id: str, fact: Fact) -> Delivery:
        assert marketplace == "aliexpress"
        self.facts.append((order_id, fact))
        return Delivery.ALREADY_PROCESSED if order_id in self.ended else Delivery.ACCEPTED


def listed(order_id: str, status: str = "WAIT_SELLER_SEND_GOODS", **kw: object) -> PlatformOrder:
    base: dict[str, object] = {
        "order_id": order_id,
        "status": status,
        "seller_id": "store-7",
        "total": Money(minor=31_50),
        "paid_at": T0 - DAY,
        "estimated_delivery": T0 + 20 * DAY,
    }
    base.update(kw)
    return PlatformOrder.model_validate(base)


def platform_with(*orders: PlatformOrder, page_size: int = 50) -> FakePlatform:
    platform = FakePlatform(page_size=page_size)
    platform.orders.update((o.order_id, o) for o in orders)
    return platform


async def test_an_order_the_hook_missed_is_started_with_the_platforms_facts() -> None:
    platform = platform_with(listed("501"), listed("502", "WAIT_BUYER_ACCEPT_GOODS"))
    orders = FakeOrders()
    acts = DiscoveryActivities(platform, orders)

    done = await ActivityEnvironment().run(acts.list_awaiting, "aliexpress", [], T0)

    assert done.started == ["501"]
    (facts,) = orders.created
    assert (facts.order_id, facts.seller_id, facts.total) == ("501", "store-7", Money(minor=31_50))
    assert (facts.paid_at, facts.eta) == (T0 - DAY, T0 + 20 * DAY)
    assert [(f.order_id, f.eta) for f in done.listed] == [("501", T0 + 20 * DAY)]


async def test_an_order_already_followed_is_not_started_again_and_every_page_is_read() -> None:
    platform = platform_with(*(listed(f"60{n}") for n in range(5)), page_size=2)
    orders = FakeOrders()
    acts = DiscoveryActivities(platform, orders)

    done = await ActivityEnvironment().run(acts.list_awaiting, "aliexpress", ["600", "603"], T0)

    assert sorted(f.order_id for f in orders.created) == ["601", "602", "604"]
    assert sorted(f.order_id for f in done.listed) == ["600", "601", "602", "603", "604"]
    assert done.complete


async def test_an_order_paid_within_the_hooks_grace_is_left_to_its_hook() -> None:
    platform = platform_with(listed("551", paid_at=T0 - timedelta(minutes=5)))
    orders = FakeOrders()
    acts = DiscoveryActivities(platform, orders)

    early = await ActivityEnvironment().run(
        acts.list_awaiting, "aliexpress", [], T0 - timedelta(minutes=30)
    )
    later = await ActivityEnvironment().run(acts.list_awaiting, "aliexpress", [], T0)

    assert (early.started, later.started) == ([], ["551"])
    assert [f.order_id for f in orders.created] == ["551"]


async def test_a_listed_order_without_its_store_or_whose_workflow_ended_is_not_followed() -> None:
    platform = platform_with(listed("701", seller_id=None), listed("702"))
    orders = FakeOrders(ended={"702"})
    acts = DiscoveryActivities(platform, orders)

    done = await ActivityEnvironment().run(acts.list_awaiting, "aliexpress", [], T0)

    assert (done.incomplete, done.ended, done.listed) == (["701"], ["702"], [])
    assert [f.order_id for f in orders.created] == ["702"]


async def test_a_moved_eta_is_sent_once_as_the_orders_eta_changed_fact() -> None:
    moved = T0 + 26 * DAY
    platform = platform_with(listed("801", "WAIT_BUYER_ACCEPT_GOODS", estimated_delivery=moved))
    orders = FakeOrders()
    acts = DiscoveryActivities(platform, orders)
    before = Followed(order_id="801", status="", eta=T0 + 20 * DAY)

    first = await ActivityEnvironment().run(acts.check, "aliexpress", [before], T0)
    again = await ActivityEnvironment().run(acts.check, "aliexpress", first.open, T0 + DAY)

    assert orders.facts == [("801", EtaChanged(event_id=first.forwarded[0], at=T0, eta=moved))]
    assert [(f.status, f.eta) for f in again.open] == [("WAIT_BUYER_ACCEPT_GOODS", moved)]
    assert again.forwarded == []


async def test_an_order_the_platform_finished_ends_confirmed_or_closed_with_its_reason() -> None:
    platform = platform_with(
        listed("901", "FINISH", end_reason="buyer_accept_goods_timeout"),
        listed("902", "FINISH", end_reason="cancel_order_close_trade"),
    )
    orders = FakeOrders()
    acts = DiscoveryActivities(platform, orders)
    due = [Followed(order_id=i, status="WAIT_BUYER_ACCEPT_GOODS") for i in ("901", "902")]

    done = await ActivityEnvironment().run(acts.check, "aliexpress", due, T0)

    assert [(i, type(f).__name__) for i, f in orders.facts] == [
        ("901", "BuyerConfirmed"),
        ("902", "OrderClosedByPlatform"),
    ]
    confirmed, closed = orders.facts[0][1], orders.facts[1][1]
    assert isinstance(confirmed, BuyerConfirmed)
    assert confirmed.auto  # the platform's countdown, not the buyer: the timeline says so
    assert isinstance(closed, OrderClosedByPlatform)
    assert closed.reason == "cancel_order_close_trade"
    assert done.ended == ["901", "902"]
    assert done.open == []
