"""A fact handed to the order late, in one task with a clock that ran out after it."""

from __future__ import annotations

from datetime import timedelta

from domain.errors import RefusalReason
from domain.events import CarrierScanned, EtaChanged
from domain.lifecycle import counts_at, decide
from domain.states import OrderState
from tests.unit.builders import U, shipped

H = timedelta(hours=1)
WINDOW_END = U + 24 * H


def scan(at: timedelta) -> CarrierScanned:
    return CarrierScanned(event_id="s-1", at=U + at, status="in_transit", code="PU")


def test_a_scan_made_inside_the_window_and_handled_after_it_locks_the_order_as_scanned() -> None:
    order, late = shipped(), WINDOW_END + 30 * timedelta(seconds=1)
    fact = scan(23 * H)
    at = counts_at(order, fact, late, decided_until=U)
    assert at == U + 23 * H
    decided = decide(order, fact, at)
    assert decided.order.state is OrderState.LOCKED
    assert decided.order.lock_reason is RefusalReason.CARRIER_SCANNED
    assert decided.order.locked_at == U + 23 * H
    assert decided.fired == ()
    # Handled at the late time itself, the window would have run out first.
    handled_late = decide(order, fact, late)
    assert handled_late.order.lock_reason is RefusalReason.WINDOW_CLOSED
    assert [d.kind.value for d in handled_late.fired] == ["cancel_window"]


def test_a_fact_counts_now_when_no_clock_ran_out_since_it_happened() -> None:
    order = shipped()
    assert counts_at(order, scan(2 * H), U + 5 * H, decided_until=U) == U + 5 * H


def test_a_fact_made_after_the_clock_ran_out_counts_after_it() -> None:
    order, late = shipped(), WINDOW_END + 2 * H
    fact = scan(24 * H + timedelta(minutes=1))
    at = counts_at(order, fact, late, decided_until=U)
    assert at == late
    assert decide(order, fact, at).order.lock_reason is RefusalReason.WINDOW_CLOSED


def test_a_late_fact_never_counts_before_what_the_order_already_acted_on() -> None:
    order = shipped()
    acted = U + 23 * H + timedelta(minutes=59)
    at = counts_at(order, scan(1 * H), WINDOW_END + H, decided_until=acted)
    assert at == acted


def test_a_fact_dated_in_the_future_counts_now() -> None:
    order = shipped()
    moved = EtaChanged(event_id="e-1", at=U + 48 * H, eta=U + 30 * 24 * H)
    assert counts_at(order, moved, U + H, decided_until=U) == U + H
