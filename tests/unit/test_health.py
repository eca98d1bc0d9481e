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
    PromisedDelivery,
    Rate,
    ShippedOrder,
    StoreHealth,
    UnfulfilledOrder,
    VoidedOrder,
    Withdrawal,
    store_health,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
EARLY = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)
LAST_MONTH = datetime(2025, 2, 20, 12, 0, tzinfo=UTC)
OK, WARNING, BREACHED = HealthLevel.OK, HealthLevel.WARNING, HealthLevel.BREACHED
NO_DATA = HealthLevel.NO_DATA


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
        PromisedDelivery(
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
        PromisedDelivery(store_id="s1", carrier_line="CPAM", promised_by=EARLY),
        PromisedDelivery(store_id="s1", carrier_line="CPAM", promised_by=EARLY, delivered_at=EARLY),
        PromisedDelivery(store_id="s1", carrier_line="CPAM", promised_by=NOW + timedelta(days=3)),
        PromisedDelivery(
            store_id="s1", carrier_line="CPAM", promised_by=datetime(2025, 2, 27, tzinfo=UTC)
        ),
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


def test_a_store_that_dealt_with_no_order_has_no_data_never_ok() -> None:
    health = store_health("s1", NOW, "UTC")
    assert health.withdrawal_rate.share == 0
    assert health.withdrawal_rate.level is NO_DATA
    assert health.void_rate.level is NO_DATA
    assert health.unfulfilled_rate.level is NO_DATA
    assert health.late_share == {}
    assert health.withdrawals_level is OK  # a count of 0 is a fact: none this month
    assert health.level is NO_DATA


def test_last_months_orders_leave_this_month_without_data() -> None:
    health = store_health(
        "s1",
        NOW,
        "UTC",
        shipped=[ShippedOrder(store_id="s1", order_id="o1", shipped_at=LAST_MONTH)],
        voided=[VoidedOrder(store_id="s1", order_id="o2", at=LAST_MONTH)],
        unfulfilled=[UnfulfilledOrder(store_id="s1", order_id="o3", at=LAST_MONTH)],
    )
    assert (health.void_rate.total, health.void_rate.level) == (0, NO_DATA)
    assert health.level is NO_DATA


@pytest.mark.parametrize(
    ("withdrawals", "level"), [(0, NO_DATA), (3, NO_DATA), (4, WARNING), (5, BREACHED)]
)
def test_no_data_never_hides_a_warning_or_a_breach_of_the_withdrawal_count(
    withdrawals: int, level: HealthLevel
) -> None:
    # Nothing shipped this month (the withdrawn numbers were uploaded last month).
    health = store_health("s1", NOW, "UTC", withdrawals=withdrawn(withdrawals))
    assert (health.withdrawal_rate.count, health.withdrawal_rate.total) == (withdrawals, 0)
    assert health.withdrawal_rate.level is NO_DATA
    assert health.level is level


def _rate(level: HealthLevel) -> Rate:
    return Rate(count=0, total=0 if level is NO_DATA else 1, level=level)


@pytest.mark.parametrize(
    ("levels", "store"),
    [
        ((OK, OK, OK, OK), OK),
        ((OK, NO_DATA, NO_DATA, NO_DATA), NO_DATA),
        ((OK, OK, OK, NO_DATA), NO_DATA),
        ((OK, NO_DATA, WARNING, NO_DATA), WARNING),
        ((OK, NO_DATA, NO_DATA, BREACHED), BREACHED),
        ((BREACHED, NO_DATA, NO_DATA, NO_DATA), BREACHED),
        ((WARNING, OK, NO_DATA, BREACHED), BREACHED),
    ],
)
def test_the_store_level_ranks_no_data_above_ok_and_below_warning(
    levels: tuple[HealthLevel, HealthLevel, HealthLevel, HealthLevel], store: HealthLevel
) -> None:
    """Levels of (withdrawals, withdrawal rate, void rate, unfulfilled rate)."""
    count, withdrawal_rate, void_rate, unfulfilled_rate = levels
    health = StoreHealth(
        store_id="s1",
        month="2025-03",
        withdrawals=0,
        withdrawals_level=count,
        withdrawal_rate=_rate(withdrawal_rate),
        void_rate=_rate(void_rate),
        unfulfilled_rate=_rate(unfulfilled_rate),
        late_share={},
    )
    assert health.level is store


def test_a_late_carrier_line_breaches_a_store_otherwise_without_data() -> None:
    parcel = PromisedDelivery(store_id="s1", carrier_line="CPAM", promised_by=EARLY)
    health = store_health("s1", NOW, "UTC", parcels=[parcel])
    assert health.void_rate.level is NO_DATA
    assert health.level is BREACHED


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
    limits_ours = (limits.unfulfilled_rate_warning, limits.unfulfilled_rate_limit)
    assert limits_ours == (Decimal("0.015"), Decimal("0.02"))
    assert limits.late_share_limit == Decimal("0.15")
    with pytest.raises(ValidationError):
        HealthThresholds(late_share_limit=Decimal("1.5"))


def test_records_with_naive_times_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Withdrawal(store_id="s1", order_id="o1", at=datetime(2025, 3, 1))  # noqa: DTZ001


def health_of(
    shipped_ids: str = "",
    voided_ids: str = "",
    unfulfilled_ids: str = "",
    thresholds: HealthThresholds | None = None,
) -> StoreHealth:
    """The health of a store whose orders (space-separated ids) were shipped, voided and closed
    unfulfilled early this month."""
    return store_health(
        "s1",
        NOW,
        "UTC",
        shipped=[
            ShippedOrder(store_id="s1", order_id=i, shipped_at=EARLY) for i in shipped_ids.split()
        ],
        voided=[VoidedOrder(store_id="s1", order_id=i, at=EARLY) for i in voided_ids.split()],
        unfulfilled=[
            UnfulfilledOrder(store_id="s1", order_id=i, at=EARLY) for i in unfulfilled_ids.split()
        ],
        thresholds=thresholds,
    )


@pytest.mark.parametrize(
    ("ids", "voids", "unfulfilled", "shipped_total"),
    [
        pytest.param(("a b c", "d", ""), (1, 4), (0, 4), 3, id="a void counts in the void rate"),
        pytest.param(
            ("a b c", "", "d"), (0, 4), (1, 4), 3, id="closed unfulfilled: no void, unfulfilled"
        ),
        pytest.param(
            ("a b", "", "b"),
            (0, 2),
            (1, 2),
            2,
            id="shipped, withdrawn, closed unfulfilled: 1 order",
        ),
        pytest.param(("a b", "b", ""), (1, 2), (0, 2), 2, id="shipped, withdrawn, voided: 1 order"),
        pytest.param(
            ("", "a", "b"), (1, 2), (1, 2), 0, id="nothing shipped, a void, an unfulfilled"
        ),
        pytest.param(("", "", ""), (0, 0), (0, 0), 0, id="nothing at all"),
    ],
)
def test_voids_and_unfulfilled_orders_count_apart_per_order_dealt_with(
    ids: tuple[str, str, str],
    voids: tuple[int, int],
    unfulfilled: tuple[int, int],
    shipped_total: int,
) -> None:
    """``ids``: the orders shipped, voided and closed unfulfilled; the rates as (count, total)."""
    health = health_of(*ids)
    assert (health.void_rate.count, health.void_rate.total) == voids
    assert (health.unfulfilled_rate.count, health.unfulfilled_rate.total) == unfulfilled
    assert health.withdrawal_rate.total == shipped_total  # still per order shipped


@pytest.mark.parametrize(
    ("count", "level"), [(11, OK), (12, WARNING), (15, WARNING), (16, BREACHED)]
)
def test_the_void_rate_counts_per_order_dealt_with_at_its_boundaries(
    count: int, level: HealthLevel
) -> None:
    # 1000 orders this month: ``count`` voided, the others shipped.
    shipped_ids = " ".join(f"s{i}" for i in range(1000 - count))
    health = health_of(shipped_ids, " ".join(f"v{i}" for i in range(count)))
    assert (health.void_rate.count, health.void_rate.total) == (count, 1000)
    assert health.void_rate.level is level
    assert health.unfulfilled_rate.level is OK


@pytest.mark.parametrize(
    ("count", "level"),
    [(0, OK), (14, OK), (15, WARNING), (19, WARNING), (20, BREACHED), (21, BREACHED)],
)
def test_the_unfulfilled_rate_warns_at_one_and_a_half_percent_and_breaches_at_two(
    count: int, level: HealthLevel
) -> None:
    # 1000 orders this month: ``count`` closed unfulfilled, the others shipped.
    shipped_ids = " ".join(f"s{i}" for i in range(1000 - count))
    health = health_of(shipped_ids, "", " ".join(f"u{i}" for i in range(count)))
    assert health.unfulfilled_rate.share == Fraction(count, 1000)
    assert health.unfulfilled_rate.level is level
    assert health.void_rate.level is OK
    assert health.level is level


def test_the_unfulfilled_thresholds_are_configurable() -> None:
    limits = HealthThresholds(
        unfulfilled_rate_warning=Decimal("0.1"), unfulfilled_rate_limit=Decimal("0.5")
    )
    assert health_of("a", "", "b", thresholds=limits).unfulfilled_rate.level is BREACHED
    assert health_of("a b", "", "c", thresholds=limits).unfulfilled_rate.level is WARNING
    assert health_of("a b c d e f g h i j", "", "k", thresholds=limits).unfulfilled_rate.level is OK
