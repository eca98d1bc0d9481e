"""Drive one order workflow on the real dev server: start it, move its clock, feed it events."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from domain.events import Fact
from domain.money import Money
from domain.order import OrderFacts
from domain.ports import CarrierClaims
from tests.fakes import FakeCarrier, FakePlatform
from workers.worker import build_worker
from workflows.messages import FactEnvelope, OrderInput, OrderView
from workflows.order import OrderWorkflow

TIMER_ARMING_SLACK = timedelta(seconds=2)
HISTORIES = Path(__file__).parent.parent / "replay" / "histories"
V = TypeVar("V")


@dataclass
class OrderRun:
    """One order workflow under test, with its fake platform and its payment time ``paid_at``."""

    env: WorkflowEnvironment
    handle: WorkflowHandle[OrderWorkflow, object]
    platform: FakePlatform
    paid_at: datetime
    number: str = ""
    """The tracking number the test uploaded, if any."""

    async def now(self) -> datetime:
        """The workflow's virtual clock."""
        return await self.env.get_current_time(self.handle)

    async def move_to(self, moment: datetime) -> None:
        """Advance the workflow's clock to ``moment`` (firing every timer due on the way)."""
        delta = moment - await self.now()
        if delta > timedelta(0):
            await self.env.fast_forward(self.handle, delta)
        await self.settled()

    async def reach(self, deadline: datetime) -> None:
        """Move the clock just past ``deadline`` so that its timer has fired.

        The server arms a timer when it receives the command, after the ``workflow.now()`` the
        duration was computed from, and its timer queue fires up to about a second late (measured
        on the dev server); the domain still records the exact deadline (``locked_at``, the
        timeline), which is what the tests assert. Commands sent at the boundary itself are
        decided at their own exact time, without waiting for the timer.
        """
        await self.move_to(deadline + TIMER_ARMING_SLACK)

    async def settled(self, limit: float = 10.0) -> None:
        """Wait until the worker has processed every workflow task (timers fired, signals seen)."""
        async with asyncio.timeout(limit):
            while True:
                described = await self.handle.describe()
                if not described.raw_description.HasField("pending_workflow_task"):
                    return
                await asyncio.sleep(0.01)

    async def view(self) -> OrderView:
        """The ``view`` query."""
        return await self.handle.query(OrderWorkflow.view)

    async def signal(self, fact: Fact) -> None:
        """Send an outside fact and wait until the workflow has seen it."""
        await self.handle.signal(OrderWorkflow.fact, FactEnvelope(fact=fact))
        await self.settled()

    async def refusal(self, update: object, *args: object) -> ApplicationError:
        """Run an update that must be refused; its application error (type = reason)."""
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await self.handle.execute_update(update, *args)  # type: ignore[call-overload]
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError)
        return cause

    async def save_history(self, name: str) -> None:
        """With PARCELFLOW_RECORD_HISTORIES=1, commit this run's history for the replay tests."""
        await save_history(self.handle, name)


async def save_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With PARCELFLOW_RECORD_HISTORIES=1, commit a workflow's history for the replay tests."""
    if os.environ.get("PARCELFLOW_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(parents=True, exist_ok=True)
    data = json.loads(history.to_json())
    (HISTORIES / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")


async def until(
    read: Callable[[], Awaitable[V]], check: Callable[[V], bool], limit: float = 10
) -> V:
    """The first answer of ``read`` that passes ``check`` (activities and children run on)."""
    async with asyncio.timeout(limit):
        while not check(answer := await read()):  # noqa: ASYNC110 - polls the server
            await asyncio.sleep(0.05)
    return answer


def order_facts(paid_at: datetime, **kw: object) -> OrderFacts:
    """S1's order: $20, ETA 15 days after payment, default policy."""
    base: dict[str, object] = {
        "order_id": f"t{uuid.uuid4().hex[:12]}",
        "seller_id": "store-1",
        "total": Money(minor=20_00),
        "paid_at": paid_at,
        "eta": paid_at + timedelta(days=15),
    }
    base.update(kw)
    return OrderFacts.model_validate(base)


@asynccontextmanager
async def order_run(
    env: WorkflowEnvironment,
    platform: FakePlatform | None = None,
    continue_as_new_after: int = 2_000,
    tracking: FakeCarrier | None = None,
    claims: CarrierClaims | None = None,
    **facts: object,
) -> AsyncIterator[OrderRun]:
    """Start a worker and one order workflow paid now; time moves only when the test says.

    Without ``claims``, carrier claims the order opens go to an operator (no claims API)."""
    platform = platform or FakePlatform()
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    paid_at = datetime.now(UTC).replace(microsecond=0)
    order = order_facts(paid_at, **facts)
    worker = build_worker(
        env.client, task_queue=task_queue, platform=platform, tracking=tracking, claims=claims
    )
    async with worker:
        with env.with_time_skipping_disabled():
            await env.client.start_workflow(
                OrderWorkflow.run,
                OrderInput(facts=order, continue_as_new_after=continue_as_new_after),
                id=order.workflow_id,
                task_queue=task_queue,
            )
        # Not pinned to the first run: the order may continue as new.
        handle: WorkflowHandle[OrderWorkflow, object] = env.client.get_workflow_handle_for(
            OrderWorkflow.run,
            order.workflow_id,
        )
        yield OrderRun(env=env, handle=handle, platform=platform, paid_at=paid_at)
