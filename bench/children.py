"""Worker processes started and stopped by the benchmark."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bench.procs import cpu_seconds, rss_bytes

READY_WITHIN = 60.0


@dataclass(frozen=True)
class WorkerProcess:
    """A running ``bench.worker`` process."""

    pid: int
    task_queue: str

    def cpu(self) -> float:
        """Its CPU seconds so far."""
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        """Its resident memory in bytes."""
        return rss_bytes(self.pid)


@asynccontextmanager
async def worker_process(address: str, task_queue: str, kind: str) -> AsyncIterator[WorkerProcess]:
    """Start a worker process of ``kind``; yield once it polls; SIGTERM it (and wait) at exit."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.worker", address, task_queue, kind,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(READY_WITHIN):
            line = await proc.stdout.readline()
        if line.strip() != b"ready":
            msg = f"the {kind} worker did not start (exit {proc.returncode})"
            raise RuntimeError(msg)
        yield WorkerProcess(pid=proc.pid, task_queue=task_queue)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
