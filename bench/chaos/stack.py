"""The processes a chaos run kills: the Temporal dev server (on one database file) and the worker.

Both are real child processes, killed with SIGKILL (no goodbye) and started again on the
same port, database file and task queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.dev import temporal_binary
from workflows.search_attributes import dev_server_args

READY_WITHIN = 60.0


@dataclass
class DevServer:
    """``temporal server start-dev`` on ``db``: started, SIGKILLed and started again."""

    db: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def address(self) -> str:
        """The frontend's host:port."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server on the same database file and port as before."""
        args = [
            temporal_binary(),
            *("server", "start-dev", "--headless", "--db-filename", str(self.db)),
            *("--ip", "127.0.0.1", "--port", str(self.port), "--log-level", "error"),
            *dev_server_args(),
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed argument list
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush or say goodbye."""
        kill(self.process)

    def stop(self) -> None:
        """A clean stop at the end of the run."""
        stop(self.process)


@dataclass
class WorkerProcess:
    """One parcelflow worker process (``bench.chaos.worker``), restartable after a SIGKILL."""

    address: str
    task_queue: str
    args: list[str]
    """The worker's arguments after the address and task queue (``bench.chaos.worker``)."""
    log: Path
    env: Callable[[], Mapping[str, str]] = dict
    """Environment variables of each new worker (called at every start)."""
    process: subprocess.Popen[str] | None = None
    started: int = 0
    unexpected_exits: list[int] = field(default_factory=list)

    async def start(self) -> None:
        """Start a worker and wait until it polls."""
        args = [sys.executable, "-m", "bench.chaos.worker", self.address, self.task_queue]
        with self.log.open("a") as err:
            self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - our worker; starts at once
                [*args, *self.args],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env={**os.environ, **self.env()},
            )
        self.started += 1
        out = self.process.stdout
        assert out is not None
        line = await asyncio.wait_for(asyncio.to_thread(out.readline), READY_WITHIN)
        if line.strip() != "ready":
            msg = f"the worker did not start (said {line!r}); see {self.log}"
            raise RuntimeError(msg)

    def kill(self) -> None:
        """SIGKILL mid-flight: activities and workflow tasks in progress are abandoned."""
        kill(self.process)

    async def keep_alive(self) -> None:
        """Restart the worker if it ever exits on its own (and remember that it did)."""
        while True:
            await asyncio.sleep(0.5)
            process = self.process
            if process is not None and (code := process.poll()) is not None and code != -9:
                self.unexpected_exits.append(code)
                # A start that fails (the new worker exited too) is tried again next turn.
                with contextlib.suppress(RuntimeError, TimeoutError):
                    await self.start()

    def stop(self) -> None:
        """A clean stop at the end of the run."""
        stop(self.process)


def kill(process: subprocess.Popen[Any] | None) -> None:
    """SIGKILL ``process`` if it runs, and reap it."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()


def stop(process: subprocess.Popen[Any] | None) -> None:
    """SIGTERM ``process`` if it runs; SIGKILL it if it is still there 30 s later."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill(process)


async def wait_until(probe: Callable[[], Awaitable[object]], within: float = READY_WITHIN) -> None:
    """Call the async ``probe`` until it stops raising (or ``within`` seconds pass)."""
    deadline = time.monotonic() + within
    while True:
        try:
            await probe()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
        else:
            return
