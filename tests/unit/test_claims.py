"""Carrier claims (R17), rule by rule, at the exact boundaries of the claim policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.claims import (
    CarrierAnswer,
    CheckClaim,
    Claim,
    ClaimDecision,
    ClaimEvent,
    ClaimFacts,
    ClaimRefusal,
    ClaimState,
    DeadlineReached,
    FileClaim,
    FiledByApi,
    FiledManually,
    FilingRoute,
    StatusReported,
    advance,
    decide,
    open_claim,
    pending_deadlines,
)
from domain.money import Money

L = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""When the carrier confirmed the loss (and the claim opened)."""
H, DAY = timedelta(hours=1), timedelta(days=1)
WID = "claim-yanwen-UG123456789CN"
S = ClaimState
PAID = CarrierAnswer(status="paid", amount=Money(minor=18_00))
PENDING = CarrierAnswer(status="pending")


def facts(**kw: object) -> ClaimFacts:
    base: dict[str, object] = {
        "order_workflow_id": "order-aliexpress-42",
        "carrier": "yanwen",
        "tracking_number": "UG123456789CN",
        "proof": "doc://loss-proof/1",
        "declared_value": Money(minor=20_00),
        "loss_confirmed_at": L,
    }
    return ClaimFacts.model_validate(base | kw)


def ok(decision: ClaimDecision) -> Claim:
    assert decision.refusal is None, decision.detail
    return decision.claim


def opened(**kw: object) -> Claim:
    return ok(open_claim(facts(**kw), WID, L))


def filed(at: datetime = L) -> Claim:
    """Filed by API at ``at``."""
    claim = ok(decide(opened(), FilingRoute(by_api=True), L))
    return ok(decide(claim, FiledByApi(claim_ref="YW-1"), at))


def day_by_day(claim: Claim, until: datetime) -> tuple[Claim, int]:
    """Advance hour by hour (as a workflow waking on each timer): the claim, the checks asked."""
    asked, at = 0, L
    while at < until:
        at = min(at + H, until)
        decision = advance(claim, at)
        claim, asked = decision.claim, asked + len(decision.commands)
    return claim, asked


def manual() -> Claim:
    """No claims API: waiting for the operator since L."""
    return ok(decide(opened(), FilingRoute(by_api=False), L))


def test_a_carrier_with_an_api_is_asked_to_file_once_with_a_deterministic_key() -> None:
    decision = decide(opened(), FilingRoute(by_api=True), L)
    assert decision.commands == (
        FileClaim(
            idempotency_key=f"{WID}:file",
            carrier="yanwen",
            tracking_number="UG123456789CN",
            proof="doc://loss-proof/1",
            declared_value=Money(minor=20_00),
        ),
    )
    assert decision.claim.state is S.TO_FILE


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"proof": " "}, ClaimRefusal.MISSING_PROOF),
        ({"declared_value": Money(minor=0)}, ClaimRefusal.INVALID_AMOUNT),
    ],
)
def test_a_claim_without_proof_or_value_is_refused(kw: dict[str, object], reason: str) -> None:
    assert open_claim(facts(**kw), WID, L).refusal == reason


@pytest.mark.parametrize(
    ("claim", "event"),
    [
        (filed(), FiledByApi(claim_ref="again")),
        (filed(), FiledManually(reference="again")),
        (filed(), FilingRoute(by_api=True)),
        (opened(), FiledManually(reference="too-early")),
        (opened(), StatusReported(answer=PAID)),
        (manual(), FiledByApi(claim_ref="no-api")),
    ],
)
def test_an_event_out_of_its_state_is_refused_and_changes_nothing(
    claim: Claim, event: ClaimEvent
) -> None:
    decision = decide(claim, event, L + H)
    assert (decision.refusal, decision.claim.state) == (ClaimRefusal.WRONG_STATE, claim.state)


@pytest.mark.parametrize(
    "amount", [None, Money(minor=0), Money(minor=18_00, currency="EUR")], ids=str
)
def test_a_payment_without_a_valid_amount_is_refused(amount: Money | None) -> None:
    answer = CarrierAnswer(status="paid", amount=amount)
    decision = decide(filed(), StatusReported(answer=answer), L + DAY)
    assert (decision.refusal, decision.claim.state) == (ClaimRefusal.INVALID_AMOUNT, S.FILED)


def test_a_payment_closes_the_claim_paid_with_its_amount() -> None:
    claim = ok(decide(filed(), StatusReported(answer=PAID), L + 3 * DAY))
    assert (claim.state, claim.paid_amount, claim.closed_at) == (S.PAID, PAID.amount, L + 3 * DAY)


def test_a_rejection_closes_the_claim_rejected_with_its_reason() -> None:
    answer = CarrierAnswer(status="rejected", reason="insufficient packaging")
    claim = ok(decide(filed(), StatusReported(answer=answer), L + 3 * DAY))
    assert (claim.state, claim.outcome) == (S.REJECTED, "insufficient packaging")


def test_a_pending_answer_keeps_following_up() -> None:
    claim = ok(decide(filed(), StatusReported(answer=PENDING), L + 3 * DAY))
    assert claim.state is S.FILED


def test_a_pushed_answer_about_the_claims_own_reference_closes_it_like_a_polled_one() -> None:
    claim = ok(decide(filed(), StatusReported(answer=PAID, claim_ref="YW-1"), L + DAY))
    assert (claim.state, claim.paid_amount, claim.checks) == (S.PAID, PAID.amount, 0)


def test_a_pushed_answer_about_another_claim_is_refused_and_changes_nothing() -> None:
    decision = decide(filed(), StatusReported(answer=PAID, claim_ref="YW-2"), L + DAY)
    assert (decision.refusal, decision.claim.state) == (ClaimRefusal.OTHER_CLAIM, S.FILED)


@pytest.mark.parametrize(
    ("at", "checks"),
    [(3 * DAY - timedelta(seconds=1), 0), (3 * DAY, 1), (6 * DAY, 2), (29 * DAY, 9)],
)
def test_follow_ups_come_every_three_days_after_filing(at: timedelta, checks: int) -> None:
    claim, asked = day_by_day(filed(), L + at)
    assert (claim.checks, asked) == (checks, checks)


def test_a_late_wake_asks_once_and_keeps_the_three_day_grid() -> None:
    decision = advance(filed(), L + 7 * DAY)
    assert decision.commands == (CheckClaim(carrier="yanwen", claim_ref="YW-1"),)
    assert decision.claim.next_check_at == L + 9 * DAY


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-timedelta(seconds=1), S.FILED), (timedelta(0), S.EXPIRED)],
)
def test_a_claim_without_an_answer_expires_exactly_30_days_after_filing(
    offset: timedelta, state: ClaimState
) -> None:
    claim, _ = day_by_day(filed(at=L + H), L + H + 30 * DAY + offset)
    claim = decide(claim, DeadlineReached(), L + H + 30 * DAY + offset).claim
    assert claim.state is state
    assert claim.checks == 9  # day 30's follow-up is the expiry itself
    if state is S.EXPIRED:
        assert claim.closed_at == L + H + 30 * DAY


def test_an_answer_after_the_expiry_is_refused() -> None:
    decision = decide(filed(), StatusReported(answer=PAID), L + 30 * DAY)
    assert (decision.refusal, decision.claim.state) == (ClaimRefusal.WRONG_STATE, S.EXPIRED)


@pytest.mark.parametrize(
    ("at", "reminders"),
    [
        (24 * H - timedelta(seconds=1), 1),
        (24 * H, 2),
        (43 * H + 12 * timedelta(minutes=1) - timedelta(seconds=1), 2),
        (43 * H + 12 * timedelta(minutes=1), 3),
        (48 * H, 4),
    ],
)
def test_the_operator_is_reminded_at_50_and_90_percent_of_48_hours(
    at: timedelta, reminders: int
) -> None:
    claim = advance(manual(), L + at).claim
    assert claim.state is S.AWAITING_MANUAL_FILING
    assert len(claim.reminders) == reminders  # the first says why: no claims API
    assert claim.reminders[0].endswith("file by hand: no API")


def test_an_operator_filing_starts_the_follow_ups_from_its_own_time() -> None:
    claim = ok(decide(manual(), FiledManually(reference="YW-M-7"), L + 30 * H))
    assert (claim.state, claim.claim_ref, claim.filed_by) == (S.FILED, "YW-M-7", "operator")
    assert [d.key for d in pending_deadlines(claim)] == ["check:1", "answer_due"]
    assert pending_deadlines(claim)[0].at == L + 30 * H + 3 * DAY


def test_a_failed_api_filing_falls_back_to_the_operator() -> None:
    claim = ok(decide(opened(), FilingRoute(by_api=True), L))
    claim = ok(decide(claim, FilingRoute(by_api=False, detail="carrier said 400"), L + H))
    assert (claim.state, claim.manual_since) == (S.AWAITING_MANUAL_FILING, L + H)


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-timedelta(seconds=1), S.AWAITING_MANUAL_FILING), (timedelta(0), S.EXPIRED)],
)
def test_a_claim_not_filed_within_30_days_of_the_loss_expires(
    offset: timedelta, state: ClaimState
) -> None:
    assert advance(manual(), L + 30 * DAY + offset).claim.state is state


def test_deadlines_fire_once_each() -> None:
    once = advance(filed(), L + 3 * DAY)
    again = advance(once.claim, L + 3 * DAY)
    assert (len(once.commands), again.commands) == (1, ())
