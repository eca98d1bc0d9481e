"""Claiming and releasing tracking numbers (R2 duplicates), atomically through Temporal."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.errors import RefusalReason
from workflows.number_hold import NumberHoldWorkflow, hold_id


class NumberClaim(BaseModel):
    """An order's claim on a (carrier, number) pair."""

    carrier: str
    number: str
    holder: str


class NumberActivities:
    """Claims live as ``TrackingNumberHold`` workflows on the workers' own task queue."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    @activity.defn(name="numbers.claim")
    async def claim(self, claim: NumberClaim) -> None:
        """Claim the number for the order, or fail non-retryably naming the order that has it."""
        workflow_id = hold_id(claim.carrier, claim.number)
        try:
            await self._client.start_workflow(
                NumberHoldWorkflow.run,
                claim.holder,
                id=workflow_id,
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                memo={"holder": claim.holder},
            )
        except WorkflowAlreadyStartedError:
            # The memo answers without a worker (a query would need one).
            described = await self._client.get_workflow_handle(workflow_id).describe()
            holder = str(await described.memo_value("holder", default=""))
            if holder != claim.holder:  # a retry of our own claim finds it held by us
                raise ApplicationError(
                    f"{claim.number} is already attached to {holder}",
                    holder,
                    type=RefusalReason.DUPLICATE.value,
                    non_retryable=True,
                ) from None

    @activity.defn(name="numbers.release")
    async def release(self, claim: NumberClaim) -> None:
        """Release the number (a no-op when the claim is already gone)."""
        handle = self._client.get_workflow_handle_for(
            NumberHoldWorkflow.run, hold_id(claim.carrier, claim.number)
        )
        try:
            await handle.signal(NumberHoldWorkflow.release, claim.holder)
        except RPCError as error:
            activity.logger.info("no claim to release for %s: %s", claim.number, error)
