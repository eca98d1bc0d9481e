"""A worker in its own process, so that its CPU time and memory are its own.

``python -m bench.worker ADDRESS TASK_QUEUE KIND``: ``order`` runs every parcelflow workflow
(sandbox on, ``FakePlatform``, a carrier that knows every number); ``bare`` runs the baseline.
Prints ``ready`` once polling, stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import sys

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.bare import BareWorkflow, noop
from domain.tracking import CarrierRecord
from tests.fakes import FakePlatform
from workers.exits import exit_process
from workers.worker import build_worker, stop_on_signals


class KnownCarrier:
    """A tracking service that knows every number (the happy path's carrier)."""

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        del numbers

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        return [CarrierRecord(carrier=c, tracking_number=n, known=True) for c, n in numbers]

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        del numbers


def make_worker(client: Client, task_queue: str, kind: str) -> Worker:
    """The worker of ``kind`` (``order`` or ``bare``) on ``task_queue``."""
    if kind == "order":
        return build_worker(
            client, task_queue=task_queue, platform=FakePlatform(), tracking=KnownCarrier()
        )
    if kind == "bare":
        return Worker(client, task_queue=task_queue, workflows=[BareWorkflow], activities=[noop])
    msg = f"unknown worker kind {kind!r}"
    raise ValueError(msg)


async def serve(address: str, task_queue: str, kind: str) -> None:
    """Poll until SIGTERM."""
    stop = stop_on_signals()
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    async with make_worker(client, task_queue, kind):
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    address, queue, worker_kind = sys.argv[1:4]
    asyncio.run(serve(address, queue, worker_kind))
    exit_process(0)  # past the Rust threads that can abort a finalizing interpreter
