"""Ended orders refuse commands by name; voided orders end as voids; a reship is a new number."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.disputes import Solution, SolutionKind
from domain.events import (
    AttachPackingVideo,
    BuyerConfirmed,
    Event,
    OrderVoided,
    ParcelDelivered,
    ProposeSolution,
    UploadTracking,
    WithdrawTracking,
)
from domain.lifecycle import decide
from domain.states import OrderState
from tests.numbers import fresh_s10
from tests.unit.builders import NUMBER, P, U, disputed, new_order, ok, shipped

H = timedelta(hours=1)
S = OrderState


def completed() -> object:
    order = ok(decide(shipped(), ParcelDelivered(event_id="dl", at=U + 90 * H), U + 90 * H))
    return ok(decide(order, BuyerConfirmed(event_id="bc", at=U + 100 * H), U + 100 * H))


@pytest.mark.parametrize(
    "command",
    [
        WithdrawTracking(),
        UploadTracking(carrier="china_post", tracking_number="LX123456785CN"),
        AttachPackingVideo(reference="video-1"),
    ],
    ids=["withdraw", "upload", "video"],
)
def test_a_command_to_an_ended_order_is_refused_order_ended_naming_its_final_state(
    command: Event,
) -> None:
    order = completed()
    decision = decide(order, command, U + 101 * H)  # type: ignore[arg-type]
    assert decision.refusal is not None
    assert decision.refusal.value == "order_ended"
    assert "the order has ended: completed" in decision.detail
    assert decision.order == order


def test_an_order_voided_at_the_buyers_request_ends_as_a_void() -> None:
    voided = ok(decide(new_order(), OrderVoided(event_id="v", at=P + 5 * H), P + 5 * H))
    assert voided.state is S.VOIDED
    assert voided.state.is_terminal
    assert voided.resolution is not None
    assert "void rate" in voided.resolution


def test_a_void_reported_for_a_shipped_order_is_kept_and_flagged_not_applied() -> None:
    order = ok(decide(shipped(), OrderVoided(event_id="v", at=U + 5 * H), U + 5 * H))
    assert order.state is S.SHIPPED
    assert any("voided while shipped" in n for n in order.notices)


def test_a_reship_can_never_take_the_lost_parcels_own_number() -> None:
    order = disputed(U + 200 * H)
    for number in (NUMBER, " rr123456785cn"):
        solution = Solution(
            kind=SolutionKind.RESHIP, reship_carrier="china_post", reship_tracking_number=number
        )
        refused = decide(order, ProposeSolution(solution=solution), U + 201 * H)
        assert refused.refusal is not None
        assert refused.refusal.value == "duplicate"
        assert "the lost parcel's own number" in refused.detail
        assert refused.commands == ()
    fresh = Solution(
        kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=fresh_s10("UG")
    )
    assert decide(order, ProposeSolution(solution=fresh), U + 201 * H).refusal is None
