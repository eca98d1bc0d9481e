"""What the marketplace reports: an order as it stands, a page of the order list, a dispute."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.money import Money


class PlatformOrder(BaseModel):
    """What the marketplace says about an order right now (a listing gives no ETA; a read may
    lack the store, total or payment time)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: str
    estimated_delivery: datetime | None = None
    status_deadline: datetime | None = None
    seller_id: str | None = None
    total: Money | None = None
    paid_at: datetime | None = None
    end_reason: str = ""
    """Why a finished order ended, in the platform's words (e.g. ``buyer_confirm_goods``)."""


class PlatformOrderPage(BaseModel):
    """One page of the seller's order list: ``page`` of ``pages``."""

    model_config = ConfigDict(frozen=True)

    orders: tuple[PlatformOrder, ...] = ()
    page: int = 1
    pages: int = 1


class PlatformDispute(BaseModel):
    """A buyer dispute as the marketplace reports it."""

    model_config = ConfigDict(frozen=True)

    dispute_id: str
    order_id: str
    reason: str
    status: str
    opened_at: datetime
    response_deadline: datetime | None = None
    solution_deadline: datetime | None = None
