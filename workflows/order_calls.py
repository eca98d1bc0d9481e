"""The order workflow's activity calls: one function per side effect, with its options."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.carrier import CarrierActivities, CarrierParcel
    from activities.errors import NON_RETRYABLE
    from activities.health import HealthActivities
    from activities.numbers import NumberActivities, NumberClaim
    from activities.platform import PlatformActivities
    from domain.commands import (
        CheckCarrier,
        Command,
        MessageBuyer,
        OpenCarrierClaim,
        SendDisputeResponse,
        SendSolution,
        SendTrackingUpload,
        SendWithdrawal,
        StartReship,
    )
    from domain.order import Order, Shipment
    from domain.polling import TrackedFact
    from workflows.store_health import HealthRecord, record_key

PLATFORM_MAX_WAIT = timedelta(minutes=5)
PLATFORM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=PLATFORM_MAX_WAIT,
    non_retryable_error_types=NON_RETRYABLE,
)
PLATFORM_CALL = timedelta(seconds=30)
TEMPORAL_CALL = timedelta(seconds=10)
TEMPORAL_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=2),
    non_retryable_error_types=NON_RETRYABLE,
)
"""A local call to our own Temporal cluster holds the order's workflow task while it retries:
it retries at least every 2 s, so that once the cluster is back the order moves within
seconds (a back-off grown during an outage would keep its clocks and commands waiting)."""
T = TypeVar("T")
LOCAL_CALLS_PATCH = "local-calls"
PLATFORM_HEARTBEAT = timedelta(seconds=10)
"""A platform call heartbeats every 2 s: a worker that dies mid-call is noticed in 10 s (and the
retry, on a live worker, reads back before writing) instead of at the 30 s timeout."""
CARRIER_CALL = timedelta(seconds=30)
CARRIER_ASK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=4),
    maximum_attempts=3,
    non_retryable_error_types=NON_RETRYABLE,
)
"""A seller waits on the answer: a few quick tries, then the withdrawal goes ahead (R8)."""
CARRIER_ASK = timedelta(seconds=15)
"""The longest a withdrawal waits on the carrier's answer, every try included: a stalled
tracking service must not keep the seller waiting until the cancel window closes."""


def platform_retry(due: datetime | None, now: datetime) -> RetryPolicy:
    """``PLATFORM_RETRY``, its longest wait cut to a tenth of the time left before ``due``, the
    platform's deadline the call must beat (at least a second): a dispute answer due in 24 h
    is tried again at least every 5 minutes, one due in a minute every 6 seconds, so that a
    back-off grown through an outage never outlasts the deadline; a call already past it
    backs off as any other."""
    if due is None or due <= now:  # past it, nothing is won by hurrying: no hammering (R5)
        return PLATFORM_RETRY
    longest = min(max((due - now) / 10, PLATFORM_RETRY.initial_interval), PLATFORM_MAX_WAIT)
    return dataclasses.replace(PLATFORM_RETRY, maximum_interval=longest)


def platform_due(order: Order, command: Command) -> datetime | None:
    """The platform's deadline ``command`` must land before: the dispute's answer and solution
    deadlines (R14), the handling time for an upload (R3a), the cancel window for a withdrawal
    (R4); None for the rest."""
    dispute, shipment = order.dispute, order.shipment
    match command:
        case SendDisputeResponse() if dispute is not None:
            return dispute.response_due
        case SendSolution() if dispute is not None:
            return dispute.solution_due
        case SendTrackingUpload():
            return order.handling_due
        case SendWithdrawal() if shipment is not None:
            return shipment.uploaded_at + order.policy.cancel_window
    return None


async def platform_call(command: Command, due: datetime | None = None) -> None:
    """Run one marketplace write, retried so as to land before ``due``; its idempotency key
    names the activity in the UI."""
    options: dict[str, Any] = {
        "start_to_close_timeout": PLATFORM_CALL,
        "heartbeat_timeout": PLATFORM_HEARTBEAT,
        "retry_policy": platform_retry(due, workflow.now()),
        "summary": command.idempotency_key,
    }
    match command:
        case SendTrackingUpload():
            await workflow.execute_activity_method(
                PlatformActivities.upload_tracking, command, **options
            )
        case SendWithdrawal():
            await workflow.execute_activity_method(
                PlatformActivities.withdraw_tracking, command, **options
            )
        case SendDisputeResponse():
            await workflow.execute_activity_method(
                PlatformActivities.answer_dispute, command, **options
            )
        case SendSolution():
            await workflow.execute_activity_method(
                PlatformActivities.propose_solution, command, **options
            )
        case MessageBuyer():
            await workflow.execute_activity_method(
                PlatformActivities.message_buyer, command, **options
            )
        case CheckCarrier() | StartReship() | OpenCarrierClaim():
            msg = f"{command.kind} is not a platform call"
            raise AssertionError(msg)


async def carrier_knows(check: CheckCarrier, *, bounded: bool = False) -> bool | None:
    """R8: whether the carrier knows the number (None when it could not be asked; ``bounded``:
    given up after the retries of ``CARRIER_CHECK_RETRY``, so that an order never waits on an
    outage of the tracking service for long)."""
    try:
        known: bool = await workflow.execute_activity_method(
            CarrierActivities.check,
            check,
            start_to_close_timeout=CARRIER_CALL,
            retry_policy=CARRIER_CHECK_RETRY if bounded else PLATFORM_RETRY,
            summary=check.idempotency_key,
        )
    except ActivityError as failure:
        workflow.logger.warning("carrier check failed: %s", failure.cause)
        return None
    return known


async def claim_number(claim: NumberClaim) -> None:
    """R2: claim the number for the order, or fail with ``duplicate`` naming the holder."""
    try:
        await _temporal_call(NumberActivities.claim, claim)
    except ActivityError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError) and cause.type == "duplicate":
            raise ApplicationError(
                cause.message, *cause.details, type="duplicate", non_retryable=True
            ) from failure
        raise


async def release_number(claim: NumberClaim) -> None:
    """Release the order's claim on a number (withdrawn, refused), or retire it (order ended)."""
    await _temporal_call(NumberActivities.release, claim)


def number_claim(carrier: str, number: str, holder: str) -> NumberClaim:
    """``holder``'s claim on ``number``, made at the workflow's own time."""
    return NumberClaim(carrier=carrier, number=number, holder=holder, at=workflow.now())


async def carrier_scans(shipment: Shipment) -> list[TrackedFact]:
    """R8: the scans the carrier has for the parcel right now ([] when none, when no tracking
    service is configured, or when it cannot be asked: the withdrawal then goes ahead, and the
    platform still refuses a number the carrier has scanned)."""
    try:
        facts: list[TrackedFact] = await workflow.execute_activity_method(
            CarrierActivities.scans,
            _parcel(shipment),
            start_to_close_timeout=CARRIER_ASK * 2 / 3,
            schedule_to_close_timeout=CARRIER_ASK,
            retry_policy=CARRIER_ASK_RETRY,
            summary=f"scans of {shipment.tracking_number} before withdrawing",
        )
    except ActivityError as failure:
        workflow.logger.warning("the carrier could not be asked: %s", failure.cause)
        return []
    return facts


def _parcel(shipment: Shipment) -> CarrierParcel:
    return CarrierParcel(carrier=shipment.carrier, tracking_number=shipment.tracking_number)


CARRIER_CHECK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=12,
    non_retryable_error_types=NON_RETRYABLE,
)
"""The R8 check tries for about half an hour; a carrier that cannot be asked is no warning."""
STOP_TRACKING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=8,
    non_retryable_error_types=NON_RETRYABLE,
)
"""Stopping a number's tracking is housekeeping: tried for a few minutes, then given up (the
poller never polls a withdrawn number anyway)."""


FOLLOW_RETRY = CARRIER_CHECK_RETRY
"""Registering a number is tried for about half an hour too; given up, the poller registers it."""


def follow_tracking(shipment: Shipment) -> Awaitable[None]:
    """Register a number just uploaded with the tracking service, tagged with this order's
    workflow id (17TRACK echoes the tag in its pushes, from the first scan on). Started, not
    awaited, like ``stop_tracking``."""
    return _aside(
        CarrierActivities.follow,
        shipment,
        FOLLOW_RETRY,
        f"follow {shipment.tracking_number}",
        "not registered for pushes",
    )


def stop_tracking(shipment: Shipment) -> Awaitable[None]:
    """R10: stop following a number the order no longer carries (17TRACK ``stoptrack``).

    Started, not awaited: the order's clocks never wait on the tracking service; the order
    awaits what it started before it ends or continues as new."""
    return _aside(
        CarrierActivities.stop,
        shipment,
        STOP_TRACKING_RETRY,
        f"stop tracking {shipment.tracking_number}",
        "tracking not stopped",
    )


def _aside(
    call: Callable[[CarrierActivities, CarrierParcel], Awaitable[None]],
    shipment: Shipment,
    retry: RetryPolicy,
    summary: str,
    failed: str,
) -> Awaitable[None]:
    started = workflow.start_activity_method(
        call,
        _parcel(shipment),
        start_to_close_timeout=CARRIER_CALL,
        retry_policy=retry,
        summary=summary,
    )

    async def done() -> None:
        try:
            await started
        except ActivityError as failure:
            workflow.logger.warning("%s: %s (%s)", shipment.tracking_number, failed, failure)

    return asyncio.ensure_future(done())


async def report_health(record: HealthRecord) -> None:
    """R7/R18: hand a record to the store's health workflow (it de-duplicates them)."""
    try:
        await _temporal_call(HealthActivities.record, record, summary=record_key(record))
    except ActivityError as failure:
        workflow.logger.warning("health record %s lost: %s", record_key(record), failure)


async def _temporal_call(
    method: Callable[[Any, T], Awaitable[None]], arg: T, summary: str | None = None
) -> None:
    """A short call to Temporal itself (claim or release a number, hand over a health record).

    Since ``local-calls`` it runs as a local activity: in the worker, inside the workflow task,
    without a round trip through the server's activity queue. Histories from before keep
    their regular activity.
    """
    if workflow.patched(LOCAL_CALLS_PATCH):
        await workflow.execute_local_activity_method(
            method, arg, start_to_close_timeout=TEMPORAL_CALL, retry_policy=TEMPORAL_RETRY
        )
        return
    await workflow.execute_activity_method(
        method,
        arg,
        start_to_close_timeout=PLATFORM_CALL,
        retry_policy=PLATFORM_RETRY,
        summary=summary,
    )
