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
"""History events that are billable actions (queries leave no event, so none is counted)."""


def actions(history: WorkflowHistory) -> Counter[str]:
    """Billable actions in ``history``, by kind."""
    kinds = (BILLABLE.get(event.event_type) for event in history.events)
    return Counter(kind for kind in kinds if kind is not None)


def activities_scheduled(history: WorkflowHistory) -> int:
    """Activities the workflow scheduled."""
    return actions(history)["activities"]
