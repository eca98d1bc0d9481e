"""``python -m workers.worker``'s health endpoint, as docker compose's healthcheck reads it: off
unless its port is set, red with the reason when the AliExpress refresh token is dead, and the
worker still running (no crash loop) while its access token lasts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.asgi_server import free_port, serve_in_thread
from adapters.platform_sim import SimState, create_app
from domain.errors import InvalidInput
from workers.config import WorkerHealthSettings
from workflows.dispute_poller import DISPUTE_POLLER_ID
from workflows.order_discovery import DISCOVERY_POLLER_ID

KEY, SECRET = "sim-key", "sim-secret"
START_TIMEOUT = 30.0


def worker_env(env: WorkflowEnvironment, market_url: str, **extra: str) -> dict[str, str]:
    """The worker's configuration, by environment as compose gives it."""
    settings = {
        "PARCELFLOW_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "PARCELFLOW_TASK_QUEUE": f"health-{uuid.uuid4().hex[:8]}",
        "PARCELFLOW_LOG_FORMAT": "json",
        "PARCELFLOW_ALIEXPRESS_BASE_URL": market_url,
        "PARCELFLOW_ALIEXPRESS_APP_KEY": KEY,
        "PARCELFLOW_ALIEXPRESS_APP_SECRET": SECRET,
    }
    kept = {k: v for k, v in os.environ.items() if not k.startswith("PARCELFLOW_")}
    return kept | settings | extra


@contextmanager
def worker(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """``python -m workers.worker`` with ``env``; its output lines; SIGTERM at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.worker"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def printed(lines: queue.Queue[str]) -> list[str]:
    found = []
    while not lines.empty():
        found.append(lines.get_nowait())
    return found


@asynccontextmanager
async def pollers_removed(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[None]:
    """The singleton pollers the worker starts on its queue are terminated after the test."""
    try:
        yield
    finally:
        client: Client = env.client
        for singleton in (DISPUTE_POLLER_ID, DISCOVERY_POLLER_ID):
            handle = client.get_workflow_handle(f"{singleton}-{task_queue}")
            with contextlib.suppress(RPCError):  # never started: nothing to remove
                await handle.terminate("test over")


@pytest.mark.temporal
async def test_a_dead_refresh_token_is_a_503_naming_it_while_the_worker_keeps_working(
    env: WorkflowEnvironment,
) -> None:
    market = SimState(app_key=KEY, app_secret=SECRET, open_tokens=False)
    # The seller's grant: the access token lasts 5 minutes more, its refresh token is dead.
    grant = market.tokens.grant(access_ttl=timedelta(minutes=5))
    market.tokens.expire(access=False, refresh=True)
    port = free_port()
    with serve_in_thread(create_app(market)) as market_url:
        config = worker_env(
            env,
            market_url,
            PARCELFLOW_ALIEXPRESS_ACCESS_TOKEN=grant.access_token,
            PARCELFLOW_ALIEXPRESS_REFRESH_TOKEN=grant.refresh_token,
            PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT=grant.expires_at.isoformat(),
            PARCELFLOW_WORKER_HEALTH_PORT=str(port),
        )
        async with pollers_removed(env, config["PARCELFLOW_TASK_QUEUE"]):
            with worker(config) as (process, lines):
                answers = await health_answers(f"http://127.0.0.1:{port}/healthz", count=3)
                alive = process.poll() is None
    output = "".join(printed(lines))

    assert [answer.status_code for answer in answers][-2:] == [503, 503], output
    report = answers[-1].json()
    token = report["aliexpress_token"]
    assert (report["status"], token["state"]) == ("unhealthy", "expired_refresh_token")
    assert token["code"] == "IllegalRefreshToken"
    assert token["access_expires_at"] == grant.expires_at.isoformat()  # the time left to act
    assert report["problems"] == [token["problem"]]
    assert "authorise the app again" in token["problem"]
    assert (report["temporal"]["connected"], report["worker"]["running"]) == (True, True)
    assert alive  # no crash, no restart: the endpoint kept answering
    assert market.tokens.refreshes == 0
    # The access token still works: the platform calls after the refused refresh succeed.
    assert "logistics service keys" in output
    assert "order listing failed" not in output
    errors = [json.loads(line) for line in output.splitlines() if '"level": "error"' in line]
    assert [e["event"] for e in errors] == ["aliexpress refresh token expired"]
    for secret in (grant.access_token, grant.refresh_token):
        assert secret not in output
        assert all(secret not in answer.text for answer in answers)


async def health_answers(url: str, *, count: int) -> list[httpx.Response]:
    """``count`` answers of the endpoint, a second apart, once it listens."""
    answers: list[httpx.Response] = []
    async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(START_TIMEOUT):
        while len(answers) < count:
            with contextlib.suppress(httpx.TransportError):  # not listening yet
                answers.append(await http.get(url))
            await asyncio.sleep(1)
    return answers


def test_the_health_endpoint_is_off_unless_its_port_is_set() -> None:
    assert WorkerHealthSettings.from_env({}).port is None
    assert WorkerHealthSettings.from_env({"PARCELFLOW_WORKER_HEALTH_PORT": " "}).port is None
    chosen = WorkerHealthSettings.from_env({"PARCELFLOW_WORKER_HEALTH_PORT": "8081"})
    assert (chosen.host, chosen.port) == ("127.0.0.1", 8081)
    everywhere = {"PARCELFLOW_WORKER_HEALTH_PORT": "8081", "PARCELFLOW_WORKER_HEALTH_HOST": "::"}
    assert WorkerHealthSettings.from_env(everywhere).host == "::"


@pytest.mark.parametrize("value", ["http", "0", "70000", "-1"])
def test_a_health_port_that_is_not_a_port_is_bad_configuration_naming_it(value: str) -> None:
    with pytest.raises(InvalidInput, match="PARCELFLOW_WORKER_HEALTH_PORT") as refused:
        WorkerHealthSettings.from_env({"PARCELFLOW_WORKER_HEALTH_PORT": value})
    assert repr(value) in str(refused.value)
