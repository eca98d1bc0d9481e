"""Number claims (R2) on the real server: a dormant hold per number, released by its holder only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.numbers import NumberActivities, NumberClaim
from tests.numbers import fresh_s10
from workflows.number_hold import NumberHoldWorkflow, hold_id, legacy_hold_id

pytestmark = pytest.mark.temporal


def claim_by(holder: str, number: str) -> NumberClaim:
    return NumberClaim(carrier="china_post", number=number, holder=holder)


async def test_a_claim_is_a_dormant_record_no_worker_ever_runs(env: WorkflowEnvironment) -> None:
    numbers = NumberActivities(env.client, f"holds-{uuid.uuid4().hex[:6]}")  # nobody polls it
    claim = claim_by("order-aliexpress-1", fresh_s10())
    await ActivityEnvironment().run(numbers.claim, claim)
    handle = env.client.get_workflow_handle(hold_id(claim.number))
    assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
    events = [event.event_type for event in (await handle.fetch_history()).events]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED not in events
    await ActivityEnvironment().run(numbers.release, claim)
    described = await handle.describe()
    assert described.status is WorkflowExecutionStatus.TERMINATED


async def test_only_the_holder_releases_and_then_the_number_is_free_again(
    env: WorkflowEnvironment,
) -> None:
    numbers = NumberActivities(env.client, f"holds-{uuid.uuid4().hex[:6]}")
    number = fresh_s10()
    first, second = claim_by("order-aliexpress-1", number), claim_by("order-aliexpress-2", number)
    run = ActivityEnvironment().run
    await run(numbers.claim, first)
    await run(numbers.claim, first)  # a retry of our own claim finds it ours
    with pytest.raises(ApplicationError) as refused:
        await run(numbers.claim, second)
    assert refused.value.type == "duplicate"
    assert "order-aliexpress-1" in refused.value.message

    await run(numbers.release, second)  # not its claim: nothing happens
    with pytest.raises(ApplicationError):
        await run(numbers.claim, second)

    await run(numbers.release, first)
    await run(numbers.release, first)  # released twice: the second finds nothing to release
    await run(numbers.claim, second)
    await run(numbers.release, first)  # a late release of the first claim leaves the second
    with pytest.raises(ApplicationError) as again:
        await run(numbers.claim, first)
    assert "order-aliexpress-2" in again.value.message


async def test_releasing_a_number_never_claimed_is_a_no_op(env: WorkflowEnvironment) -> None:
    numbers = NumberActivities(env.client, "holds")
    await ActivityEnvironment().run(numbers.release, claim_by("order-aliexpress-9", fresh_s10()))


async def test_a_number_is_held_once_whatever_the_carrier_it_is_uploaded_under(
    env: WorkflowEnvironment,
) -> None:
    numbers = NumberActivities(env.client, f"holds-{uuid.uuid4().hex[:6]}")
    number = fresh_s10()
    run = ActivityEnvironment().run
    await run(numbers.claim, claim_by("order-aliexpress-a", number))
    for carrier in ("cainiao", "yanwen", "china_post"):
        other = NumberClaim(carrier=carrier, number=number.lower(), holder="order-aliexpress-b")
        with pytest.raises(ApplicationError) as refused:
            await run(numbers.claim, other)
        assert refused.value.type == "duplicate"
        assert "order-aliexpress-a" in refused.value.message


async def test_an_ended_orders_number_stays_a_duplicate_for_the_reuse_period_then_is_free(
    env: WorkflowEnvironment,
) -> None:
    numbers = NumberActivities(env.client, f"holds-{uuid.uuid4().hex[:6]}")
    number = fresh_s10()
    ended = datetime(2026, 6, 1, 12, tzinfo=UTC)
    keep_until = ended + timedelta(days=180)
    first = claim_by("order-aliexpress-a", number).model_copy(update={"at": ended})
    run = ActivityEnvironment().run
    await run(numbers.claim, first)
    await run(numbers.release, first.model_copy(update={"keep_until": keep_until}))
    retired = await env.client.get_workflow_handle(hold_id(number)).describe()
    assert retired.workflow_type == "RetiredTrackingNumber"
    assert (await retired.memo())["free_after"] == keep_until.isoformat()

    second = NumberClaim(carrier="cainiao", number=number, holder="order-aliexpress-b")
    with pytest.raises(ApplicationError) as refused:
        await run(numbers.claim, second.model_copy(update={"at": keep_until - timedelta(days=1)}))
    assert refused.value.type == "duplicate"
    assert "order-aliexpress-a, which has ended" in refused.value.message
    assert keep_until.isoformat() in refused.value.message
    # The holder releasing again (a retry) does not free a retired number early.
    await run(numbers.release, first)
    with pytest.raises(ApplicationError):
        await run(numbers.claim, second.model_copy(update={"at": keep_until - timedelta(days=1)}))

    await run(numbers.claim, second.model_copy(update={"at": keep_until + timedelta(seconds=1)}))
    held = await env.client.get_workflow_handle(hold_id(number)).describe()
    assert (held.workflow_type, (await held.memo())["holder"]) == (
        "TrackingNumberHold",
        "order-aliexpress-b",
    )


async def test_a_hold_started_per_carrier_before_is_honoured_under_every_carrier_and_released(
    env: WorkflowEnvironment,
) -> None:
    task_queue = f"holds-{uuid.uuid4().hex[:6]}"
    numbers = NumberActivities(env.client, task_queue)
    number = fresh_s10()
    # As the code before one-hold-per-number started them: id per (carrier, number).
    await env.client.start_workflow(
        NumberHoldWorkflow.run,
        "order-aliexpress-old",
        id=legacy_hold_id("china_post", number),
        task_queue=task_queue,
        memo={"holder": "order-aliexpress-old"},
        start_delay=timedelta(days=3650),
    )
    listed = f"WorkflowId = '{legacy_hold_id('china_post', number)}'"
    async with asyncio.timeout(10):
        while (await env.client.count_workflows(listed)).count == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    run = ActivityEnvironment().run
    newcomer = NumberClaim(carrier="yanwen", number=number, holder="order-aliexpress-new")
    with pytest.raises(ApplicationError) as refused:
        await run(numbers.claim, newcomer)
    assert "order-aliexpress-old" in refused.value.message
    await run(numbers.release, claim_by("order-aliexpress-old", number))
    old = await env.client.get_workflow_handle(legacy_hold_id("china_post", number)).describe()
    assert old.status is WorkflowExecutionStatus.TERMINATED
    await run(numbers.claim, newcomer)
