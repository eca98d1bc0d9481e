"""Number claims (R2) on the real server: a dormant hold per number, released by its holder only."""

from __future__ import annotations

import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.numbers import NumberActivities, NumberClaim
from tests.numbers import fresh_s10
from workflows.number_hold import hold_id

pytestmark = pytest.mark.temporal


def claim_by(holder: str, number: str) -> NumberClaim:
    return NumberClaim(carrier="china_post", number=number, holder=holder)


async def test_a_claim_is_a_dormant_record_no_worker_ever_runs(env: WorkflowEnvironment) -> None:
    numbers = NumberActivities(env.client, f"holds-{uuid.uuid4().hex[:6]}")  # nobody polls it
    claim = claim_by("order-aliexpress-1", fresh_s10())
    await ActivityEnvironment().run(numbers.claim, claim)
    handle = env.client.get_workflow_handle(hold_id(claim.carrier, claim.number))
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
