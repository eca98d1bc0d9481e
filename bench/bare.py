"""The baseline: a workflow running ``n`` no-op activities in a row, nothing else."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench.noop")
async def noop() -> None:
    """Does nothing: the activity's cost is Temporal's alone."""


@workflow.defn(name="BenchBare")
class BareWorkflow:
    """As many activities as an order's happy path, and no domain at all."""

    @workflow.run
    async def run(self, activities: int, local: int = 0) -> int:
        """Run ``activities`` no-op activities one after another, then ``local`` local ones."""
        for _ in range(activities):
            await workflow.execute_activity(noop, start_to_close_timeout=timedelta(seconds=30))
        for _ in range(local):
            await workflow.execute_local_activity(
                noop, start_to_close_timeout=timedelta(seconds=30)
            )
        return activities + local
