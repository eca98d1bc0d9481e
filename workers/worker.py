"""The worker process: the one composition root that wires ports into activities."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from activities.platform import PlatformActivities
from domain.ports import Platform
from workflows.order import OrderWorkflow


def build_worker(client: Client, *, task_queue: str, platform: Platform) -> Worker:
    """A worker running every parcelflow workflow and activity against ``platform``."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderWorkflow],
        activities=PlatformActivities(platform).all(),
    )
