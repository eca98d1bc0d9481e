"""Seller health (R7, R18): month-to-date withdrawal, void, unfulfilled and late rates, warned
before limits.

Denominators: the withdrawal rate counts per order *shipped* this month; the void and unfulfilled
rates count per order the store *dealt with* this month: the distinct orders shipped, voided or
closed unfulfilled in it (an order shipped, withdrawn and then closed unfulfilled is one order).
A rate with nothing to count has no data (``HealthLevel.NO_DATA``), never ``ok``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Share = Annotated[Decimal, Field(ge=0, le=1)]


class HealthLevel(StrEnum):
    """How close a figure is to the platform's limit."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    NO_DATA = "no_data"
    """Nothing to count yet (a rate whose total is 0): neither healthy nor unhealthy."""


_RANK: dict[HealthLevel, int] = {
    HealthLevel.OK: 0,
    HealthLevel.NO_DATA: 1,
    HealthLevel.WARNING: 2,
    HealthLevel.BREACHED: 3,
}
"""How levels combine into the store's: a figure without data keeps the store from ``ok``, and
never hides a warning or a breach."""


class HealthThresholds(BaseModel):
    """The platform's limits and the earlier points at which we warn (shares are fractions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    withdrawals_limit: int = 5
    """R7: this many withdrawals in a calendar month trigger a risk review."""
    withdrawals_warning: int = 4
    withdrawal_rate_limit: Share = Decimal("0.03")
    """R7: a monthly withdrawal rate under this is safe."""
    withdrawal_rate_warning: Share = Decimal("0.025")
    void_rate_limit: Share = Decimal("0.015")
    """R7: an order-void rate over this costs search traffic."""
    void_rate_warning: Share = Decimal("0.012")
    unfulfilled_rate_limit: Share = Decimal("0.02")
    """R3a/R7: orders closed unfulfilled (AliExpress's "未发货"), 2 % or more breaches. DOMAIN.md
    gives no figure: this limit and its warning are ours."""
    unfulfilled_rate_warning: Share = Decimal("0.015")
    late_share_limit: Share = Decimal("0.15")
    """R18: a carrier line late on more than this share of parcels is taken offline."""
    late_share_warning: Share = Decimal("0.12")


class Withdrawal(BaseModel):
    """A tracking number withdrawn from one of the store's orders."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    order_id: str
    at: AwareDatetime


class ShippedOrder(BaseModel):
    """An order the store shipped (the denominator of the monthly rates)."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    order_id: str
    shipped_at: AwareDatetime


class VoidedOrder(BaseModel):
    """An order voided (R7): cancelled at the buyer's request with the seller's consent."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    order_id: str
    at: AwareDatetime


class UnfulfilledOrder(BaseModel):
    """An order the platform closed unfulfilled: not shipped within the handling time (R3a)."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    order_id: str
    at: AwareDatetime


class PromisedDelivery(BaseModel):
    """A parcel on a carrier line with the delivery time the line promised (R18), and when it was
    delivered. Not the poller's ``domain.polling.Parcel``: this one is only counted."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    carrier_line: str
    promised_by: AwareDatetime
    delivered_at: AwareDatetime | None = None


class Rate(BaseModel):
    """``count`` out of ``total``, with its level against the thresholds (``no_data`` when
    ``total`` is 0)."""

    model_config = ConfigDict(frozen=True)

    count: int
    total: int
    level: HealthLevel

    @property
    def share(self) -> Fraction:
        """The exact fraction (0 when nothing was counted)."""
        return Fraction(self.count, self.total) if self.total else Fraction(0)


class StoreHealth(BaseModel):
    """One store's health for the calendar month to date, in the store's timezone."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    month: str
    withdrawals: int
    withdrawals_level: HealthLevel
    withdrawal_rate: Rate
    """Withdrawals per order shipped this month."""
    void_rate: Rate
    """Orders voided per order dealt with this month (shipped, voided or closed unfulfilled)."""
    late_share: dict[str, Rate]
    unfulfilled_rate: Rate = Rate(count=0, total=0, level=HealthLevel.NO_DATA)
    """Orders closed unfulfilled per order dealt with this month. Its default reads the answer
    of a worker from before this figure existed."""

    @property
    def level(self) -> HealthLevel:
        """The worst level of every figure, where ``no_data`` ranks above ``ok`` and below
        ``warning``: a store is ``ok`` only when every figure has data and is ``ok``, and a
        figure without data never hides another's warning or breach."""
        levels = [
            self.withdrawals_level,
            self.withdrawal_rate.level,
            self.void_rate.level,
            self.unfulfilled_rate.level,
        ]
        levels += [rate.level for rate in self.late_share.values()]
        return max(levels, key=_RANK.__getitem__)


def _level(value: Fraction, warning: Decimal, limit: Decimal, *, at_limit: bool) -> HealthLevel:
    """``at_limit``: reaching the limit breaches it (else only exceeding it does)."""
    breached = value >= Fraction(limit) if at_limit else value > Fraction(limit)
    if breached:
        return HealthLevel.BREACHED
    return HealthLevel.WARNING if value >= Fraction(warning) else HealthLevel.OK


def _rate(count: int, total: int, warning: Decimal, limit: Decimal, *, at_limit: bool) -> Rate:
    if not total:
        return Rate(count=count, total=total, level=HealthLevel.NO_DATA)
    level = _level(Fraction(count, total), warning, limit, at_limit=at_limit)
    return Rate(count=count, total=total, level=level)


def store_health(
    store_id: str,
    now: datetime,
    timezone: str,
    *,
    withdrawals: Iterable[Withdrawal] = (),
    shipped: Iterable[ShippedOrder] = (),
    voided: Iterable[VoidedOrder] = (),
    unfulfilled: Iterable[UnfulfilledOrder] = (),
    parcels: Iterable[PromisedDelivery] = (),
    thresholds: HealthThresholds | None = None,
) -> StoreHealth:
    """The store's month-to-date figures; a month is a calendar month in ``timezone``.

    The withdrawal rate is per order shipped this month; the void and unfulfilled rates are per
    order dealt with this month (distinct orders shipped, voided or closed unfulfilled in it).
    Late share per carrier line counts the parcels whose promised date fell in the month to
    date: late when delivered after the promise, or not delivered by now.
    """
    limits = thresholds or HealthThresholds()
    local_now = now.astimezone(ZoneInfo(timezone))
    start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)

    def this_month(at: datetime) -> bool:
        return start <= at <= local_now

    withdrawn = sum(1 for w in withdrawals if w.store_id == store_id and this_month(w.at))
    orders = {s.order_id for s in shipped if s.store_id == store_id and this_month(s.shipped_at)}
    voids = {v.order_id for v in voided if v.store_id == store_id and this_month(v.at)}
    closed = {u.order_id for u in unfulfilled if u.store_id == store_id and this_month(u.at)}
    dealt = len(orders | voids | closed)
    count_level = _level(
        Fraction(withdrawn),
        Decimal(limits.withdrawals_warning),
        Decimal(limits.withdrawals_limit),
        at_limit=True,
    )
    due: dict[str, list[bool]] = {}
    for parcel in parcels:
        if parcel.store_id == store_id and this_month(parcel.promised_by):
            late = parcel.delivered_at is None or parcel.delivered_at > parcel.promised_by
            due.setdefault(parcel.carrier_line, []).append(late)
    return StoreHealth(
        store_id=store_id,
        month=f"{local_now.year:04d}-{local_now.month:02d}",
        withdrawals=withdrawn,
        withdrawals_level=count_level,
        withdrawal_rate=_rate(
            withdrawn,
            len(orders),
            limits.withdrawal_rate_warning,
            limits.withdrawal_rate_limit,
            at_limit=True,
        ),
        void_rate=_rate(
            len(voids), dealt, limits.void_rate_warning, limits.void_rate_limit, at_limit=False
        ),
        unfulfilled_rate=_rate(
            len(closed),
            dealt,
            limits.unfulfilled_rate_warning,
            limits.unfulfilled_rate_limit,
            at_limit=True,
        ),
        late_share={
            line: _rate(
                sum(lates),
                len(lates),
                limits.late_share_warning,
                limits.late_share_limit,
                at_limit=False,
            )
            for line, lates in sorted(due.items())
        },
    )
