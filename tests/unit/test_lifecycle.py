"""The order lifecycle, rule by rule, at the exact boundaries of SCENARIOS.md."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.commands import (
    CheckCarrier,
    SendDisputeResponse,
    SendSolution,
    SendTrackingUpload,
    SendWithdrawal,
)
from domain.disputes import Solution, SolutionKind
from domain.errors import RefusalReason
from domain.events import (
    BuyerAnsweredSolution,
    BuyerConfirmed,
    CarrierChecked,
    CarrierScanned,
    DisputeOpened,
    EtaChanged,
    Event,
    ParcelDelivered,
    ProofOfDelivery,
    ProposeSolution,
    RefusedByPlatform,
    RespondToDispute,
    UploadTracking,
    WithdrawTracking,
)
from domain.lifecycle import advance, decide
from domain.money import Money
from domain.order import pending_deadlines
from domain.states import EventKind, OrderState
from tests.unit.builders import NUMBER, P, U, disputed, new_order, ok, shipped

H = timedelta(hours=1)
D = U + 2 * H  # dispute opened at U+2h
S = OrderState
R = RefusalReason


def scan(at_offset: timedelta, status: str = "in_transit", event_id: str = "s-1") -> CarrierScanned:
    return CarrierScanned(event_id=event_id, at=U + at_offset, status=status, code="PU")


def test_upload_ships_the_order_and_sends_it_to_the_platform_once() -> None:
    decision = decide(new_order(), UploadTracking(carrier="china_post", tracking_number=NUMBER), U)
    assert decision.order.state is S.SHIPPED
    assert decision.commands == (
        SendTrackingUpload(
            idempotency_key="order-aliexpress-42:upload:1",
            order_id="42",
            carrier="china_post",
            tracking_number=NUMBER,
            seller_id="store-1",
        ),
    )
    closes = [d for d in pending_deadlines(decision.order) if d.kind.value == "cancel_window"]
    assert closes[0].at == U + 24 * H


def test_upload_normalises_whitespace_and_case() -> None:
    order = ok(
        decide(
            new_order(), UploadTracking(carrier="china_post", tracking_number=" rr123456785cn "), U
        )
    )
    assert order.shipment is not None
    assert order.shipment.tracking_number == NUMBER


@pytest.mark.parametrize(
    ("carrier", "number", "detail"),
    [
        ("china_post", "RR 123456785CN", "whitespace"),
        ("china_post", "RR123456784CN", "check digit is 4, expected 5"),
        ("yanwen", "UG1234567890", "too short"),
    ],
)
def test_a_malformed_number_is_refused_with_its_reason_and_changes_nothing(
    carrier: str, number: str, detail: str
) -> None:
    order = new_order()
    decision = decide(order, UploadTracking(carrier=carrier, tracking_number=number), U)
    assert decision.refusal is R.INVALID_NUMBER
    assert detail in decision.detail
    assert decision.order == order
    assert decision.commands == ()


def test_withdrawal_one_second_before_the_window_closes_is_allowed() -> None:
    order = shipped()
    decision = decide(order, WithdrawTracking(), U + 24 * H - timedelta(seconds=1))
    assert decision.order.state is S.AWAITING_SHIPMENT
    assert decision.commands == (
        SendWithdrawal(
            idempotency_key="order-aliexpress-42:withdraw:1", order_id="42", tracking_number=NUMBER
        ),
    )
    assert decision.order.shipment is None


def test_withdrawal_when_the_window_closes_is_refused_and_the_order_is_locked_since_then() -> None:
    decision = decide(shipped(), WithdrawTracking(), U + 24 * H)
    assert decision.refusal is R.WINDOW_CLOSED
    assert decision.order.state is S.LOCKED
    assert decision.order.locked_at == U + 24 * H
    assert decision.commands == ()


def test_withdrawal_after_the_first_carrier_scan_is_refused_and_locked_since_the_scan() -> None:
    order = ok(decide(shipped(), scan(3 * H), U + 3 * H + timedelta(minutes=5)))
    assert order.state is S.LOCKED
    assert order.locked_at == U + 3 * H
    decision = decide(order, WithdrawTracking(), U + 4 * H)
    assert decision.refusal is R.CARRIER_SCANNED


def test_info_received_is_not_a_scan_and_leaves_the_window_open() -> None:
    order = ok(decide(shipped(), scan(H, status="info_received"), U + H))
    assert order.state is S.SHIPPED
    assert ok(decide(order, WithdrawTracking(), U + 2 * H)).state is S.AWAITING_SHIPMENT


def test_a_dispute_locks_at_once_and_withdrawal_is_refused_dispute_open() -> None:
    order = disputed(U + 2 * H)
    assert order.state is S.AWAITING_FIRST_RESPONSE
    assert order.locked_at == U + 2 * H
    assert decide(order, WithdrawTracking(), U + 3 * H).refusal is R.DISPUTE_OPEN


def test_an_eta_exactly_five_days_after_upload_locks_at_once() -> None:
    order = shipped(eta=U + timedelta(days=5))
    assert order.state is S.LOCKED
    assert order.locked_at == U
    assert decide(order, WithdrawTracking(), U + H).refusal is R.ETA_TOO_CLOSE


def test_an_eta_five_days_and_a_second_away_leaves_the_window_open() -> None:
    order = shipped(eta=U + timedelta(days=5, seconds=1))
    assert order.state is S.SHIPPED
    assert decide(order, WithdrawTracking(), U + timedelta(seconds=1)).refusal is R.ETA_TOO_CLOSE


def test_the_platform_moving_the_eta_closer_locks_the_order_then() -> None:
    moved = EtaChanged(event_id="eta-1", at=U + 6 * H, eta=U + timedelta(days=4))
    order = ok(decide(shipped(), moved, U + 6 * H))
    assert order.state is S.LOCKED
    assert order.locked_at == U + 6 * H
    assert order.lock_reason is R.ETA_TOO_CLOSE


def test_handling_time_missed_closes_the_order_unfulfilled_exactly_at_72_hours() -> None:
    assert (
        advance(new_order(), P + 72 * H - timedelta(seconds=1)).order.state is S.AWAITING_SHIPMENT
    )
    closed = advance(new_order(), P + 72 * H)
    assert closed.order.state is S.CLOSED_UNFULFILLED
    assert [d.kind.value for d in closed.fired] == ["handling_time"]
    refused = decide(
        new_order(), UploadTracking(carrier="china_post", tracking_number=NUMBER), P + 72 * H
    )
    assert refused.refusal is R.ORDER_ENDED
    assert "the order has ended: closed_unfulfilled" in refused.detail


def test_a_withdrawal_after_the_handling_deadline_gives_24_hours_to_upload_again() -> None:
    late = shipped(at=P + 70 * H)
    withdrawn = ok(decide(late, WithdrawTracking(), P + 93 * H))
    assert withdrawn.handling_due == P + 93 * H + 24 * H
    again = decide(
        withdrawn, UploadTracking(carrier="china_post", tracking_number=NUMBER), P + 116 * H
    )
    assert again.order.state is S.SHIPPED
    assert again.commands[0].idempotency_key == "order-aliexpress-42:upload:2"


def test_a_withdrawal_before_the_handling_deadline_keeps_the_original_deadline() -> None:
    withdrawn = ok(decide(shipped(), WithdrawTracking(), U + H))
    assert withdrawn.handling_due == P + 72 * H


def test_thirty_days_without_delivery_expires_tracking_and_asks_for_action() -> None:
    order = ok(decide(shipped(), scan(3 * H), U + 3 * H))
    assert advance(order, U + timedelta(days=30) - timedelta(seconds=1)).order.state is S.LOCKED
    expired = advance(order, U + timedelta(days=30)).order
    assert expired.state is S.TRACKING_EXPIRED
    assert any("claim or reship" in n for n in expired.notices)


def test_delivery_then_buyer_confirmation_completes_the_order() -> None:
    proof = ProofOfDelivery(signer="front desk", photo_url="https://pod.example/1.jpg")
    order = ok(decide(shipped(), scan(3 * H), U + 3 * H))
    order = ok(
        decide(order, ParcelDelivered(event_id="dl", at=U + 200 * H, proof=proof), U + 200 * H)
    )
    assert order.state is S.DELIVERED
    assert order.proof_of_delivery == proof
    assert (
        ok(decide(order, BuyerConfirmed(event_id="bc", at=U + 210 * H), U + 210 * H)).state
        is S.COMPLETED
    )


def test_no_first_response_in_24_hours_rules_against_the_seller_with_a_full_refund() -> None:
    order = disputed(D)
    assert (
        advance(order, D + 24 * H - timedelta(seconds=1)).order.state is S.AWAITING_FIRST_RESPONSE
    )
    ruled = advance(order, D + 24 * H).order
    assert ruled.state is S.RULED_AGAINST_SELLER
    assert ruled.refund_from_deposit == Money(minor=20_00)
    late = decide(order, RespondToDispute(message="on its way"), D + 24 * H)
    assert late.refusal is R.DEADLINE_PASSED


def test_a_response_one_second_before_the_deadline_is_accepted_and_awaits_a_solution() -> None:
    decision = decide(
        disputed(D), RespondToDispute(message="checking"), D + 24 * H - timedelta(seconds=1)
    )
    assert decision.order.state is S.AWAITING_SOLUTION
    assert decision.commands == (
        SendDisputeResponse(
            idempotency_key="order-aliexpress-42:dispute:D1:response",
            dispute_id="D1",
            message="checking",
        ),
    )
    assert advance(decision.order, D + 48 * H).order.state is S.RULED_AGAINST_SELLER


def test_a_partial_refund_in_time_resolves_the_dispute_when_the_buyer_accepts() -> None:
    order = ok(decide(disputed(D), RespondToDispute(message="sorry"), D + 10 * H))
    solution = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=6_00))
    decision = decide(order, ProposeSolution(solution=solution), D + 30 * H)
    assert decision.order.state is S.SOLUTION_OFFERED
    assert decision.commands == (
        SendSolution(
            idempotency_key="order-aliexpress-42:dispute:D1:solution:1",
            dispute_id="D1",
            solution=solution,
        ),
    )
    accepted = BuyerAnsweredSolution(
        event_id="ba", at=D + 31 * H, kind=EventKind.BUYER_ACCEPTED_SOLUTION
    )
    resolved = ok(decide(decision.order, accepted, D + 31 * H))
    assert resolved.state is S.DISPUTE_RESOLVED
    assert advance(resolved, D + 100 * H).order.state is S.DISPUTE_RESOLVED


@pytest.mark.parametrize("minor", [0, 20_01])
def test_a_partial_refund_of_nothing_or_above_the_total_is_refused(minor: int) -> None:
    solution = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=minor))
    decision = decide(disputed(D), ProposeSolution(solution=solution), D + H)
    assert decision.refusal is R.INVALID_AMOUNT
    assert decision.commands == ()


def test_the_platforms_earlier_response_deadline_wins() -> None:
    order = disputed(D, platform_response_deadline=D + 20 * H)
    assert order.dispute is not None
    assert order.dispute.response_due == D + 20 * H
    assert advance(order, D + 20 * H).order.state is S.RULED_AGAINST_SELLER


def test_reminders_fire_at_half_and_ninety_percent_of_the_response_window_once_each() -> None:
    order = disputed(D)
    at_half = advance(order, D + 12 * H)
    assert [d.label for d in at_half.fired] == ["50% of the first response window gone"]
    at_ninety = advance(at_half.order, D + timedelta(hours=21, minutes=36))
    assert [d.label for d in at_ninety.fired] == ["90% of the first response window gone"]
    assert advance(at_ninety.order, D + 22 * H).fired == ()


def test_a_redelivered_scan_changes_nothing_and_a_late_scan_is_placed_by_its_time() -> None:
    order = ok(decide(shipped(), scan(3 * H, event_id="a"), U + 3 * H))
    again = decide(order, scan(3 * H, event_id="a"), U + 4 * H)
    assert again.duplicate
    assert again.order.timeline == order.timeline
    delivered = ok(decide(order, ParcelDelivered(event_id="dl", at=U + 90 * H), U + 90 * H))
    late = ok(decide(delivered, scan(50 * H, event_id="late"), U + 91 * H))
    assert late.state is S.DELIVERED
    kinds = [e.event_id for e in late.timeline if e.source == "carrier"]
    assert kinds == ["a", "late", "dl"]


def test_a_platform_refusal_of_a_withdrawal_is_final_and_answered_without_the_platform() -> None:
    withdrawn = ok(decide(shipped(), WithdrawTracking(), U + 4 * H))
    refusal = RefusedByPlatform(
        event_id="pr",
        at=U + 4 * H,
        kind=EventKind.PLATFORM_REFUSED_WITHDRAWAL,
        code="carrier_scanned",
    )
    locked = ok(decide(withdrawn, refusal, U + 4 * H))
    assert locked.state is S.LOCKED
    assert locked.shipment is not None
    assert locked.shipment.tracking_number == NUMBER
    for _ in range(2):
        again = decide(locked, WithdrawTracking(), U + 5 * H)
        assert again.refusal is R.CARRIER_SCANNED
        assert again.commands == ()


def test_a_marketplace_without_withdrawal_points_to_the_carrier_void() -> None:
    decision = decide(shipped(platform_supports_withdrawal=False), WithdrawTracking(), U + H)
    assert decision.refusal is R.WITHDRAWAL_UNSUPPORTED
    assert "void" in decision.detail


REFUSED_IN_WRONG_STATE: list[tuple[str, Event]] = [
    ("withdraw before shipping", WithdrawTracking()),
    ("respond without a dispute", RespondToDispute(message="hi")),
    ("solve without a dispute", ProposeSolution(solution=Solution(kind=SolutionKind.FULL_REFUND))),
]


@pytest.mark.parametrize(("name", "event"), REFUSED_IN_WRONG_STATE)
def test_seller_commands_in_the_wrong_state_are_refused_wrong_state(
    name: str, event: Event
) -> None:
    order = new_order()
    decision = decide(order, event, U)
    assert decision.refusal is R.WRONG_STATE, name
    assert decision.order == order


def test_a_silent_carrier_after_four_hours_asks_the_carrier_and_warns_without_locking() -> None:
    order = shipped()
    order.checks_carrier = True
    assert advance(order, U + 4 * H - timedelta(seconds=1)).commands == ()
    asked = advance(order, U + 4 * H)
    assert asked.commands == (
        CheckCarrier(
            idempotency_key="order-aliexpress-42:carrier_check:1",
            carrier="china_post",
            tracking_number=NUMBER,
        ),
    )
    assert advance(asked.order, U + 5 * H).commands == ()
    unknown = CarrierChecked(event_id="cc-1", at=U + 4 * H, known=False)
    warned = ok(decide(asked.order, unknown, U + 4 * H))
    assert warned.state is S.SHIPPED
    assert any("carrier does not know this number yet" in n for n in warned.notices)
    assert decide(warned, WithdrawTracking(), U + 5 * H).refusal is None


def test_a_carrier_that_reported_info_received_is_not_asked_again() -> None:
    order = shipped()
    order.checks_carrier = True
    order = ok(decide(order, scan(H, status="info_received"), U + H))
    assert advance(order, U + 5 * H).commands == ()


def test_a_customs_hold_over_48_hours_raises_an_alert_once() -> None:
    order = ok(decide(shipped(), scan(3 * H, event_id="pu"), U + 3 * H))
    order = ok(decide(order, scan(timedelta(days=3), status="customs", event_id="cu"), U + 72 * H))
    quiet = advance(order, U + timedelta(days=5) - timedelta(seconds=1)).order
    assert not any("customs" in n for n in quiet.notices)
    alerted = advance(order, U + timedelta(days=5, minutes=1)).order
    assert [n for n in alerted.notices if "customs" in n] == [
        f"{(U + timedelta(days=5)).isoformat()} alert: held in customs since "
        f"{(U + timedelta(days=3)).isoformat()}"
    ]
    assert advance(alerted, U + timedelta(days=6)).order.notices == alerted.notices


def test_a_customs_release_before_48_hours_raises_no_alert() -> None:
    order = ok(
        decide(shipped(), scan(timedelta(days=3), status="customs", event_id="cu"), U + 72 * H)
    )
    order = ok(
        decide(order, scan(timedelta(days=4), status="in_transit", event_id="out"), U + 96 * H)
    )
    assert not any("customs" in n for n in advance(order, U + timedelta(days=9)).order.notices)


@pytest.mark.parametrize("order_id", ["abc\n", "a b", "", "x" * 65, "../etc"])
def test_an_order_id_that_could_smuggle_characters_into_a_workflow_id_is_refused(
    order_id: str,
) -> None:
    from domain.order import workflow_id_for  # noqa: PLC0415 - the one function under test

    with pytest.raises(ValueError, match="order_id"):
        workflow_id_for("aliexpress", order_id)


def test_a_not_received_dispute_on_a_parcel_delivered_with_proof_answers_with_that_proof() -> None:
    proof = ProofOfDelivery(signer="Li Wei", photo_url="https://pod.example/42.jpg")
    order = ok(decide(shipped(), scan(3 * H), U + 3 * H))
    order = ok(
        decide(order, ParcelDelivered(event_id="dl", at=U + 200 * H, proof=proof), U + 200 * H)
    )
    opened = DisputeOpened(event_id="d", at=U + 210 * H, dispute_id="D9")
    order = ok(decide(order, opened, U + 210 * H))
    assert order.dispute is not None
    assert order.dispute.proof_of_delivery == proof
    answer = decide(order, RespondToDispute(message="It was delivered."), U + 211 * H)
    (command,) = answer.commands
    assert isinstance(command, SendDisputeResponse)
    assert command.message == (
        "It was delivered.\n\nCarrier proof of delivery: signed by Li Wei, "
        "https://pod.example/42.jpg"
    )


def test_a_dispute_on_an_undelivered_parcel_carries_no_proof() -> None:
    order = disputed(D)
    answer = decide(order, RespondToDispute(message="On its way."), D + H)
    (command,) = answer.commands
    assert isinstance(command, SendDisputeResponse)
    assert command.message == "On its way."


def test_a_high_value_order_without_its_packing_video_two_hours_after_shipping_is_warned() -> None:
    order = shipped(total=Money(minor=80_00))
    assert any("high-value order" in n for n in order.notices)
    quiet = advance(order, U + 2 * H - timedelta(seconds=1)).order
    assert not any("packing-video still (R13)" in n for n in quiet.notices)
    warned = advance(order, U + 2 * H).order
    assert any("without its packing-video still" in n for n in warned.notices)


def test_a_packing_video_attached_in_time_silences_the_warning() -> None:
    from domain.events import AttachPackingVideo  # noqa: PLC0415

    order = shipped(total=Money(minor=80_00))
    order = ok(decide(order, AttachPackingVideo(reference="video/42.mp4#t=3"), U + H))
    assert not any(
        "without its packing-video" in n for n in advance(order, U + 5 * H).order.notices
    )


def test_an_order_of_fifty_dollars_exactly_is_not_high_value() -> None:
    order = shipped(total=Money(minor=50_00))
    assert not any("high-value" in n for n in advance(order, U + 5 * H).order.notices)


@pytest.mark.parametrize(
    ("kind", "state", "refund"),
    [
        (EventKind.DISPUTE_WITHDRAWN, S.DISPUTE_RESOLVED, None),
        (EventKind.ARBITRATION_FOR_SELLER, S.DISPUTE_RESOLVED, None),
        (EventKind.ARBITRATION_AGAINST_SELLER, S.RULED_AGAINST_SELLER, Money(minor=20_00)),
    ],
)
def test_a_dispute_ends_when_the_buyer_withdraws_it_or_the_platform_arbitrates(
    kind: EventKind, state: OrderState, refund: Money | None
) -> None:
    from domain.events import DisputeClosed  # noqa: PLC0415

    order = ok(decide(disputed(D), RespondToDispute(message="sorry"), D + H))
    closed = ok(
        decide(
            order, DisputeClosed(event_id="c", at=D + 5 * H, kind=kind, dispute_id="D1"), D + 5 * H
        )
    )
    assert closed.state is state
    assert closed.refund_from_deposit == refund
    assert advance(closed, D + 100 * H).order.state is state


def test_a_reship_messages_the_buyer_follows_the_new_parcel_and_claims_the_lost_one() -> None:
    from domain.commands import MessageBuyer, OpenCarrierClaim, StartReship  # noqa: PLC0415

    order = ok(decide(disputed(D), RespondToDispute(message="Lost, sorry."), D + H))
    reship = Solution(
        kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=" ug123456789yw "
    )
    decision = decide(order, ProposeSolution(solution=reship), D + 2 * H)
    kinds = [type(c) for c in decision.commands]
    assert kinds == [SendSolution, MessageBuyer, StartReship, OpenCarrierClaim]
    message, start, claim = decision.commands[1:]
    assert isinstance(message, MessageBuyer)
    assert "UG123456789YW" in message.text
    assert isinstance(start, StartReship)
    assert (start.carrier, start.tracking_number) == ("yanwen", "UG123456789YW")
    assert isinstance(claim, OpenCarrierClaim)
    assert (claim.tracking_number, claim.declared_value) == (NUMBER, Money(minor=20_00))
    assert decision.order.shipment is not None
    assert decision.order.shipment.tracking_number == NUMBER  # the original is kept
    assert [s.tracking_number for s in decision.order.reships] == ["UG123456789YW"]


def test_a_reship_with_a_malformed_number_is_refused_and_sends_nothing() -> None:
    reship = Solution(
        kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number="UG1"
    )
    decision = decide(disputed(D), ProposeSolution(solution=reship), D + H)
    assert decision.refusal is R.INVALID_NUMBER
    assert decision.commands == ()


def test_the_same_dispute_reported_twice_by_webhook_and_by_polling_is_one_dispute() -> None:
    opened = U + timedelta(hours=5)
    order = disputed(opened)
    again = DisputeOpened(event_id="platform-dispute-opened:D1", at=opened, dispute_id="D1")
    later = ok(decide(order, again, opened + timedelta(minutes=10)))
    assert later.dispute == order.dispute
    assert [e.kind for e in later.timeline].count("dispute_opened") == 1
    assert later.notices == order.notices
