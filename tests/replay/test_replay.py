"""Replay every committed history with today's workflow code: a non-deterministic change fails.

Refresh after an intended change of behaviour (the ``-v1`` files predate the R2 number claims
and the R8 carrier check, the ``-v2`` files predate ``local-calls``, the ``-v3`` files predate
``withdrawal-asks-carrier-r8`` and ``reship-number-claims-r2``, the ``-v4`` files predate
``follow-at-upload`` and ``stop-tracking-at-end`` (17TRACK: register at upload, tagged; stop at
the end) and the upload's logistics service key, all guarded by ``workflow.patched`` where
history changes, and must keep replaying):
    PARCELFLOW_RECORD_HISTORIES=1 .venv/bin/python -m pytest tests/workflows/test_order_paths.py
Keep the old files too (rename them ``<path>-v1.json``) whenever workflows may still be running
the old code: a change that breaks their replay must be guarded with ``workflow.patched``.
``reship_and_claim`` and ``claim_paid`` (a ``CarrierClaim`` history) come from
``tests/workflows/test_reship.py``, ``claim_pushed`` (a claim told its status by EasyPost's
webhooks, the ``status_pushed`` signal) from ``tests/workflows/test_carrier_claim.py``; each
history replays with the workflow type it names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.carrier_claim import CarrierClaimWorkflow
from workflows.order import OrderWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
TEXTS = {path.stem: path.read_text() for path in HISTORIES}


def test_every_order_path_has_a_committed_history() -> None:
    names = {path.stem for path in HISTORIES}
    assert {
        "withdraw_and_reupload",
        "window_closes",
        "scan_locks",
        "closed_unfulfilled",
        "dispute_no_response",
        "dispute_no_solution",
        "dispute_resolved",
        "tracking_expired",
        "delivered_completed",
        "dispute_arbitration",
        "customs_hold",
        "reship_and_claim",
    } <= names


def test_a_carrier_claim_paid_to_its_end_has_a_committed_history() -> None:
    events = json.loads(TEXTS["claim_paid"])["events"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    assert started["workflowType"]["name"] == "CarrierClaim"
    assert events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"


def test_a_carrier_claim_told_by_webhooks_has_a_committed_history() -> None:
    events = json.loads(TEXTS["claim_pushed"])["events"]
    signals = [e for e in events if e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"]
    assert signals
    assert {s["workflowExecutionSignaledEventAttributes"]["signalName"] for s in signals} == {
        "status_pushed"
    }
    assert events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_committed_history_replays_with_the_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(f"replay-{path.stem}", TEXTS[path.stem])
    replayer = Replayer(
        workflows=[OrderWorkflow, CarrierClaimWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
