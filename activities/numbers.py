"""Claiming, releasing and retiring tracking numbers (R2 duplicates), atomically through Temporal.

A claim is a ``TrackingNumberHold`` workflow whose id is the number (``tracking-<NUMBER>``,
whatever the carrier): Temporal's unique running workflow ids make the claim atomic. It is
started with a start delay of ten years, so that it is a row in the cluster and nothing more: no
workflow task, no worker ever runs it while the order holds the number. Releasing terminates
that very run (by run id, after checking its holder in the memo), so a late release can never
end another order's later claim.

When the order ends, its number is retired instead: the hold is replaced (atomically, by
``TERMINATE_EXISTING``) with a ``RetiredTrackingNumber`` record whose start delay is the policy's
reuse period, so that the number stays a duplicate for that long (R2: "a number once used on
another order") and is free again afterwards.

Holds started while claims were per carrier (``tracking-<carrier>-<number>``) are honoured:
a claim looks for one under any carrier before it claims, and a release finds them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic import AwareDatetime, BaseModel
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from domain.carriers import Carrier
from domain.errors import RefusalReason
from workflows.number_hold import (
    NumberHoldWorkflow,
    RetiredNumberWorkflow,
    hold_id,
    legacy_hold_id,
)

HOLD_DORMANT: Final = timedelta(days=3650)
"""A hold's start delay: it stays a dormant record, never a running task, while it is held."""
PER_CARRIER_RECOUNT: Final = timedelta(minutes=10)
"""How often a worker counts the holds per carrier left (a rolling upgrade may still start one)."""
_RETIRED = "free_after"
"""The memo key a retired number carries: when it is free again (ISO 8601)."""


class NumberClaim(BaseModel):
    """An order's claim on a number (the carrier names it, the number alone is the claim)."""

    carrier: str
    number: str
    holder: str
    at: AwareDatetime | None = None
    """The holder's clock when it claims: a retired number whose period has run out by then is
    free. None: the worker's clock."""
    keep_until: AwareDatetime | None = None
    """On release: the order ended, keep the number taken until then (R2). None: free it now."""


class NumberActivities:
    """Claims live as ``TrackingNumberHold`` workflows on the workers' own task queue."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue
        self._per_carrier_counted_at: float | None = None
        self._per_carrier_left = True

    @activity.defn(name="numbers.claim")
    async def claim(self, claim: NumberClaim) -> None:
        """Claim the number for the order, or fail non-retryably naming the order that has it."""
        await self._refuse_if_held_per_carrier(claim)
        for _ in range(2):  # once more after clearing a retired record whose period is over
            try:
                await self._start_hold(claim)
            except WorkflowAlreadyStartedError:
                # The memo answers without a worker (a query would need one).
                described = await self._client.get_workflow_handle(hold_id(claim.number)).describe()
                if not await self._cleared(claim, described):
                    return
            else:
                return

    async def _start_hold(self, claim: NumberClaim) -> None:
        await self._record(
            NumberHoldWorkflow.run,
            claim,
            start_delay=HOLD_DORMANT,
            summary=f"{claim.number} held by {claim.holder}",
        )

    async def _record(
        self,
        run: Callable[[Any, str], Awaitable[str]],
        claim: NumberClaim,
        *,
        start_delay: timedelta,
        summary: str,
        free_after: datetime | None = None,
        replace: bool = False,
    ) -> None:
        """Start the number's record (a hold, or a retired number); ``replace`` ends the one
        that runs under its id in the same call, else a running one fails the start."""
        memo = {"holder": claim.holder, "carrier": claim.carrier}
        if free_after is not None:
            memo[_RETIRED] = free_after.isoformat()
        await self._client.start_workflow(
            run,
            claim.holder,
            id=hold_id(claim.number),
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=(
                WorkflowIDConflictPolicy.TERMINATE_EXISTING
                if replace
                else WorkflowIDConflictPolicy.FAIL
            ),
            memo=memo,
            start_delay=start_delay,
            static_summary=summary,
        )

    async def _cleared(self, claim: NumberClaim, described: WorkflowExecutionDescription) -> bool:
        """Whether the existing record was a retired number past its period (now ended, so the
        claim may start again); False when it is this order's own claim (a retry); else refuse."""
        memo = await described.memo()
        holder = str(memo.get("holder", ""))
        free_after = _free_after(memo)
        if free_after is None:
            if holder == claim.holder:  # a retry of our own claim finds it held by us
                return False
            raise _duplicate(holder, f"{claim.number} is already attached to {holder}")
        if (claim.at or datetime.now(UTC)) < free_after:
            raise _duplicate(
                holder,
                f"{claim.number} was used on {holder}, which has ended; it is a duplicate until"
                f" {free_after.isoformat()} (R2)",
            )
        await self._terminate(described, f"free again since {free_after.isoformat()}")
        return True

    async def _refuse_if_held_per_carrier(self, claim: NumberClaim) -> None:
        if claim.carrier in _KNOWN and not await self._holds_per_carrier_left():
            return
        ids = ", ".join(f"'{legacy_hold_id(c, claim.number)}'" for c in _carriers(claim.carrier))
        query = (
            f"WorkflowType = 'TrackingNumberHold' AND ExecutionStatus = 'Running'"
            f" AND WorkflowId IN ({ids})"
        )
        # Visibility may lag, but these holds predate the claims per number: long indexed.
        async for execution in self._client.list_workflows(query, limit=10):
            memo = await execution.memo()
            holder = str(memo.get("holder", ""))
            if holder != claim.holder:
                raise _duplicate(holder, f"{claim.number} is already attached to {holder}")

    async def _holds_per_carrier_left(self) -> bool:
        """Whether any hold per (known) carrier still runs: counted again every few minutes, so
        that once the last one is gone claims stop looking for them (a visibility query each)."""
        now = time.monotonic()
        counted = self._per_carrier_counted_at
        if counted is None or now - counted > PER_CARRIER_RECOUNT.total_seconds():
            prefixes = " OR ".join(f"WorkflowId STARTS_WITH 'tracking-{c}-'" for c in _KNOWN)
            query = (
                f"WorkflowType = 'TrackingNumberHold' AND ExecutionStatus = 'Running'"
                f" AND ({prefixes})"
            )
            self._per_carrier_left = (await self._client.count_workflows(query)).count > 0
            self._per_carrier_counted_at = now
        return self._per_carrier_left

    @activity.defn(name="numbers.release")
    async def release(self, claim: NumberClaim) -> None:
        """Release the number (a no-op when the claim is gone or is another order's); with
        ``keep_until``, retire it instead: taken until then, free afterwards."""
        for workflow_id in (hold_id(claim.number), legacy_hold_id(claim.carrier, claim.number)):
            described = await self._held_by(claim, workflow_id)
            if described is None:
                continue
            if claim.keep_until is None:
                await self._terminate(described, f"released by {claim.holder}")
            else:
                await self._retire(claim, described, claim.keep_until)
            return
        activity.logger.info("no claim of %s to release for %s", claim.holder, claim.number)

    async def _held_by(
        self, claim: NumberClaim, workflow_id: str
    ) -> WorkflowExecutionDescription | None:
        try:
            described = await self._client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            return None
        memo = await described.memo()
        running = described.status == WorkflowExecutionStatus.RUNNING
        if not running or memo.get("holder") != claim.holder or _free_after(memo) is not None:
            return None
        return described

    async def _retire(
        self, claim: NumberClaim, described: WorkflowExecutionDescription, keep_until: datetime
    ) -> None:
        now = claim.at or datetime.now(UTC)
        ours = described.id == hold_id(claim.number)
        if not ours:  # a hold per carrier: end it, retire the number under its own id
            await self._terminate(described, f"retired by {claim.holder}")
        try:
            # Our hold is replaced in one call: no other order can take the number in between.
            await self._record(
                RetiredNumberWorkflow.run,
                claim,
                start_delay=max(keep_until - now, timedelta(seconds=1)),
                summary=f"{claim.number} used by {claim.holder}, free after {keep_until:%F}",
                free_after=keep_until,
                replace=ours,
            )
        except WorkflowAlreadyStartedError:
            activity.logger.info("%s is held by another order: not retired", claim.number)

    async def _terminate(self, described: WorkflowExecutionDescription, reason: str) -> None:
        run = self._client.get_workflow_handle(described.id, run_id=described.run_id)
        try:
            await run.terminate(reason=reason)
        except RPCError as error:  # ended between the two calls: nothing left to end
            activity.logger.info("hold %s already ended: %s", described.id, error)


_KNOWN: Final = tuple(c.value for c in Carrier)


def _carriers(carrier: str) -> list[str]:
    return list(_KNOWN) if carrier in _KNOWN else [*_KNOWN, carrier]


async def holder_of(client: Client, carrier: str, number: str) -> str | None:
    """The workflow id of the order that holds ``number`` now (None: no order holds it, or the
    order that used it has ended). A hold kept per carrier before holds were per number is
    found under ``carrier``'s id."""
    for workflow_id in (hold_id(number), legacy_hold_id(carrier, number)):
        try:
            described = await client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            continue
        if described.status != WorkflowExecutionStatus.RUNNING:
            continue  # released (a withdrawal, a refusal) or a retired record's end
        memo = await described.memo()
        holder = memo.get("holder")
        if _free_after(memo) is not None:
            return None  # retired: the order that used it has ended
        return holder if isinstance(holder, str) and holder else None
    return None


def _free_after(memo: Mapping[str, Any]) -> datetime | None:
    value = memo.get(_RETIRED)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _duplicate(holder: str, message: str) -> ApplicationError:
    return ApplicationError(message, holder, type=RefusalReason.DUPLICATE.value, non_retryable=True)
