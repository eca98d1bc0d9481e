"""R14: a valid solution offered in time meets the solution deadline, whatever the buyer says."""

from __future__ import annotations

from datetime import timedelta

from domain.commands import SendSolution
from domain.disputes import Solution, SolutionKind
from domain.events import BuyerAnsweredSolution, DisputeClosed, ProposeSolution, RespondToDispute
from domain.lifecycle import advance, decide
from domain.money import Money
from domain.order import DeadlineKind, Order, pending_deadlines
from domain.policy import Policy
from domain.states import EventKind, OrderState
from tests.unit.builders import U, disputed, ok

H = timedelta(hours=1)
D = U + 2 * H
S = OrderState
PARTIAL = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=6_00))


def offered() -> Order:
    """Response at D+10h, a partial refund of 30 % offered at D+30h."""
    order = ok(decide(disputed(D), RespondToDispute(message="sorry"), D + 10 * H))
    return ok(decide(order, ProposeSolution(solution=PARTIAL), D + 30 * H))


def rejected(at: timedelta) -> BuyerAnsweredSolution:
    return BuyerAnsweredSolution(
        event_id=f"rj-{at}", at=D + at, kind=EventKind.BUYER_REJECTED_SOLUTION
    )


def test_a_rejection_before_the_deadline_leaves_the_rest_of_the_window_for_another_offer() -> None:
    order = ok(decide(offered(), rejected(40 * H), D + 40 * H))
    assert order.state is S.AWAITING_SOLUTION
    assert order.dispute is not None
    assert order.dispute.solution_due == D + 48 * H
    second = Solution(kind=SolutionKind.FULL_REFUND)
    decision = decide(order, ProposeSolution(solution=second), D + 47 * H)
    assert decision.refusal is None
    assert decision.order.state is S.SOLUTION_OFFERED
    assert [c.idempotency_key for c in decision.commands if isinstance(c, SendSolution)] == [
        "order-aliexpress-42:dispute:D1:solution:2"
    ]


def test_a_rejection_before_the_deadline_and_no_second_offer_is_ruled_at_the_deadline() -> None:
    order = ok(decide(offered(), rejected(40 * H), D + 40 * H))
    assert advance(order, D + 48 * H - timedelta(seconds=1)).order.state is S.AWAITING_SOLUTION
    ruled = advance(order, D + 48 * H).order
    assert ruled.state is S.RULED_AGAINST_SELLER


def test_a_rejection_after_the_deadline_goes_to_arbitration_not_to_a_ruling() -> None:
    order = offered()
    assert advance(order, D + 50 * H).order.state is S.SOLUTION_OFFERED
    decision = decide(order, rejected(50 * H), D + 50 * H)
    after = ok(decision)
    assert after.state is S.AWAITING_ARBITRATION
    assert after.state.in_dispute
    assert (after.refund_from_deposit, after.resolution) == (None, None)
    assert not any("missed" in notice for notice in after.notices)
    assert "solution" not in {d.kind.value for d in decision.fired}
    assert any("arbitration" in notice for notice in after.notices)
    assert "solution" not in [e.kind for e in after.timeline if e.source == "clock"]


def test_a_rejection_at_the_deadline_itself_goes_to_arbitration() -> None:
    assert ok(decide(offered(), rejected(48 * H), D + 48 * H)).state is S.AWAITING_ARBITRATION


def test_arbitration_waits_for_its_verdict_and_reminds_once_after_the_policy_period() -> None:
    order = ok(decide(offered(), rejected(50 * H), D + 50 * H))
    reminders = [d for d in pending_deadlines(order) if d.kind is DeadlineKind.ARBITRATION]
    assert [d.at for d in reminders] == [D + 50 * H + Policy().arbitration_reminder_after]
    quiet = advance(order, D + 50 * H + timedelta(days=7) - timedelta(seconds=1)).order
    assert not any("verdict" in notice for notice in quiet.notices)
    reminded = advance(order, D + 50 * H + timedelta(days=7)).order
    assert reminded.state is S.AWAITING_ARBITRATION
    assert len([n for n in reminded.notices if "no arbitration verdict" in n]) == 1
    again = advance(reminded, D + 50 * H + timedelta(days=30)).order
    assert again.notices == reminded.notices


def test_the_arbitration_verdict_ends_the_dispute_either_way() -> None:
    order = ok(decide(offered(), rejected(50 * H), D + 50 * H))
    for_seller = DisputeClosed(
        event_id="af", at=D + 80 * H, kind=EventKind.ARBITRATION_FOR_SELLER, dispute_id="D1"
    )
    assert ok(decide(order, for_seller, D + 80 * H)).state is S.DISPUTE_RESOLVED
    against = DisputeClosed(
        event_id="aa",
        at=D + 80 * H,
        kind=EventKind.ARBITRATION_AGAINST_SELLER,
        dispute_id="D1",
        refund=Money(minor=12_00),
    )
    ruled = ok(decide(order, against, D + 80 * H))
    assert (ruled.state, ruled.refund_from_deposit) == (S.RULED_AGAINST_SELLER, Money(minor=12_00))


def test_no_solution_can_be_offered_while_arbitration_decides() -> None:
    order = ok(decide(offered(), rejected(50 * H), D + 50 * H))
    refused = decide(order, ProposeSolution(solution=PARTIAL), D + 51 * H)
    assert refused.refusal is not None
    assert refused.refusal.value == "wrong_state"
    assert refused.order == order
