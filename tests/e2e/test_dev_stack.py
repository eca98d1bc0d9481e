"""``parcelflow dev`` as a newcomer runs it: demo orders, Ctrl-C stops it all, a rerun resumes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from temporalio.client import Client

from adapters.asgi_server import free_port
from workers.config import TemporalSettings
from workers.demo import DEMO_ORDERS, MARKETPLACE, SELLER_ID
from workers.dev import READY
from workers.orders import Orders, OrderSummary
from workers.temporal_client import connect

pytestmark = pytest.mark.temporal
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
DEMO = f"SellerId = '{SELLER_ID}'"


@dataclass
class DevStack:
    """One ``parcelflow dev`` process and the ports it was given."""

    process: subprocess.Popen[str]
    ports: dict[str, int]
    lines: queue.Queue[str]
    output: list[str] = field(default_factory=list)
    """Every output line read so far."""

    @property
    def port(self) -> int:
        return self.ports["port"]

    @property
    def ui_port(self) -> int:
        return self.ports["ui-port"]

    def url(self, service: str) -> str:
        """``http://127.0.0.1:<port>`` of ``marketplace``, ``carrier``, ``claims``, ``hooks``..."""
        return f"http://127.0.0.1:{self.ports[f'{service}-port']}"

    def wait_for(self, marker: str, timeout: float) -> list[str]:
        """Every output line up to the one containing ``marker``."""
        seen: list[str] = []
        while True:
            line = self.lines.get(timeout=timeout)
            seen.append(line)
            self.output.append(line)
            if marker in line:
                return seen

    def printed(self) -> list[str]:
        """Every line the stack has printed so far."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.output.append(self.lines.get_nowait())
        return self.output


SERVICES = ("port", "ui-port", "marketplace-port", "carrier-port", "claims-port", "hooks-port")


def start_dev(data_dir: Path, *extra: str) -> DevStack:
    ports = {name: free_port() for name in (*SERVICES, "worker-health-port")}
    args = [sys.executable, "-m", "workers.cli", "dev", "--data-dir", str(data_dir), *extra]
    for name, port in ports.items():
        args += [f"--{name}", str(port)]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PARCELFLOW_TASK_QUEUE", None)
    process = subprocess.Popen(  # noqa: S603 - our own launcher.
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # the pipe must never fill up, or the launcher blocks
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    return DevStack(process, ports, lines)


@asynccontextmanager
async def running(data_dir: Path, *extra: str) -> AsyncIterator[tuple[DevStack, Orders]]:
    """A ready dev stack and a client to it; the block must stop it."""
    stack = start_dev(data_dir, *extra)
    try:
        await asyncio.to_thread(stack.wait_for, READY, READY_TIMEOUT)
        settings = TemporalSettings(address=f"127.0.0.1:{stack.port}")
        client: Client = await connect(settings)
        yield stack, Orders(client, settings.task_queue)
    finally:
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait()
            await server_gone(stack)


async def server_gone(stack: DevStack) -> None:
    """Killed outright, the launcher takes its Temporal server with it: nothing is left holding
    the port (and the machine's memory) after a test, or a terminal, is gone."""
    for _ in range(100):
        if not port_open(stack.port):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the dev server outlived its killed launcher")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def visible(orders: Orders, query: str, count: int) -> list[OrderSummary]:
    """The rows of ``query`` once visibility shows ``count`` of them (eventually consistent)."""
    for _ in range(100):
        rows = await orders.list(query)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    return await orders.list(query)


async def stop(stack: DevStack) -> int:
    stack.process.send_signal(signal.SIGINT)
    return await asyncio.to_thread(stack.process.wait, STOP_TIMEOUT)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "parcelflow-data"


async def test_dev_starts_ready_with_demo_orders_stops_on_ctrl_c_and_resumes(
    data_dir: Path,
) -> None:
    demo_ids = sorted(f"order-{MARKETPLACE}-{d.order_id}" for d in DEMO_ORDERS)
    async with running(data_dir) as (stack, orders):
        rows = await visible(orders, DEMO, len(demo_ids))
        assert sorted(r.workflow_id for r in rows) == demo_ids
        completed = await visible(orders, f"{DEMO} AND OrderState = 'completed'", 1)
        resolved = await visible(orders, f"{DEMO} AND OrderState = 'dispute_resolved'", 1)
        locked = await visible(orders, f"{DEMO} AND OrderState = 'locked'", 2)
        assert [r.workflow_id for r in completed] == [f"order-{MARKETPLACE}-8800000008"]
        assert [r.workflow_id for r in resolved] == [f"order-{MARKETPLACE}-8800000007"]
        assert f"order-{MARKETPLACE}-8800000003" in {r.workflow_id for r in locked}
        reuploaded = (await orders.view(MARKETPLACE, "8800000002")).order
        assert reuploaded.shipment is not None
        assert reuploaded.shipment.seq == 2
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{stack.ui_port}/")).status_code == 200
        assert await stop(stack) == 0
        assert not port_open(stack.port)
        assert (data_dir / "temporal.db").exists()

    async with running(data_dir) as (stack, orders):
        rows = await visible(orders, DEMO, len(demo_ids))
        assert sorted(r.workflow_id for r in rows) == demo_ids  # same orders, no second runs
        again = (await orders.view(MARKETPLACE, "8800000002")).order
        assert again.shipment is not None
        assert again.shipment.seq == 2  # not shipped a third time
        # Killed outright this time (SIGKILL: no clean-up runs): its server goes with it.
        stack.process.kill()
        stack.process.wait()
        await server_gone(stack)


async def test_the_worker_refreshes_an_expiring_access_token_without_a_failed_call(
    data_dir: Path,
) -> None:
    lifetime = 8.0  # seconds; the worker refreshes a quarter of it before the expiry
    async with running(data_dir, "--token-lifetime", str(lifetime)) as (stack, orders):
        market = stack.url("marketplace")
        await asyncio.sleep(lifetime + 1)  # the demo's grant has expired by now
        answered = await orders.respond(MARKETPLACE, "8800000006", "On its way, tracking attached.")
        async with httpx.AsyncClient(base_url=market) as http:
            tokens = (await http.get("/sim/tokens")).json()
        printed = "".join(stack.printed())
        assert await stop(stack) == 0
    # The answer reached the platform, on a refreshed token: the discovery poller's calls every
    # few seconds refresh it before its expiry, and none of them failed meanwhile.
    assert answered.state.value == "dispute_awaiting_solution"
    assert tokens["refreshes"] >= 1
    assert "Completing activity as failed" not in printed
    assert "aliexpress token refresh failed" not in printed


def chromium() -> str:
    """Debian's Chromium (``make test`` installs it); never a downloaded browser build."""
    path = shutil.which("chromium")
    assert path is not None, "chromium is missing: `make test` installs it with apt-get"
    return path


def rendered(url: str) -> str:
    """The DOM of ``url`` after Chromium ran the page's scripts (the Temporal UI is an SPA)."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(  # noqa: S603 - Debian's chromium on our own page.
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    return result.stdout


async def test_the_temporal_ui_lists_demo_orders_filtered_by_state_in_a_browser(
    data_dir: Path,
) -> None:
    async with running(data_dir) as (stack, orders):
        locked = await visible(orders, f"{DEMO} AND OrderState = 'locked'", 2)
        expected = {r.workflow_id for r in locked}
        query = quote('OrderState = "locked"')
        url = f"http://127.0.0.1:{stack.ui_port}/namespaces/default/workflows?query={query}"
        page = await asyncio.to_thread(rendered, url)
        shown = set(re.findall(rf"order-{MARKETPLACE}-\d+", page))
        assert shown == expected
        assert f"order-{MARKETPLACE}-8800000008" not in shown  # completed, not locked
        assert await stop(stack) == 0
