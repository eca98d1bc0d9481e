"""Seller health (R7, R18): month-to-date withdrawal, void and late rates, warned before limits."""

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
    """An order the store voided (cancelled after payment)."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    order_id: str
    at: AwareDatetime


class Parcel(BaseModel):
    """A parcel on a carrier line with the delivery time the line promised."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    carrier_line: str
    promised_by: AwareDatetime
    delivered_at: AwareDatetime | None = None


class Rate(BaseModel):
    """``count`` out of ``total``, with its level against the thresholds."""

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
    void_rate: Rate
    late_share: dict[str, Rate]

    @property
    def level(self) -> HealthLevel:
        """The worst level of every figure."""
        levels = [self.withdrawals_level, self.withdrawal_rate.level, self.void_rate.level]
        levels += [rate.level for rate in self.late_share.values()]
        order = list(HealthLevel)
        return max(levels, key=order.index)


def _level(value: Fraction, warning: Decimal, limit: Decimal, *, at_limit: bool) -> HealthLevel:
    """``at_limit``: reaching the limit breaches it (else only exceeding it does)."""
    breached = value >= Fraction(limit) if at_limit else value > Fraction(limit)
    if breached:
        return HealthLevel.BREACHED
    return HealthLevel.WARNING if value >= Fraction(warning) else HealthLevel.OK


def _rate(count: int, total: int, warning: Decimal, limit: Decimal, *, at_limit: bool) -> Rate:
    share = Fraction(count, total) if total else Fraction(0)
    return Rate(count=count, total=total, level=_level(share, warning, limit, at_limit=at_limit))


def store_health(
    store_id: str,
    now: datetime,
    timezone: str,
    *,
    withdrawals: Iterable[Withdrawal] = (),
    shipped: Iterable[ShippedOrder] = (),
    voided: Iterable[VoidedOrder] = (),
    parcels: Iterable[Parcel] = (),
    thresholds: HealthThresholds | None = None,
) -> StoreHealth:
    """The store's month-to-date figures; a month is a calendar month in ``timezone``.

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
            len(voids),
            len(orders),
            limits.void_rate_warning,
            limits.void_rate_limit,
            at_limit=False,
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
