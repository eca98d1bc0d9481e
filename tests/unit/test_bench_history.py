"""The bench's bill from a history: local activities are billed once per workflow task."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent, MarkerRecordedEventAttributes
from temporalio.client import WorkflowHistory

from bench.history import actions, activities_run

E = EventType


def event(kind: EventType.ValueType, marker: str = "") -> HistoryEvent:
    attributes = MarkerRecordedEventAttributes(marker_name=marker) if marker else None
    return HistoryEvent(event_type=kind, marker_recorded_event_attributes=attributes)


def history(*events: HistoryEvent) -> WorkflowHistory:
    numbered = [HistoryEvent(event_id=i + 1) for i in range(len(events))]
    for target, source in zip(numbered, events, strict=True):
        target.MergeFrom(source)
    return WorkflowHistory("wf", numbered)


LOCAL = event(E.EVENT_TYPE_MARKER_RECORDED, "core_local_activity")
PATCH = event(E.EVENT_TYPE_MARKER_RECORDED, "core_patch")
TASK_DONE = event(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)


def test_local_activities_of_one_workflow_task_are_one_action_and_patches_none() -> None:
    run = history(
        event(E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        TASK_DONE,
        PATCH,
        LOCAL,
        LOCAL,
        event(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
        event(E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
        TASK_DONE,
        LOCAL,
        event(E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
        TASK_DONE,
        event(E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
    )
    bill = actions(run)
    assert bill == {
        "started": 1,
        "activities": 1,
        "signals": 1,
        "search_attribute_upserts": 1,
        "local_activity_tasks": 2,
    }
    assert activities_run(run) == 4  # the bare baseline runs as many: one scheduled, three local


def test_a_history_without_local_activities_bills_none() -> None:
    run = history(event(E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), TASK_DONE)
    assert "local_activity_tasks" not in actions(run)
    assert activities_run(run) == 0
