"""What a workflow's history says it cost: events, and the actions Temporal Cloud bills."""

from __future__ import annotations

from collections import Counter
from typing import Final

from temporalio.api.enums.v1 import EventType
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


def _local_activity_tasks(history: WorkflowHistory) -> tuple[int, int]:
    """Local activities run, and the workflow tasks that ran at least one of them.

    A local activity leaves a marker among the commands of the workflow task that ran it, i.e.
    after that task's ``WorkflowTaskCompleted`` event.
    """
    task, markers, tasks = 0, 0, set[int]()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task += 1
        elif (
            event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        ):
            markers += 1
            tasks.add(task)
    return markers, len(tasks)


def actions(history: WorkflowHistory) -> Counter[str]:
    """Billable actions in ``history``, by kind.

    Temporal Cloud bills every local activity of one workflow task together as one action
    ("local_activity_tasks"); the markers themselves are not counted again.
    """
    kinds = (BILLABLE.get(event.event_type) for event in history.events)
    counted = Counter(kind for kind in kinds if kind is not None)
    _, tasks = _local_activity_tasks(history)
    if tasks:
        counted["local_activity_tasks"] = tasks
    return counted


def activities_run(history: WorkflowHistory) -> int:
    """Activities the workflow ran, scheduled on a task queue or run locally."""
    markers, _ = _local_activity_tasks(history)
    return actions(history)["activities"] + markers
