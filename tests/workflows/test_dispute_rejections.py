"""R14 on the real server: a solution offered in time meets the deadline; a late rejection goes to
the platform's arbitration, an early one leaves the rest of the window for another offer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.disputes import Solution, SolutionKind
from domain.events import BuyerAnsweredSolution, DisputeClosed, ProposeSolution, RespondToDispute
from domain.money import Money
from domain.states import EventKind, OrderState
from tests.workflows.harness import OrderRun, order_run
from tests.workflows.test_order_paths import open_dispute, ship
from workflows import search_attributes as sa
from workflows.messages import OrderOutcome
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
H, DAY = timedelta(hours=1), timedelta(days=1)
S = OrderState
PARTIAL = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=6_00))


async def offer_at_30_hours(run: OrderRun) -> datetime:
    """D4: response at D+10h, a 30 % partial refund at D+30h; returns D."""
    await ship(run)
    opened = await open_dispute(run)
    await run.move_to(opened + 10 * H)
    await run.handle.execute_update(
        OrderWorkflow.respond_to_dispute, RespondToDispute(message="sorry")
    )
    await run.move_to(opened + 30 * H)
    view = await run.handle.execute_update(
        OrderWorkflow.propose_solution, ProposeSolution(solution=PARTIAL)
    )
    assert view.state is S.SOLUTION_OFFERED
    return opened


def answer(kind: EventKind, at: datetime, event_id: str) -> BuyerAnsweredSolution:
    return BuyerAnsweredSolution(event_id=event_id, at=at, kind=kind)


async def test_a_rejection_after_the_deadline_awaits_arbitration_and_its_verdict(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        opened = await offer_at_30_hours(run)
        await run.move_to(opened + 50 * H)
        assert (await run.view()).state is S.SOLUTION_OFFERED  # no ruling at D+48h
        rejected = opened + 50 * H
        await run.signal(answer(EventKind.BUYER_REJECTED_SOLUTION, rejected, "rj-1"))
        view = await run.view()
        assert view.state is S.AWAITING_ARBITRATION
        assert (view.order.refund_from_deposit, view.order.resolution) == (None, None)
        assert not any("missed" in n for n in view.order.notices)
        described = await run.handle.describe()
        assert described.typed_search_attributes.get(sa.ORDER_STATE) == S.AWAITING_ARBITRATION
        assert described.typed_search_attributes.get(sa.DISPUTE_OPEN) is True

        await run.reach(rejected + 7 * DAY)
        reminded = await run.view()
        assert len([n for n in reminded.order.notices if "no arbitration verdict" in n]) == 1
        assert reminded.state is S.AWAITING_ARBITRATION

        verdict = DisputeClosed(
            event_id="arb-1",
            at=rejected + 8 * DAY,
            kind=EventKind.ARBITRATION_FOR_SELLER,
            dispute_id="D1",
        )
        await run.move_to(verdict.at)
        await run.signal(verdict)
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.DISPUTE_RESOLVED
        assert outcome.resolution == "arbitration ruled for the seller"
        assert run.platform.keys("propose_solution") == [f"{run.handle.id}:dispute:D1:solution:1"]
        await run.save_history("dispute_arbitration")


async def test_a_rejection_before_the_deadline_leaves_time_for_a_second_offer(
    env: WorkflowEnvironment,
) -> None:
    async with order_run(env) as run:
        opened = await offer_at_30_hours(run)
        await run.move_to(opened + 40 * H)
        await run.signal(answer(EventKind.BUYER_REJECTED_SOLUTION, opened + 40 * H, "rj-1"))
        view = await run.view()
        assert view.state is S.AWAITING_SOLUTION
        assert [d.at for d in view.deadlines if d.kind.value == "solution"] == [opened + 48 * H]
        await run.move_to(opened + 47 * H)
        full = Solution(kind=SolutionKind.FULL_REFUND)
        offered = await run.handle.execute_update(
            OrderWorkflow.propose_solution, ProposeSolution(solution=full)
        )
        assert offered.state is S.SOLUTION_OFFERED
        await run.move_to(opened + 49 * H)
        assert (await run.view()).state is S.SOLUTION_OFFERED
        await run.signal(answer(EventKind.BUYER_ACCEPTED_SOLUTION, opened + 49 * H, "ok-2"))
        outcome = await run.handle.result()
        assert isinstance(outcome, OrderOutcome)
        assert outcome.state is S.DISPUTE_RESOLVED
        wid = run.handle.id
        assert run.platform.keys("propose_solution") == [
            f"{wid}:dispute:D1:solution:1",
            f"{wid}:dispute:D1:solution:2",
        ]
