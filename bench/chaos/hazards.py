"""The chaos run's verdicts on its three integration hazards, read from each order's end and
history: scans pushed with faults (each must reach its order once; by push or by poll), order
hooks dropped (discovery must start the order), and access tokens expiring (no call may fail
for a token)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter

from bench.chaos.scripts import Plan
from domain.order import Order
from workflows.messages import FactEnvelope

T = TypeVar("T")
PUSH, POLL = "push", "poll"
TOKEN_TROUBLE = re.compile(r"IllegalAccessToken|IllegalRefreshToken|access token|refresh token")
"""What a platform call's failure says when a token made it fail."""


def scan_problems(plan: Plan, order: Order) -> list[str]:
    """Each scan the carrier simulator was given for ``plan`` must be on the order's timeline
    exactly once, as a fact about its number."""
    name = f"{plan.order_id} ({plan.path.name})"
    problems = []
    for number, event_id in plan.scans:
        found = [e for e in order.timeline if e.event_id == event_id]
        if len(found) != 1:
            problems.append(f"{name}: scan {event_id} of {number} on its timeline {len(found)}x")
        elif found[0].tracking_number != number:
            problems.append(f"{name}: scan {event_id} filed under {found[0].tracking_number}")
    return problems


async def scan_routes(
    history: WorkflowHistory, event_ids: Iterable[str], hooks: str, converter: DataConverter
) -> Counter[str]:
    """How each of ``event_ids`` first reached the order: by ``push`` (a signal from the hook
    server's client, identity ``hooks``) or by ``poll`` (the tracking poller's, on the worker).
    Later deliveries of the same scan (a duplicate push, a poll after a push) are not counted:
    the order keeps the first."""
    wanted = set(event_ids)
    routes: Counter[str] = Counter()
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            continue
        attrs = event.workflow_execution_signaled_event_attributes
        if attrs.signal_name != "fact":
            continue
        [envelope] = await converter.decode(attrs.input.payloads, [FactEnvelope])
        event_id = envelope.fact.event_id
        if event_id in wanted:
            wanted.discard(event_id)
            routes[PUSH if attrs.identity == hooks else POLL] += 1
    return routes


async def signalled(
    client: Client, workflow_id: str, signal: str, kind: type[T], wanted: Callable[[T], bool]
) -> T | None:
    """The first ``signal`` in the workflow's history whose argument is ``wanted``, read from
    the server alone. A query needs a worker, and one answered by a worker that has just taken
    over a timed-out task can show events no task has processed yet; in a chaos run such
    queries were followed by the order failing its next task as nondeterministic."""
    handle = client.get_workflow_handle(workflow_id)
    async for event in handle.fetch_history_events():
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            continue
        attrs = event.workflow_execution_signaled_event_attributes
        if attrs.signal_name != signal:
            continue
        [value] = await client.data_converter.decode(attrs.input.payloads, [kind])
        if isinstance(value, kind) and wanted(value):
            return value
    return None


def started_by(history: WorkflowHistory) -> str | None:
    """The identity of the client that started the workflow's run (None if not in view)."""
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return str(event.workflow_execution_started_event_attributes.identity)
    return None


def discovery_problems(
    plan: Plan, history: WorkflowHistory, executions: int, hooks: str
) -> list[str]:
    """An order whose hook was dropped must have been started by discovery (on the worker, not
    by the run's own client), and every order is one workflow run, a late hook notwithstanding."""
    name = f"{plan.order_id} ({plan.path.name})"
    problems = []
    if executions != 1:
        problems.append(f"{name}: {executions} workflow executions, not 1")
    if plan.hook_dropped and started_by(history) in (hooks, None):
        problems.append(f"{name}: its hook was dropped, yet discovery did not start it")
    return problems


async def token_failures(history: WorkflowHistory, converter: DataConverter) -> list[str]:
    """The activities of a workflow that failed for good because of an access or refresh
    token (each failure with its cause chain)."""
    failed = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            continue
        error: BaseException | None = await converter.decode_failure(
            event.activity_task_failed_event_attributes.failure
        )
        chain = []
        while error is not None:
            chain.append(str(error))
            error = error.__cause__
        text = ": ".join(chain)
        if TOKEN_TROUBLE.search(text):
            failed.append(f"{history.workflow_id}: an activity failed for a token: {text}")
    return failed


def refresh_token_deaths(log: str) -> int:
    """How many times a worker's log says its refresh token was refused."""
    return log.count("aliexpress refresh token expired")
