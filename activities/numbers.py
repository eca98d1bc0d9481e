"""Claiming and releasing tracking numbers (R2 duplicates), atomically through Temporal.

A claim is a ``TrackingNumberHold`` workflow whose id is the number: Temporal's unique running
workflow ids make the claim atomic. It is started with a start delay of ten years, so that it
is a row in the cluster and nothing more: no workflow task, no worker ever runs it while the
order holds the number. Releasing terminates that very run (by run id, after checking its
holder in the memo), so a late release can never end another order's later claim.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.errors import RefusalReason
from workflows.number_hold import NumberHoldWorkflow, hold_id

HOLD_DORMANT: Final = timedelta(days=3650)
"""A hold's start delay: it stays a dormant record, never a running task, while it is held."""


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
                start_delay=HOLD_DORMANT,
                static_summary=f"{claim.number} held by {claim.holder}",
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
        """Release the number (a no-op when the claim is gone or is another order's)."""
        handle = self._client.get_workflow_handle(hold_id(claim.carrier, claim.number))
        try:
            described = await handle.describe()
        except RPCError as error:
            activity.logger.info("no claim to release for %s: %s", claim.number, error)
            return
        holder = str(await described.memo_value("holder", default=""))
        if described.status != WorkflowExecutionStatus.RUNNING or holder != claim.holder:
            activity.logger.info("no claim of %s to release for %s", claim.holder, claim.number)
            return
        run = self._client.get_workflow_handle(described.id, run_id=described.run_id)
        try:
            await run.terminate(reason=f"released by {claim.holder}")
        except RPCError as error:  # ended between the two calls: nothing left to release
            activity.logger.info("claim on %s already ended: %s", claim.number, error)
