"""The worker's health endpoint: is Temporal reachable, is the worker polling, can the AliExpress
token still be refreshed. ``GET /healthz`` answers 200 when all is well, 503 otherwise, in JSON
that names every problem and never carries a token."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from temporalio.client import Client
from temporalio.worker import Worker

from adapters.aliexpress.tokens import TokenState, TokenStatus
from domain.errors import InvalidInput
from workers.config import WorkerHealthSettings

HEALTH_PATH = "/healthz"
PORT_VARIABLE = "PARCELFLOW_WORKER_HEALTH_PORT"
TEMPORAL_CHECK_TIMEOUT = timedelta(seconds=3)
START_TIMEOUT = 10.0


@dataclass
class WorkerHealth:
    """What the report reads: the Temporal client, the worker, the platform's token status."""

    client: Client
    task_queue: str
    tokens: Callable[[], TokenStatus] | None = None
    """The AliExpress client's ``token_status`` (None: no token to watch)."""
    worker: Worker | None = None

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """Whether the worker is healthy, and the report that says why (or why not)."""
        problems: list[str] = []
        temporal = await self._temporal()
        if not temporal["connected"]:
            problems.append(f"Temporal unreachable at {temporal['address']}: {temporal['error']}")
        running = self.worker is None or self.worker.is_running
        if not running:
            problems.append(f"the worker no longer polls task queue {self.task_queue}")
        token: dict[str, Any] | None = None
        if self.tokens is not None:
            status = self.tokens()
            token = status.as_json()
            if status.state is TokenState.EXPIRED_REFRESH_TOKEN:
                problems.append(status.problem or "the AliExpress refresh token has expired")
        body = {
            "status": "unhealthy" if problems else "ok",
            "problems": problems,
            "task_queue": self.task_queue,
            "temporal": temporal,
            "worker": {"running": running},
            "aliexpress_token": token,
        }
        return not problems, body

    async def _temporal(self) -> dict[str, Any]:
        config = self.client.service_client.config
        found: dict[str, Any] = {
            "connected": False,
            "address": config.target_host,
            "namespace": self.client.namespace,
            "error": None,
        }
        try:
            found["connected"] = await self.client.service_client.check_health(
                timeout=TEMPORAL_CHECK_TIMEOUT
            )
        except Exception as error:  # noqa: BLE001 - any failure means "not connected".
            found["error"] = f"{type(error).__name__}: {error}"
        else:
            if not found["connected"]:
                found["error"] = "the frontend answers that it is not serving"
        return found


def create_app(health: WorkerHealth) -> FastAPI:
    """The endpoint's app: ``GET /healthz`` only."""
    app = FastAPI(title="parcelflow worker health", docs_url=None, redoc_url=None)

    @app.get(HEALTH_PATH)
    async def healthz() -> JSONResponse:
        healthy, body = await health.report()
        return JSONResponse(body, status_code=200 if healthy else 503)

    return app


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the worker process keeps its own (graceful stop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(health: WorkerHealth, settings: WorkerHealthSettings) -> AsyncIterator[str]:
    """Serve the endpoint in this event loop while the block runs; its URL. ``InvalidInput``
    names the setting when its port cannot be taken (another process holds it)."""
    if settings.port is None:
        raise InvalidInput(PORT_VARIABLE, "is not set: the health endpoint is off")
    try:
        listener = socket.create_server((settings.host, settings.port))
    except OSError as error:
        problem = f"cannot listen on {settings.host}:{settings.port} ({error.strerror})"
        raise InvalidInput(PORT_VARIABLE, problem) from error
    config = uvicorn.Config(
        create_app(health), log_config=None, log_level="warning", access_log=False, lifespan="off"
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while not server.started:
                if task.done():
                    task.result()  # raises what stopped it
                    msg = f"the worker health endpoint on port {settings.port} did not start"
                    raise OSError(msg)
                await asyncio.sleep(0.01)
        yield f"http://{settings.host}:{settings.port}{HEALTH_PATH}"
    finally:
        server.should_exit = True
        await task
        listener.close()
