"""A marketplace write with a deadline is retried often enough to land before it."""

from __future__ import annotations

from datetime import timedelta

from domain.commands import SendDisputeResponse, SendSolution, SendTrackingUpload
from domain.disputes import Solution, SolutionKind
from domain.events import DisputeOpened
from domain.lifecycle import decide
from tests.unit.builders import NUMBER, U, ok, shipped
from workflows.order_calls import PLATFORM_RETRY, platform_due, platform_retry

H = timedelta(hours=1)


def test_a_call_due_in_a_day_backs_off_up_to_five_minutes() -> None:
    assert platform_retry(U + 24 * H, U).maximum_interval == timedelta(minutes=5)


def test_a_call_due_in_a_minute_is_tried_again_at_least_every_six_seconds() -> None:
    policy = platform_retry(U + timedelta(seconds=60), U)
    assert policy.maximum_interval == timedelta(seconds=6)
    assert policy.initial_interval == PLATFORM_RETRY.initial_interval
    assert policy.non_retryable_error_types == PLATFORM_RETRY.non_retryable_error_types


def test_a_call_past_its_deadline_backs_off_as_any_other() -> None:
    assert platform_retry(U - H, U) == PLATFORM_RETRY
    assert platform_retry(U, U) == PLATFORM_RETRY


def test_a_call_due_in_seconds_waits_at_least_a_second_between_tries() -> None:
    assert platform_retry(U + timedelta(seconds=3), U).maximum_interval == timedelta(seconds=1)


def test_a_call_without_a_deadline_keeps_the_plain_policy() -> None:
    assert platform_retry(None, U) == PLATFORM_RETRY


def test_each_write_is_due_by_the_platform_deadline_it_must_beat() -> None:
    order = shipped()
    upload = SendTrackingUpload(
        idempotency_key="k", order_id="42", carrier="china_post", tracking_number=NUMBER
    )
    assert platform_due(order, upload) == order.handling_due
    disputed = ok(decide(order, DisputeOpened(event_id="d", at=U + H, dispute_id="D1"), U + H))
    assert disputed.dispute is not None
    answer = SendDisputeResponse(idempotency_key="k", dispute_id="D1", message="on its way")
    assert platform_due(disputed, answer) == disputed.dispute.response_due
    solution = SendSolution(
        idempotency_key="k", dispute_id="D1", solution=Solution(kind=SolutionKind.FULL_REFUND)
    )
    assert platform_due(disputed, solution) == disputed.dispute.solution_due
