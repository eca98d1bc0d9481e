"""The one local Temporal dev server of a benchmark run (throw-away SQLite file, quiet log)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from adapters.asgi_server import free_port
from workers.dev import temporal_binary
from workflows.search_attributes import dev_server_args

START_WITHIN = 60.0


@dataclass(frozen=True)
class Server:
    """The running server's address, and a client of it (pydantic payloads)."""

    address: str
    client: Client


async def _connect(address: str, process: asyncio.subprocess.Process) -> Client:
    async with asyncio.timeout(START_WITHIN):
        while True:
            if process.returncode is not None:
                msg = f"the dev server exited with {process.returncode}"
                raise RuntimeError(msg)
            try:
                return await Client.connect(address, data_converter=pydantic_data_converter)
            except RuntimeError:  # not answering yet
                await asyncio.sleep(0.2)


@asynccontextmanager
async def dev_server() -> AsyncIterator[Server]:
    """``temporal server start-dev --headless`` with parcelflow's search attributes."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="parcelflow-bench-") as tmp:
        args = [
            temporal_binary(),
            *("server", "start-dev", "--headless", "--db-filename", str(Path(tmp) / "bench.db")),
            *("--ip", "127.0.0.1", "--port", str(port), "--log-level", "error"),
            *dev_server_args(),
        ]
        with (Path(tmp) / "server.log").open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                *args, stdout=log, stderr=asyncio.subprocess.STDOUT
            )
            try:
                address = f"127.0.0.1:{port}"
                yield Server(address, await _connect(address, process))
            finally:
                process.terminate()
                try:
                    async with asyncio.timeout(20):
                        await process.wait()
                except TimeoutError:
                    process.kill()
                    await process.wait()
