"""The chaos run's verdict on one order: its end, its side effects, its deadlines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from adapters.platform_sim.rules import FINISHED, SimDispute
from adapters.platform_sim.state import LedgerEntry
from bench.chaos.scripts import Plan, fired_deadlines, predict
from domain.states import OrderState
from workflows.messages import OrderOutcome

MARKET_OUTCOME = {
    OrderState.DISPUTE_RESOLVED: "resolved",
    OrderState.RULED_AGAINST_SELLER: "ruled_against_seller",
}
"""How the marketplace simulator ends a dispute whose order ended in each state."""


@dataclass
class OrderCheck:
    """One order's verdict: ``problems`` is empty when it ended exactly as predicted."""

    order_id: str
    path: str
    keys: list[str] = field(default_factory=list)
    deadlines_fired: int = 0
    max_lateness: float = 0.0
    problems: list[str] = field(default_factory=list)


def check_order(
    plan: Plan,
    outcome: OrderOutcome,
    history: WorkflowHistory,
    *,
    ledger: Sequence[LedgerEntry],
    scale: float,
    tolerance: float,
) -> OrderCheck:
    """Compare the order's end with the domain model's prediction for its script."""
    assert plan.created_at is not None
    check = OrderCheck(plan.order_id, plan.path.name)
    name = f"{plan.order_id} ({plan.path.name})"
    try:
        expected = predict(plan, plan.created_at, scale)
    except AssertionError as impossible:  # e.g. found by discovery after its handling time
        check.problems.append(f"{name}: {impossible}")
        return check
    if outcome.state is not expected.state or outcome.order is None:
        check.problems.append(f"{name} ended {outcome.state}, predicted {expected.state}")
        return check
    prefix = f"{outcome.order.facts.workflow_id}:"
    effects = Counter(
        e.idempotency_key
        for e in ledger
        if e.idempotency_key and e.idempotency_key.startswith(prefix)
    )
    check.keys = sorted(effects)
    for key, times in sorted(effects.items()):
        if times != 1:
            check.problems.append(f"{name}: {times} side effects for key {key}")
    if missing := sorted(expected.keys - set(effects)):
        check.problems.append(f"{name}: no side effect for {missing}")
    if extra := sorted(set(effects) - expected.keys):
        check.problems.append(f"{name}: unpredicted side effects {extra}")
    fired = fired_deadlines(outcome.order)
    check.deadlines_fired = sum(fired.values())
    if fired != expected.deadlines:
        check.problems.append(
            f"{name}: deadlines fired {dict(fired)}, predicted {dict(expected.deadlines)}"
        )
    check.max_lateness = max(timer_lateness(history), default=0.0)
    if check.max_lateness > tolerance:
        check.problems.append(f"{name}: a deadline acted on {check.max_lateness:.1f} s late")
    return check


def market_disagrees(
    plan: Plan, state: OrderState | None, dispute: SimDispute | None
) -> str | None:
    """Why the marketplace simulator's own end of the order's dispute (its R14 rulings, the
    buyer's answers, arbitration) is not the order's, or None when they agree."""
    if plan.dispute_id is None:
        return None
    name = f"{plan.order_id} ({plan.path.name})"
    if dispute is None:
        return f"{name}: the marketplace has no dispute {plan.dispute_id}"
    expected = MARKET_OUTCOME.get(state) if state is not None else None
    if dispute.status == FINISHED and dispute.outcome == expected:
        return None
    return (
        f"{name}: the marketplace's dispute {dispute.dispute_id} is {dispute.status}"
        f" ({dispute.outcome}, by {dispute.decided_by}), the order ended {state}"
    )


def timer_lateness(history: WorkflowHistory) -> list[float]:
    """For each timer that fired: seconds from when it was due until the workflow acted on it
    (the next completed workflow task), as the server's history records them."""
    events = list(history.events)
    started: dict[int, datetime] = {}
    late: list[float] = []
    for i, event in enumerate(events):
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            attrs = event.timer_started_event_attributes
            due = event.event_time.ToDatetime() + attrs.start_to_fire_timeout.ToTimedelta()
            started[event.event_id] = due
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            due = started[event.timer_fired_event_attributes.started_event_id]
            acted = next(
                (
                    e.event_time.ToDatetime()
                    for e in events[i:]
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                ),
                None,
            )
            if acted is not None:
                late.append((acted - due).total_seconds())
    return late
