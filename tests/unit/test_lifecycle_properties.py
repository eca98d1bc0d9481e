"""Invariants of the lifecycle under any sequence of events (hypothesis stateful testing)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.disputes import Solution, SolutionKind
from domain.events import (
    BuyerAnsweredSolution,
    BuyerConfirmed,
    CarrierScanned,
    DisputeOpened,
    EtaChanged,
    Event,
    ParcelDelivered,
    ProposeSolution,
    RefusedByPlatform,
    RespondToDispute,
    UploadTracking,
    WithdrawTracking,
)
from domain.lifecycle import advance, decide
from domain.money import Money
from domain.states import EventKind, OrderState
from tests.unit.builders import NUMBER, P, new_order

LOCKED_FOR_GOOD = frozenset(OrderState) - {OrderState.SHIPPED, OrderState.AWAITING_SHIPMENT}
steps = st.integers(min_value=0, max_value=40 * 3600).map(lambda s: timedelta(seconds=s))


class OrderLife(RuleBasedStateMachine):
    """Drives one order with random seller commands, outside facts and clock moves."""

    def __init__(self) -> None:
        super().__init__()
        self.order = new_order(eta=P + timedelta(days=12))
        self.order.checks_carrier = True
        self.now = P
        self.keys: list[str] = []
        self.fact_no = 0
        self.was_locked = False

    def _feed(self, event: Event) -> None:
        before = advance(self.order, self.now).order
        decision = decide(self.order, event, self.now)
        if decision.refused:
            assert decision.order == before, "a refused command changed the order"
            assert decision.commands == advance(self.order, self.now).commands
        self.keys.extend(c.idempotency_key for c in decision.commands)
        self.order = decision.order

    def _id(self) -> str:
        self.fact_no += 1
        return f"f{self.fact_no}"

    @rule(step=steps)
    def time_passes(self, step: timedelta) -> None:
        self.now += step
        decision = advance(self.order, self.now)
        self.keys.extend(c.idempotency_key for c in decision.commands)
        self.order = decision.order

    @rule(number=st.sampled_from([NUMBER, "RR123456784CN", "LX123456785CN"]))
    def seller_uploads(self, number: str) -> None:
        self._feed(UploadTracking(carrier="china_post", tracking_number=number))

    @rule()
    def seller_withdraws(self) -> None:
        self._feed(WithdrawTracking())

    @rule(status=st.sampled_from(["info_received", "in_transit", "customs", "delivered"]))
    def carrier_scans(self, status: str) -> None:
        self._feed(CarrierScanned(event_id=self._id(), at=self.now, status=status))

    @rule()
    def carrier_delivers(self) -> None:
        self._feed(ParcelDelivered(event_id=self._id(), at=self.now))

    @rule(days=st.integers(min_value=0, max_value=20))
    def platform_moves_eta(self, days: int) -> None:
        self._feed(
            EtaChanged(event_id=self._id(), at=self.now, eta=self.now + timedelta(days=days))
        )

    @rule()
    def buyer_opens_dispute(self) -> None:
        self._feed(DisputeOpened(event_id=self._id(), at=self.now, dispute_id="D1"))

    @rule()
    def seller_responds(self) -> None:
        self._feed(RespondToDispute(message="looking into it"))

    @rule(minor=st.integers(min_value=-1, max_value=25_00))
    def seller_offers_partial_refund(self, minor: int) -> None:
        refund = Money(minor=max(minor, 0))
        self._feed(
            ProposeSolution(solution=Solution(kind=SolutionKind.PARTIAL_REFUND, refund=refund))
        )

    @rule(accepted=st.booleans())
    def buyer_answers(self, accepted: bool) -> None:
        kind = EventKind.BUYER_ACCEPTED_SOLUTION if accepted else EventKind.BUYER_REJECTED_SOLUTION
        self._feed(BuyerAnsweredSolution(event_id=self._id(), at=self.now, kind=kind))

    @rule()
    def buyer_confirms(self) -> None:
        self._feed(BuyerConfirmed(event_id=self._id(), at=self.now))

    @rule(code=st.sampled_from(["carrier_scanned", "risk_control"]))
    def platform_refuses_withdrawal(self, code: str) -> None:
        kind = EventKind.PLATFORM_REFUSED_WITHDRAWAL
        self._feed(RefusedByPlatform(event_id=self._id(), at=self.now, kind=kind, code=code))

    @invariant()
    def locking_is_one_way(self) -> None:
        if self.was_locked:
            assert self.order.state in LOCKED_FOR_GOOD
        self.was_locked = self.was_locked or self.order.state in LOCKED_FOR_GOOD

    @invariant()
    def each_deadline_fires_at_most_once(self) -> None:
        assert len(self.order.fired) == len(set(self.order.fired))

    @invariant()
    def each_idempotency_key_is_issued_once(self) -> None:
        assert len(self.keys) == len(set(self.keys))
        assert self.keys == self.order.issued_keys

    @invariant()
    def a_locked_order_knows_since_when_and_why(self) -> None:
        if self.order.state is OrderState.LOCKED:
            assert self.order.locked_at is not None
            assert self.order.lock_reason is not None


OrderLife.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestOrderLife = OrderLife.TestCase
