"""The dev demo: orders on short clocks that walk every lifecycle path, fed idempotently."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from adapters.aliexpress.services import ServiceKeys
from adapters.platform_sim import SimRules, SimState
from adapters.platform_sim.rules import SimDispute, SimShipment, SimSolution
from domain.disputes import Solution, SolutionKind
from domain.errors import Refused
from domain.events import (
    BuyerAnsweredSolution,
    BuyerConfirmed,
    CarrierScanned,
    DisputeOpened,
    Fact,
    ParcelDelivered,
    ProofOfDelivery,
)
from domain.money import Money
from domain.order import OrderFacts
from domain.policy import Policy
from domain.states import EventKind, OrderState
from workers.logging import get_logger
from workers.orders import OrderNotFound, Orders
from workflows.messages import OrderView

MARKETPLACE = "aliexpress"
SELLER_ID = "demo-store"
"""Every demo order's seller: ``parcelflow list --query "SellerId = 'demo-store'"``."""
TOTAL = Money(minor=20_00)
ETA_AFTER_PAYMENT = timedelta(days=15)
# Short clocks for the demo only, so that it moves while one watches; the README's scenarios are
# tested elsewhere with the platform's full durations.
BASE_POLICY = Policy(
    handling_time=timedelta(hours=1),
    cancel_window=timedelta(minutes=10),
    first_response=timedelta(minutes=30),
    solution=timedelta(hours=1),
)
SIM_RULES = SimRules(cancel_window=BASE_POLICY.cancel_window)
"""The simulated marketplace's window is the demo's longest, so parcelflow always refuses first."""
S = OrderState
Path = Callable[["Feeder", str], Awaitable[None]]


@dataclass
class Feeder:
    """Moves demo orders along, skipping every step an order has already passed."""

    orders: Orders
    market: SimState
    log: structlog.stdlib.BoundLogger = field(default_factory=lambda: get_logger("parcelflow.demo"))

    async def view(self, order_id: str) -> OrderView:
        """The order's current view."""
        return await self.orders.view(MARKETPLACE, order_id)

    async def ship(self, order_id: str, number: str, uploads_before: int = 0) -> None:
        """Upload ``number`` if the order awaits its ``uploads_before + 1``-th upload."""
        order = (await self.view(order_id)).order
        if order.state is S.AWAITING_SHIPMENT and len(order.past_shipments) == uploads_before:
            await self.orders.ship(MARKETPLACE, order_id, "china_post", number)

    async def fact(self, order_id: str, fact: Fact) -> None:
        """An outside fact (the workflow drops one it has seen: event ids are fixed)."""
        await self.orders.send_fact(MARKETPLACE, order_id, fact)

    async def number(self, order_id: str) -> str | None:
        """The tracking number the order carries now (a carrier fact is about it, R10)."""
        shipment = (await self.view(order_id)).order.shipment
        return shipment.tracking_number if shipment else None

    async def scan(self, order_id: str, status: str, code: str, where: str) -> None:
        """A carrier scan; the marketplace learns of the first one too (R4.2)."""
        at = datetime.now(UTC)
        event = CarrierScanned(
            event_id=f"demo:{order_id}:{code}",
            at=at,
            status=status,
            code=code,
            location=where,
            tracking_number=await self.number(order_id),
        )
        await self.fact(order_id, event)
        self.market.mark_scan(order_id)

    async def dispute(self, order_id: str) -> str | None:
        """Open a "not received" dispute on both sides once; its id, or None if too early."""
        order = (await self.view(order_id)).order
        if order.dispute is not None:
            return order.dispute.dispute_id
        if order.state not in (S.SHIPPED, S.LOCKED):
            return None
        opened = self.market.open_dispute(order_id)
        event_id = f"demo:{order_id}:dispute"
        await self.fact(
            order_id,
            DisputeOpened(event_id=event_id, at=opened.opened_at, dispute_id=opened.dispute_id),
        )
        return opened.dispute_id


async def _shipped(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000017CN")


async def _reuploaded(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000025CN")
    order = (await f.view(order_id)).order
    if order.state is S.SHIPPED and not order.past_shipments:
        await f.orders.withdraw(MARKETPLACE, order_id)
    await f.ship(order_id, "RR100000034CN", uploads_before=1)


async def _scanned(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000048CN")
    await f.scan(order_id, "in_transit", "InTransit_PickedUp", "Shenzhen")


async def _window(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000051CN")


async def _unfulfilled(_f: Feeder, _order_id: str) -> None:
    return  # nothing to do: the handling time runs out on its own


async def _awaiting_response(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000065CN")
    await f.dispute(order_id)


async def _partial_refund(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000079CN")
    dispute_id = await f.dispute(order_id)
    if dispute_id is None:
        return
    if (await f.view(order_id)).state is S.AWAITING_FIRST_RESPONSE:
        text = "Sorry for the wait: the parcel is in transit, tracking RR100000079CN."
        await f.orders.respond(MARKETPLACE, order_id, text)
    if (await f.view(order_id)).state is S.AWAITING_SOLUTION:
        refund = Solution(
            kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=TOTAL.minor * 30 // 100)
        )
        await f.orders.propose(MARKETPLACE, order_id, refund)
    if (await f.view(order_id)).state is S.SOLUTION_OFFERED:
        f.market.buyer_accepts(dispute_id)
        accepted = EventKind.BUYER_ACCEPTED_SOLUTION
        event_id = f"demo:{order_id}:accepted"
        at = datetime.now(UTC)
        await f.fact(order_id, BuyerAnsweredSolution(event_id=event_id, at=at, kind=accepted))


async def _completed(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000082CN")
    if (await f.view(order_id)).state.is_terminal:
        return
    for status, code, where in (
        ("in_transit", "InTransit_PickedUp", "Yiwu"),
        ("in_transit", "DEP", "Guangzhou airport"),
        ("out_for_delivery", "OFD", "Madrid"),
    ):
        await f.scan(order_id, status, code, where)
    proof = ProofOfDelivery(
        signer="front desk", photo_url="https://carrier.example/pod/8800000008.jpg"
    )
    at = datetime.now(UTC)
    delivered = ParcelDelivered(
        event_id=f"demo:{order_id}:DLV",
        at=at,
        code="DLV",
        proof=proof,
        tracking_number=await f.number(order_id),
    )
    await f.fact(order_id, delivered)
    await f.fact(
        order_id, BuyerConfirmed(event_id=f"demo:{order_id}:confirmed", at=datetime.now(UTC))
    )


async def _expired(f: Feeder, order_id: str) -> None:
    await f.ship(order_id, "RR100000096CN")
    await f.scan(order_id, "in_transit", "InTransit_PickedUp", "Hangzhou")


@dataclass(frozen=True)
class DemoOrder:
    """One demo order: what it shows, its clocks, and how the demo moves it."""

    order_id: str
    story: str
    path: Path
    policy: Policy = BASE_POLICY


def _short(**minutes: int) -> Policy:
    changes = {name: timedelta(minutes=n) for name, n in minutes.items()}
    return Policy.model_validate({**BASE_POLICY.model_dump(), **changes})


DEMO_ORDERS = (
    DemoOrder("8800000001", "shipped, cancel window open (10 min)", _shipped),
    DemoOrder("8800000002", "withdrawn and re-uploaded", _reuploaded),
    DemoOrder("8800000003", "locked by a carrier scan", _scanned),
    DemoOrder("8800000004", "locks when its 2 min window ends", _window, _short(cancel_window=2)),
    DemoOrder(
        "8800000005", "closed unfulfilled after 1 min", _unfulfilled, _short(handling_time=1)
    ),
    DemoOrder("8800000006", "dispute awaiting the first response (30 min)", _awaiting_response),
    DemoOrder("8800000007", "dispute resolved with a partial refund", _partial_refund),
    DemoOrder("8800000008", "delivered with photo proof and completed", _completed),
    DemoOrder("8800000009", "tracking expires after 3 min", _expired, _short(tracking_horizon=3)),
)


async def feed(orders: Orders, market: SimState) -> list[tuple[DemoOrder, OrderState]]:
    """Create the demo orders (once) and move each along its path; their states now."""
    feeder = Feeder(orders, market)
    await _restore_market(feeder)
    paid_at = datetime.now(UTC).replace(microsecond=0)
    eta = paid_at + ETA_AFTER_PAYMENT
    reached: list[tuple[DemoOrder, OrderState]] = []
    for demo in DEMO_ORDERS:
        if demo.order_id not in market.orders:
            market.add_order(demo.order_id, eta=eta, total=TOTAL)
        facts = OrderFacts(
            marketplace=MARKETPLACE,
            order_id=demo.order_id,
            seller_id=SELLER_ID,
            total=TOTAL,
            paid_at=paid_at,
            eta=eta,
            policy=demo.policy,
        )
        await orders.create(facts)
        try:
            await demo.path(feeder, demo.order_id)
        except Refused as refused:
            # An order left mid-path by an earlier run may have missed its window meanwhile.
            feeder.log.warning("demo step refused", order_id=demo.order_id, reason=str(refused))
        reached.append((demo, (await feeder.view(demo.order_id)).state))
    return reached


async def _restore_market(feeder: Feeder) -> None:
    """The simulator starts empty: give it back what earlier runs told it about demo orders."""
    highest = 0
    for demo in DEMO_ORDERS:
        try:
            view = await feeder.view(demo.order_id)
        except OrderNotFound:
            continue
        highest = max(highest, _restore(feeder.market, view))
    while int(feeder.market.new_id()) <= highest:
        pass  # fresh dispute ids must not collide with restored ones


def _restore(market: SimState, view: OrderView) -> int:
    order, facts = view.order, view.order.facts
    eta = order.eta or facts.paid_at + ETA_AFTER_PAYMENT
    sim = market.add_order(facts.order_id, eta=eta, total=facts.total)
    with market.lock:
        if order.shipment is not None:
            shipment = order.shipment
            # Declared under its logistics service key, as the worker's client uploaded it.
            number = shipment.tracking_number
            service = ServiceKeys().key_for(shipment.carrier, number) or shipment.carrier
            sim.shipments.append(SimShipment(service, number, shipment.uploaded_at))
            sim.status = "WAIT_BUYER_ACCEPT_GOODS"
        sim.scanned = order.first_scan_at is not None
        known = order.dispute
        if known is not None:
            status = "processing" if order.state.in_dispute else "finish"
            dispute = SimDispute(
                known.dispute_id,
                facts.order_id,
                known.reason.value,
                known.opened_at,
                known.responded_at,
                status,
            )
            dispute.solutions.append(
                SimSolution(
                    market.new_id(),
                    "buyer",
                    "refund",
                    facts.total,
                    "wait_seller_accept",
                    known.opened_at,
                )
            )
            if known.solution is not None:
                refund = known.solution.refund or facts.total
                at = known.solution_at or known.opened_at
                dispute.solutions.append(
                    SimSolution(
                        market.new_id(), "seller", "refund", refund, "wait_buyer_accept", at
                    )
                )
            market.disputes[known.dispute_id] = dispute
        market.relock(sim)
    if known is None or not known.dispute_id.isdigit():
        return 0
    return int(known.dispute_id)
