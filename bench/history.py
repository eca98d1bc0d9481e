"""What a workflow's history says it cost: events, and the actions Temporal Cloud bills."""

from __future__ import annotations

import json
from collections import Counter
from typing import Final

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

BILLABLE: Final = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "started",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "search_attribute_upserts",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "children",
}
"""History events that are billable actions, one each (queries leave no event: none counted)."""

LOCAL_ACTIVITY_MARKER: Final = "core_local_activity"
CAUSED: Final = {
    "numbers.claim": "hold_started",
    "numbers.release": "hold_released",
    "health.record": "health_signals",
}
"""Local activities that cost an action in another workflow: a number hold started, its release
(a termination, counted conservatively as the signal it replaced), a record signalled to the
store's health workflow."""
CHANGE_VERSION: Final = "TemporalChangeVersion"
"""Upserted by the SDK with each ``workflow.patched`` marker; exempt from the bill."""


def _local_activities(history: WorkflowHistory) -> tuple[list[str], int]:
    """The types of the local activities run, and how many workflow tasks ran at least one.

    A local activity leaves a marker among the commands of the workflow task that ran it, i.e.
    after that task's ``WorkflowTaskCompleted`` event; the marker's data names its type.
    """
    task, types, tasks = 0, list[str](), set[int]()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task += 1
        elif (
            event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        ):
            data = event.marker_recorded_event_attributes.details["data"].payloads
            types.append(str(json.loads(data[0].data).get("activity_type", "")) if data else "")
            tasks.add(task)
    return types, len(tasks)


def _versioning(event: HistoryEvent) -> bool:
    """An upsert of the patch-version search attribute alone (Temporal Cloud does not bill it)."""
    if event.event_type != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        return False
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    return set(fields.indexed_fields) == {CHANGE_VERSION}


def actions(history: WorkflowHistory) -> Counter[str]:
    """Billable actions in ``history``, by kind.

    Temporal Cloud bills every local activity of one workflow task together as one action
    ("local_activity_tasks"), and not the SDK's own upsert of ``TemporalChangeVersion`` that
    comes with each patch marker. The actions a local activity causes in another workflow
    (``CAUSED``) are the order's too, and counted here.
    """
    kinds = (BILLABLE.get(event.event_type) for event in history.events if not _versioning(event))
    counted = Counter(kind for kind in kinds if kind is not None)
    types, tasks = _local_activities(history)
    if tasks:
        counted["local_activity_tasks"] = tasks
    counted.update(CAUSED[kind] for kind in types if kind in CAUSED)
    return counted


def activities_run(history: WorkflowHistory) -> int:
    """Activities the workflow ran, scheduled on a task queue or run locally."""
    types, _ = _local_activities(history)
    scheduled = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    return sum(event.event_type == scheduled for event in history.events) + len(types)


def path_costs(histories: dict[str, WorkflowHistory]) -> dict[str, dict[str, int]]:
    """(d) events and (i) billable actions of each path's history, with the actions by kind."""
    costs = {}
    for path, history in histories.items():
        bill = actions(history)
        costs[path] = {"events": len(history.events), "actions": sum(bill.values()), **bill}
    return costs
