"""R7: the seller-health records an order's transitions send (``health_records``) and their keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.events import OrderVoided
from domain.lifecycle import advance, decide
from domain.order import Order
from domain.states import OrderState
from tests.unit.builders import P, new_order, ok
from workflows.order_publication import health_records
from workflows.store_health import (
    HealthRecord,
    ParcelRecord,
    ShippedRecord,
    UnfulfilledRecord,
    VoidedRecord,
    WithdrawalRecord,
    record_key,
)

IDS = {"seller_id": "store-1", "order_id": "42"}
VOIDED_AT = P + timedelta(hours=5)
CLOSED_AT = P + timedelta(days=4)  # past the 72 h handling time (R3a)


def voided(order: Order) -> Order:
    """The buyer asked to cancel and the seller consented (R7)."""
    return ok(decide(order, OrderVoided(event_id="void-1", at=VOIDED_AT), VOIDED_AT))


def closed_unfulfilled(order: Order) -> Order:
    """Not shipped within the handling time (R3a)."""
    return advance(order, CLOSED_AT).order


@pytest.mark.parametrize(
    ("transition", "now", "state", "expected"),
    [
        pytest.param(
            voided,
            VOIDED_AT,
            OrderState.VOIDED,
            [VoidedRecord(**IDS, at=VOIDED_AT)],
            id="a void sends a voided record",
        ),
        pytest.param(
            closed_unfulfilled,
            CLOSED_AT,
            OrderState.CLOSED_UNFULFILLED,
            [UnfulfilledRecord(**IDS, at=CLOSED_AT)],
            id="closed unfulfilled sends an unfulfilled record, no voided one",
        ),
    ],
)
def test_an_order_reaching_its_end_sends_the_record_of_that_end(
    transition: Callable[[Order], Order],
    now: datetime,
    state: OrderState,
    expected: list[HealthRecord],
) -> None:
    before = new_order()
    after = transition(before)
    assert after.state is state
    assert health_records(before, after, now) == expected


@pytest.mark.parametrize("state", [OrderState.VOIDED, OrderState.CLOSED_UNFULFILLED])
def test_an_order_already_at_its_end_sends_nothing_again(state: OrderState) -> None:
    ended = new_order().model_copy(update={"state": state})
    assert health_records(ended, ended, CLOSED_AT) == []


def test_record_keys_stay_those_of_the_earlier_code_and_unfulfilled_has_its_own() -> None:
    at = datetime(2026, 3, 2, tzinfo=UTC)
    records: list[HealthRecord] = [
        WithdrawalRecord(**IDS, at=at, seq=2),
        ShippedRecord(**IDS, at=at),
        VoidedRecord(**IDS, at=at),
        ParcelRecord(**IDS, carrier_line="yanwen", promised_at=at, seq=1),
        UnfulfilledRecord(**IDS, at=at),
    ]
    assert [record_key(r) for r in records] == [
        "withdrawal:42:2",
        "shipped:42",
        "voided:42",
        "parcel:42:1",
        "unfulfilled:42",
    ]
