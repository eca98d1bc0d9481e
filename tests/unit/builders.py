"""Orders and events at exact offsets from payment (P), upload (U) and dispute (D)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.events import DisputeOpened, UploadTracking
from domain.lifecycle import Decision, decide
from domain.money import Money
from domain.order import Order, OrderFacts
from domain.policy import Policy

P = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
U = P + timedelta(hours=10)
NUMBER = "RR123456785CN"


def facts(eta: datetime | None = P + timedelta(days=15), **kw: object) -> OrderFacts:
    """S1's order: paid at P, ETA P+15d, $20."""
    base: dict[str, object] = {
        "order_id": "42",
        "seller_id": "store-1",
        "total": Money(minor=20_00),
        "paid_at": P,
        "eta": eta,
        "policy": Policy(),
    }
    base.update(kw)
    return OrderFacts.model_validate(base)


def new_order(**kw: object) -> Order:
    """A paid order awaiting shipment."""
    return Order.new(facts(**kw))  # type: ignore[arg-type]


def ok(decision: Decision) -> Order:
    """The order after an accepted decision (fails the test on a refusal)."""
    assert decision.refusal is None, decision.detail
    return decision.order


def shipped(at: datetime = U, **kw: object) -> Order:
    """S1: tracking RR123456785CN uploaded at U."""
    order = new_order(**kw)
    return ok(decide(order, UploadTracking(carrier="china_post", tracking_number=NUMBER), at))


def disputed(at: datetime, **kw: object) -> Order:
    """A shipped order with a 'not received' dispute opened at ``at``."""
    opened = DisputeOpened(event_id="d-1", at=at, dispute_id="D1", **kw)
    return ok(decide(shipped(), opened, at))
