"""Replay a saved order history with today's OrderWorkflow and print the first replay failure.

.venv/bin/python -m bench.chaos.evidence.replay bench/chaos/evidence/query-after-failover.json
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workers.codec import data_converter
from workflows.order import OrderWorkflow


async def main(saved: str) -> None:
    """Print the replay's failure, or that it replayed (``saved``: the history's JSON)."""
    history = WorkflowHistory.from_json("order", saved)
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=data_converter(None))
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    print(result.replay_failure or "replayed")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]).read_text()))
