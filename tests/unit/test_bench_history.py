"""The bench's bill from a history, and the cost of every path's committed history."""

from __future__ import annotations

import json

from temporalio.api.common.v1 import Payload, SearchAttributes
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    HistoryEvent,
    MarkerRecordedEventAttributes,
    UpsertWorkflowSearchAttributesEventAttributes,
)
from temporalio.client import WorkflowHistory

from bench.history import actions, activities_run, path_costs
from bench.replay import current

E = EventType


def event(kind: EventType.ValueType, marker: str = "", activity: str = "") -> HistoryEvent:
    attributes = MarkerRecordedEventAttributes(marker_name=marker) if marker else None
    if attributes is not None and activity:
        data = json.dumps({"seq": 1, "activity_type": activity}).encode()
        attributes.details["data"].payloads.append(Payload(data=data))
    return HistoryEvent(event_type=kind, marker_recorded_event_attributes=attributes)


def history(*events: HistoryEvent) -> WorkflowHistory:
    return WorkflowHistory("wf", list(events))


def upsert(*names: str) -> HistoryEvent:
    fields = SearchAttributes(indexed_fields={name: Payload(data=b'"x"') for name in names})
    return HistoryEvent(
        event_type=E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        upsert_workflow_search_attributes_event_attributes=(
            UpsertWorkflowSearchAttributesEventAttributes(search_attributes=fields)
        ),
    )


def local(activity: str) -> HistoryEvent:
    return event(E.EVENT_TYPE_MARKER_RECORDED, "core_local_activity", activity)


PATCH = event(E.EVENT_TYPE_MARKER_RECORDED, "core_patch")
TASK_DONE = event(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)


def test_local_activities_of_one_workflow_task_are_one_action_and_patches_none() -> None:
    run = history(
        event(E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        TASK_DONE,
        PATCH,
        upsert("TemporalChangeVersion"),  # the SDK's, with the patch marker: not billed
        local("numbers.claim"),
        local("health.record"),
        event(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
        event(E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
        TASK_DONE,
        local("tracking.lookup"),
        upsert("OrderState", "TemporalChangeVersion"),
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
        "hold_started": 1,  # in the number's hold workflow
        "health_signals": 1,  # in the store's health workflow
    }
    assert activities_run(run) == 4  # the bare baseline runs as many: one scheduled, three local


def test_a_history_without_local_activities_bills_none() -> None:
    run = history(event(E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), TASK_DONE)
    assert "local_activity_tasks" not in actions(run)
    assert activities_run(run) == 0


def test_every_committed_path_is_costed_and_the_happy_path_stays_within_its_targets() -> None:
    costs = path_costs(current())
    assert {"delivered_completed", "dispute_resolved", "reship_and_claim", "claim_paid"} <= set(
        costs
    )
    assert not any("-v" in path for path in costs)  # older code's histories are not priced
    happy = costs["delivered_completed"]
    assert happy["events"] <= 150
    assert happy["actions"] <= 30
    assert happy["hold_started"] == 1  # the number claim is priced in the order's bill
