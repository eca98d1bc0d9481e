"""Orders by polling the platform: the safety net under the order-creation hook, and the read-back
of an open order's status and estimated delivery date (R4.4) and of its end (T5)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ValidationError
from temporalio import activity

from activities.errors import beating, heartbeating
from domain.errors import PortError
from domain.events import BuyerConfirmed, EtaChanged, Fact, OrderClosedByPlatform
from domain.marketplace import PlatformOrder
from domain.order import OrderFacts
from domain.ports import Platform
from workers.orders import Delivery

AWAITING_SHIPMENT = ("WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS")
"""The platform's statuses of a paid order the seller has still to ship (in full)."""
FINISHED = "FINISH"
"""The platform's status of an order that has ended, whatever ended it (``end_reason``)."""
AUTO_CONFIRMED = "buyer_accept_goods_timeout"
CONFIRMED_REASONS = frozenset({"buyer_confirm_goods", AUTO_CONFIRMED})
"""End reasons that mean the buyer received the goods: the buyer confirmed (documented,
``buyer_confirm_goods``) or the platform confirmed for them when the countdown ended (assumed
value, the simulator's: no public list of end reasons was found)."""
MAX_PAGES = 20
"""Pages of the order list read per poll (50 orders each): a bound on one poll's calls."""


class Followed(BaseModel):
    """An open order the poller follows: its last platform status and ETA, its next read."""

    order_id: str
    status: str
    eta: datetime | None = None
    next_check: datetime | None = None
    """When to read the order again (None: at the next round)."""


class Discovered(BaseModel):
    """What one listing did: the orders awaiting shipment it saw, and those it handed to the
    idempotent start (the hook's), each once in the poller's memory."""

    listed: list[Followed] = []
    started: list[str] = []
    ended: list[str] = []
    """Listed orders whose workflow has ended already (nothing started, H2)."""
    incomplete: list[str] = []
    """Listed orders the platform gave too little about to start (no store, total or payment)."""
    complete: bool = True
    """Whether every page was read (``MAX_PAGES``): only then is an order missing from the
    list known to have left it."""


class Checked(BaseModel):
    """What one read-back did: orders still open (as read), facts sent, orders over."""

    open: list[Followed] = []
    forwarded: list[str] = []
    """Event ids of the facts sent to orders."""
    ended: list[str] = []
    """Orders the platform finished, or whose workflow has ended: no longer followed."""


def order_facts(
    marketplace: str,
    listed: PlatformOrder,
    read: PlatformOrder | None,
    *,
    supports_withdrawal: bool,
) -> OrderFacts | None:
    """The creation facts of a listed order (completed by its read, which has the ETA), or None
    when the platform did not say which store, how much or when it was paid."""
    seller = listed.seller_id or (read.seller_id if read else None)
    total = listed.total or (read.total if read else None)
    paid_at = listed.paid_at or (read.paid_at if read else None)
    if seller is None or total is None or paid_at is None:
        return None
    try:
        return OrderFacts(
            marketplace=marketplace,
            order_id=listed.order_id,
            seller_id=seller,
            total=total,
            paid_at=paid_at,
            eta=read.estimated_delivery if read else None,
            platform_supports_withdrawal=supports_withdrawal,
        )
    except ValidationError:
        return None


def eta_fact(order_id: str, eta: datetime, at: datetime) -> EtaChanged:
    """The ETA read back; its id is the order's and the new date's, so it is sent once."""
    return EtaChanged(event_id=f"platform-eta:{order_id}:{eta.isoformat()}", at=at, eta=eta)


def finished_fact(
    order_id: str, end_reason: str, at: datetime
) -> BuyerConfirmed | OrderClosedByPlatform:
    """The platform's word that the order is over: the buyer has the goods (confirmed, or
    auto-confirmed), or it ended for another reason, kept verbatim. One id either way: an
    order finishes once."""
    event_id = f"platform-order-finished:{order_id}"
    if end_reason in CONFIRMED_REASONS:
        return BuyerConfirmed(event_id=event_id, at=at, auto=end_reason == AUTO_CONFIRMED)
    return OrderClosedByPlatform(event_id=event_id, at=at, reason=end_reason[:200])


class OrderStarts(Protocol):
    """The two calls of the order workflows' client (``workers.orders.Orders``) used here."""

    async def create(self, facts: OrderFacts) -> Delivery:
        """Start the order's workflow once, however often asked (the hook's start)."""
        ...

    async def send_fact(self, marketplace: str, order_id: str, fact: Fact) -> Delivery:
        """Deliver an outside fact (kept until the order exists)."""
        ...


class DiscoveryActivities:
    """Lists the store's orders awaiting shipment, starts those not followed, reads open ones."""

    def __init__(self, platform: Platform, orders: OrderStarts) -> None:
        self._platform = platform
        self._orders = orders

    @activity.defn(name="discovery.list")
    async def list_awaiting(
        self, marketplace: str, known: list[str], paid_before: datetime
    ) -> Discovered:
        """Every order awaiting shipment; each not in ``known`` and paid before ``paid_before``
        goes through the hook's own idempotent start (a hook and a poll of one order make one
        workflow). A later payment is left to its hook, which may still be on its way with what
        the list does not carry (the category): the next poll sees it again."""
        done = Discovered()
        skip = set(known)
        page, pages = 1, 1
        while page <= min(pages, MAX_PAGES):
            listing = await beating(self._platform.list_orders(AWAITING_SHIPMENT, page))
            pages = listing.pages
            for summary in listing.orders:
                if summary.order_id in skip:
                    done.listed.append(Followed(order_id=summary.order_id, status=summary.status))
                    continue
                if summary.paid_at is not None and summary.paid_at >= paid_before:
                    continue
                skip.add(summary.order_id)
                await self._start(marketplace, summary, paid_before, done)
                activity.heartbeat(summary.order_id)
            page += 1
        done.complete = pages <= MAX_PAGES
        return done

    async def _start(
        self, marketplace: str, summary: PlatformOrder, paid_before: datetime, done: Discovered
    ) -> None:
        try:
            read = await heartbeating(self._platform.get_order(summary.order_id))
        except PortError as error:  # read again at the next poll: it stays unknown
            activity.logger.warning("order %s not read: %s", summary.order_id, error)
            return
        facts = order_facts(
            marketplace, summary, read, supports_withdrawal=self._platform.supports_withdrawal
        )
        if facts is None:
            activity.logger.warning(
                "order %s lacks its creation facts: not started", summary.order_id
            )
            done.incomplete.append(summary.order_id)
            return
        if facts.paid_at >= paid_before:  # the listing did not say: its read did
            return
        if await heartbeating(self._orders.create(facts)) is Delivery.ALREADY_PROCESSED:
            done.ended.append(summary.order_id)
            return
        done.started.append(summary.order_id)
        done.listed.append(
            Followed(order_id=summary.order_id, status=read.status, eta=read.estimated_delivery)
        )

    @activity.defn(name="discovery.check")
    async def check(self, marketplace: str, due: list[Followed], at: datetime) -> Checked:
        """Read each due order; send a moved ETA and a buyer's confirmation to the order once.
        ``at`` is the poll's time: when the platform's change was seen."""
        done = Checked()
        for followed in due:
            try:
                read = await heartbeating(self._platform.get_order(followed.order_id))
            except PortError as error:
                activity.logger.warning("order %s not read: %s", followed.order_id, error)
                done.open.append(followed)
                continue
            await self._reconcile(marketplace, followed, read, at, done)
            activity.heartbeat(followed.order_id)
        return done

    async def _reconcile(
        self, marketplace: str, followed: Followed, read: PlatformOrder, at: datetime, done: Checked
    ) -> None:
        order_id = followed.order_id
        if read.status == FINISHED:
            done.ended.append(order_id)
            finished = finished_fact(order_id, read.end_reason, at)
            await heartbeating(self._orders.send_fact(marketplace, order_id, finished))
            done.forwarded.append(finished.event_id)
            return
        eta = read.estimated_delivery
        if eta is not None and eta != followed.eta:
            moved = eta_fact(order_id, eta, at)
            delivery = await heartbeating(self._orders.send_fact(marketplace, order_id, moved))
            if delivery is Delivery.ALREADY_PROCESSED:
                done.ended.append(order_id)
                return
            done.forwarded.append(moved.event_id)
        done.open.append(
            followed.model_copy(update={"status": read.status, "eta": eta or followed.eta})
        )
