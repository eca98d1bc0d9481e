"""The chaos run's scripts and verdicts: the predictions it trusts, and the failures it must see."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowHistory

from adapters.platform_sim.rules import SimDispute
from adapters.platform_sim.state import LedgerEntry
from bench.chaos.check import OrderCheck, check_order, market_disagrees
from bench.chaos.run import ChaosConfig, Report, plans, s10, schedule
from bench.chaos.scripts import (
    CARRIER_FACTS,
    MARGIN,
    PATHS,
    REPLACEMENT,
    Act,
    Path,
    Plan,
    Step,
    policy,
    predict,
    simulate,
    slack,
)
from domain.events import CarrierScanned, ParcelDelivered
from domain.lifecycle import decide
from domain.order import Order, TimelineEntry
from domain.states import OrderState
from domain.tracking_numbers import TrackingNumberOk, check_tracking_number
from workflows.messages import OrderOutcome

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def plan_for(path: Path, seed: int = 1) -> Plan:
    rng = random.Random(seed)  # noqa: S311 - reproducible numbers
    numbers = [s10(rng), s10(rng), s10(rng), s10(rng, "UG")]
    return Plan("5550001", "seller-1", path, numbers, 0.0, dispute_id="77", created_at=T0)


@pytest.mark.parametrize("path", [*PATHS, REPLACEMENT], ids=lambda p: p.name)
def test_every_script_ends_and_keeps_its_steps_clear_of_the_clocks(path: Path) -> None:
    plan = plan_for(path)
    if path is REPLACEMENT:
        plan.replacement_of = "order-aliexpress-5550001"
    assert predict(plan, T0, 1.0).state.is_terminal
    assert slack(plan, T0, 1.0) >= MARGIN


def test_a_lost_parcel_reshipped_is_messaged_and_its_replacement_ships_offline() -> None:
    lost = next(p for p in PATHS if p.name == "lost_and_reshipped")
    parent = predict(plan_for(lost), T0, 1.0)
    assert parent.state is OrderState.DISPUTE_RESOLVED
    assert "order-aliexpress-5550001:reship:1:message" in parent.keys
    child = plan_for(REPLACEMENT)
    child.replacement_of = "order-aliexpress-5550001"
    replacement = predict(child, T0, 1.0)
    assert replacement.state is OrderState.COMPLETED
    assert replacement.keys == frozenset()  # shipped offline: nothing asked of the marketplace


def test_the_paths_reach_every_end_and_fire_every_dispute_and_shipping_clock() -> None:
    predictions = [predict(plan_for(p), T0, 1.0) for p in PATHS]
    assert {p.state for p in predictions} == {
        OrderState.COMPLETED,
        OrderState.CLOSED_UNFULFILLED,
        OrderState.DISPUTE_RESOLVED,
        OrderState.RULED_AGAINST_SELLER,
    }
    fired = sum((p.deadlines for p in predictions), Counter[str]())
    assert set(fired) == {
        "handling_time",
        "cancel_window",
        "first_response",
        "solution",
        "reminder",
        "arbitration",
    }
    keys = {k.rsplit(":", 1)[0].split(":", 1)[1] for p in predictions for k in p.keys}
    assert {"upload", "withdraw", "dispute:77"} <= keys


def test_a_run_plans_every_path_evenly_with_valid_numbers_and_a_seeded_schedule() -> None:
    config = ChaosConfig(seed=3, orders=3 * len(PATHS), worker_kills=4, server_restarts=2)
    first = plans(config, random.Random(3))  # noqa: S311
    again = plans(config, random.Random(3))  # noqa: S311
    assert [p.order_id for p in first] == [p.order_id for p in again]
    assert Counter(p.path.name for p in first) == {p.name: 3 for p in PATHS}
    numbers = [n for p in first for n in p.numbers]
    assert all(
        isinstance(
            check_tracking_number("yanwen" if n[:2] == "UG" else "china_post", n), TrackingNumberOk
        )
        for n in numbers
    )
    assert len({n for p in first for n in p.numbers}) == sum(len(p.numbers) for p in first)
    kills = schedule(config, random.Random(3))  # noqa: S311
    assert Counter(what for _, what in kills) == {"worker": 4, "server": 2}
    assert kills == schedule(config, random.Random(3))  # noqa: S311


def _path(name: str) -> Path:
    return next(p for p in PATHS if p.name == name)


@pytest.mark.parametrize("path", [*PATHS, REPLACEMENT], ids=lambda p: p.name)
def test_every_carrier_fact_names_the_number_the_order_carries_at_that_step(path: Path) -> None:
    plan = plan_for(path)
    if path is REPLACEMENT:
        plan.replacement_of = "order-aliexpress-5550001"
    order = Order.new(plan.facts(T0, 1.0))
    for index, step in enumerate(path.steps):
        event = plan.event(index, T0)
        if step.act in CARRIER_FACTS:
            assert isinstance(event, CarrierScanned | ParcelDelivered)
            carried = order.shipment.tracking_number if order.shipment else None
            if step.act is Act.OLD_SCAN:
                assert order.past_shipments, "an old scan names a number shipped before"
                assert event.tracking_number == order.past_shipments[-1].tracking_number
                assert event.tracking_number != carried
            else:
                assert event.tracking_number == carried
        order = decide(order, event, T0).order


def test_a_late_scan_of_a_withdrawn_number_leaves_the_next_withdrawal_possible() -> None:
    plan = plan_for(_path("withdrawn_then_old_scanned"))
    predicted = predict(plan, T0, 1.0)
    assert predicted.state is OrderState.COMPLETED
    steps = {k.removeprefix("order-aliexpress-5550001:") for k in predicted.keys}
    assert steps == {"upload:1", "withdraw:1", "upload:2", "withdraw:2", "upload:3"}
    order, _ = simulate(plan, T0, 1.0)
    [late] = [e for e in order.timeline if e.event_id == "chaos:5550001:3"]
    assert (late.kind, late.tracking_number) == ("scan", plan.numbers[0])
    assert order.shipment is not None
    assert order.shipment.tracking_number == plan.numbers[2]


def test_a_solution_rejected_in_time_is_followed_by_a_second_one_the_buyer_accepts() -> None:
    predicted = predict(plan_for(_path("solution_rejected_in_time")), T0, 1.0)
    assert predicted.state is OrderState.DISPUTE_RESOLVED
    prefix = "order-aliexpress-5550001:dispute:77:solution:"
    assert {f"{prefix}1", f"{prefix}2"} <= predicted.keys
    assert predicted.deadlines == Counter()


def test_a_solution_rejected_late_awaits_arbitration_whose_reminder_fires_once_before_it() -> None:
    path = _path("solution_rejected_late")
    plan = plan_for(path)
    assert policy(2.0).arbitration_reminder_after == 2 * policy(1.0).arbitration_reminder_after
    before_verdict = Path(path.name, path.steps[:-1])
    order, _ = simulate(Plan("5550001", "s", before_verdict, plan.numbers, 0.0, "77"), T0, 1.0)
    assert order.state is OrderState.AWAITING_ARBITRATION
    assert order.refund_from_deposit is None
    predicted = predict(plan, T0, 1.0)
    assert predicted.state is OrderState.DISPUTE_RESOLVED
    assert predicted.deadlines == Counter({"arbitration": 1})
    end, _ = simulate(plan, T0, 1.0)
    [reminder] = [e for e in end.timeline if e.kind == "arbitration" and e.source == "clock"]
    [verdict] = [e for e in end.timeline if e.kind == "arbitration_for_seller"]
    assert (verdict.at - reminder.at).total_seconds() >= MARGIN


def test_the_slack_counts_a_deadline_fired_just_before_a_step() -> None:
    steps = (Step(1, Act.SHIP), Step(62, Act.DELIVER), Step(64, Act.CONFIRM))
    tight = Path("tight", steps)
    assert slack(plan_for(tight), T0, 1.0) == 1.0  # the cancel window closed at 61


def _verdict(
    path: Path, *, ledger_extra: int = 0, drop_key: bool = False, state: OrderState | None = None
) -> OrderCheck:
    plan = plan_for(path)
    order, keys = simulate(plan, T0, 1.0)
    ledger = [
        LedgerEntry(n, T0, "effect", key, order_id=plan.order_id)
        for n, key in enumerate(sorted(keys)[1 if drop_key else 0 :], 1)
    ]
    ledger += [LedgerEntry(100 + n, T0, "effect", sorted(keys)[0]) for n in range(ledger_extra)]
    outcome = OrderOutcome(state=state or order.state, resolution=order.resolution, order=order)
    history = WorkflowHistory(workflow_id=order.facts.workflow_id, events=[])
    return check_order(plan, outcome, history, ledger=ledger, scale=1.0, tolerance=20.0)


DISPUTE = next(p for p in PATHS if p.name == "dispute_partial_refund")


def test_an_order_that_ended_as_predicted_passes() -> None:
    verdict = _verdict(DISPUTE)
    assert verdict.problems == []
    assert len(verdict.keys) == 3


def test_a_side_effect_repeated_under_one_key_fails_the_run() -> None:
    (problem,) = _verdict(DISPUTE, ledger_extra=1).problems
    assert "2 side effects for key" in problem


def test_a_lost_side_effect_fails_the_run() -> None:
    (problem,) = _verdict(DISPUTE, drop_key=True).problems
    assert "no side effect for" in problem


def test_an_order_ending_elsewhere_than_predicted_fails_the_run() -> None:
    (problem,) = _verdict(DISPUTE, state=OrderState.RULED_AGAINST_SELLER).problems
    assert "predicted dispute_resolved" in problem


def test_a_deadline_fired_twice_fails_the_run() -> None:
    path = next(p for p in PATHS if p.name == "unfulfilled")
    plan = plan_for(path)
    order, _ = simulate(plan, T0, 1.0)
    fired = next(e for e in order.timeline if e.source == "clock")
    order.timeline.append(TimelineEntry(at=fired.at, source="clock", kind=fired.kind))
    outcome = OrderOutcome(state=order.state, resolution=order.resolution, order=order)
    history = WorkflowHistory(workflow_id=order.facts.workflow_id, events=[])
    (problem,) = check_order(plan, outcome, history, ledger=[], scale=1.0, tolerance=20).problems
    assert "deadlines fired {'handling_time': 2}" in problem


def test_a_report_fails_when_fewer_kills_happened_than_planned() -> None:
    report = Report(ChaosConfig(seed=1, worker_kills=2, server_restarts=1), worker_kills=2)
    assert report.failures == ["0 restarts, 1 planned"]
    assert not report.passed


def test_the_marketplaces_own_end_of_a_dispute_must_be_the_orders() -> None:
    plan = plan_for(_path("solution_rejected_late"))
    dispute = SimDispute("77", plan.order_id, "not_received", T0)
    assert market_disagrees(plan, OrderState.DISPUTE_RESOLVED, None) == (
        "5550001 (solution_rejected_late): the marketplace has no dispute 77"
    )
    dispute.status = "arbitration"
    problem = market_disagrees(plan, OrderState.DISPUTE_RESOLVED, dispute)
    assert problem is not None
    assert "is arbitration (None, by None), the order ended dispute_resolved" in problem
    dispute.status, dispute.outcome, dispute.decided_by = "finish", "resolved", "arbitration"
    assert market_disagrees(plan, OrderState.DISPUTE_RESOLVED, dispute) is None
    assert market_disagrees(plan, OrderState.RULED_AGAINST_SELLER, dispute) is not None
    no_dispute = plan_for(_path("completed"))
    no_dispute.dispute_id = None
    assert market_disagrees(no_dispute, OrderState.COMPLETED, None) is None
