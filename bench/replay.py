"""Replay rate: the committed histories (orders, a carrier claim) replayed with today's code."""

from __future__ import annotations

import re
import time
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.carrier_claim import CarrierClaimWorkflow
from workflows.order import OrderWorkflow

HISTORIES = Path(__file__).parent.parent / "tests" / "replay" / "histories"


def committed() -> list[WorkflowHistory]:
    """Every committed history."""
    return [
        WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
        for path in sorted(HISTORIES.glob("*.json"))
    ]


def current() -> dict[str, WorkflowHistory]:
    """The committed history of each path as today's code writes it (no ``-vN`` suffix)."""
    return {
        path.stem: WorkflowHistory.from_json(path.stem, path.read_text())
        for path in sorted(HISTORIES.glob("*.json"))
        if not re.search(r"-v\d+$", path.stem)
    }


async def replay_rate(histories: list[WorkflowHistory]) -> float:
    """Histories replayed per second (a replay failure fails the benchmark)."""
    replayer = Replayer(
        workflows=[OrderWorkflow, CarrierClaimWorkflow], data_converter=pydantic_data_converter
    )
    started = time.perf_counter()
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            msg = f"{history.workflow_id} no longer replays: {result.replay_failure}"
            raise RuntimeError(msg)
    return len(histories) / (time.perf_counter() - started)
