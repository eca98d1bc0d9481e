"""Seller health (R7, R18): month-to-date figures and warnings before each limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from pydantic import ValidationError

from domain.health import (
    HealthLevel,
    HealthThresholds,
    Parcel,
    ShippedOrder,
    VoidedOrder,
    Withdrawal,
    store_health,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
EARLY = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
OK, WARNING, BREACHED = HealthLevel.OK, HealthLevel.WARNING, HealthLevel.BREACHED


def shipped(count: int, store: str = "s1") -> list[ShippedOrder]:
    return [ShippedOrder(store_id=store, order_id=f"o{i}", shipped_at=EARLY) for i in range(count)]


def withdrawn(count: int, store: str = "s1", at: datetime = EARLY) -> list[Withdrawal]:
    return [Withdrawal(store_id=store, order_id=f"o{i}", at=at) for i in range(count)]


@pytest.mark.parametrize(
    ("count", "level"), [(0, OK), (3, OK), (4, WARNING), (5, BREACHED), (7, BREACHED)]
)
def test_withdrawals_warn_at_four_a_month_and_breach_at_five(
    count: int, level: HealthLevel
) -> None:
    health = store_health("s1", NOW, "UTC", withdrawals=withdrawn(count), shipped=shipped(10_000))
    assert (health.withdrawals, health.withdrawals_level) == (count, level)


@pytest.mark.parametrize(
    ("count", "level"), [(24, OK), (25, WARNING), (29, WARNING), (30, BREACHED)]
)
def test_the_withdrawal_rate_warns_at_two_and_a_half_percent_and_breaches_at_three(
    count: int, level: HealthLevel
) -> None:
    limits = HealthThresholds(withdrawals_limit=1000, withdrawals_warning=1000)
    health = store_health(
        "s1", NOW, "UTC", withdrawals=withdrawn(count), shipped=shipped(1000), thresholds=limits
    )
    assert health.withdrawal_rate.share == Fraction(count, 1000)
    assert health.withdrawal_rate.level is level


@pytest.mark.parametrize(
    ("count", "level"), [(11, OK), (12, WARNING), (15, WARNING), (16, BREACHED)]
)
def test_the_void_rate_warns_at_one_point_two_percent_and_breaches_only_above_one_point_five(
    count: int, level: HealthLevel
) -> None:
    voids = [VoidedOrder(store_id="s1", order_id=f"o{i}", at=EARLY) for i in range(count)]
    health = store_health("s1", NOW, "UTC", voided=voids, shipped=shipped(1000))
    assert (health.void_rate.count, health.void_rate.total) == (count, 1000)
    assert health.void_rate.level is level


@pytest.mark.parametrize(
    ("late", "level"), [(0, OK), (11, OK), (12, WARNING), (15, WARNING), (16, BREACHED)]
)
def test_a_carrier_line_warns_at_twelve_percent_late_and_breaches_only_above_fifteen(
    late: int, level: HealthLevel
) -> None:
    promised = EARLY + timedelta(days=1)
    parcels = [
        Parcel(
            store_id="s1",
            carrier_line="YANWEN_JYT",
            promised_by=promised,
            delivered_at=promised + timedelta(seconds=1 if i < late else 0),
        )
        for i in range(100)
    ]
    health = store_health("s1", NOW, "UTC", parcels=parcels)
    assert health.late_share["YANWEN_JYT"].count == late
    assert health.late_share["YANWEN_JYT"].level is level


def test_a_parcel_not_delivered_by_its_promise_is_late_and_one_not_yet_due_is_not_counted() -> None:
    parcels = [
        Parcel(store_id="s1", carrier_line="CPAM", promised_by=EARLY),
        Parcel(store_id="s1", carrier_line="CPAM", promised_by=EARLY, delivered_at=EARLY),
        Parcel(store_id="s1", carrier_line="CPAM", promised_by=NOW + timedelta(days=3)),
        Parcel(store_id="s1", carrier_line="CPAM", promised_by=datetime(2025, 2, 27, tzinfo=UTC)),
    ]
    rate = store_health("s1", NOW, "UTC", parcels=parcels).late_share["CPAM"]
    assert (rate.count, rate.total) == (1, 2)


@pytest.mark.parametrize(
    ("timezone", "counted"), [("Asia/Shanghai", 1), ("America/Los_Angeles", 0)]
)
def test_the_month_is_the_calendar_month_in_the_stores_timezone(
    timezone: str, counted: int
) -> None:
    # 1 March 02:00 UTC is 1 March in Shanghai but still 28 February in Los Angeles.
    first_of_march_utc = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    health = store_health("s1", NOW, timezone, withdrawals=withdrawn(1, at=first_of_march_utc))
    assert health.withdrawals == counted
    assert health.month == "2025-03"


def test_only_this_stores_records_up_to_now_are_counted() -> None:
    records = [
        *withdrawn(2),
        *withdrawn(3, store="s2"),
        *withdrawn(4, at=NOW + timedelta(seconds=1)),
    ]
    assert store_health("s1", NOW, "UTC", withdrawals=records).withdrawals == 2


def test_a_store_that_shipped_nothing_has_zero_rates_and_is_healthy() -> None:
    health = store_health("s1", NOW, "UTC")
    assert health.withdrawal_rate.share == 0
    assert health.void_rate.level is OK
    assert health.late_share == {}
    assert health.level is OK


def test_the_store_level_is_its_worst_figure() -> None:
    health = store_health("s1", NOW, "UTC", withdrawals=withdrawn(4), shipped=shipped(10_000))
    assert health.level is WARNING
    health = store_health("s1", NOW, "UTC", withdrawals=withdrawn(5), shipped=shipped(100))
    assert health.level is BREACHED


def test_thresholds_default_to_the_platform_figures_and_reject_shares_above_one() -> None:
    limits = HealthThresholds()
    assert (limits.withdrawals_limit, limits.withdrawals_warning) == (5, 4)
    assert limits.withdrawal_rate_limit == Decimal("0.03")
    assert limits.void_rate_limit == Decimal("0.015")
    assert limits.late_share_limit == Decimal("0.15")
    with pytest.raises(ValidationError):
        HealthThresholds(late_share_limit=Decimal("1.5"))


def test_records_with_naive_times_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Withdrawal(store_id="s1", order_id="o1", at=datetime(2025, 3, 1))  # noqa: DTZ001
