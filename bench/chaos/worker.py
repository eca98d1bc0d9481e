"""A chaos-run worker in its own process (the one SIGKILL takes down), on the real adapters.

``python -m bench.chaos.worker ADDRESS TASK_QUEUE MARKET_URL CARRIER_URL CLAIMS_URL SCALE
TOKEN_MARGIN``: the AliExpress client against the marketplace simulator (the seller's grant
from ``PARCELFLOW_ALIEXPRESS_ACCESS_TOKEN``, ``_REFRESH_TOKEN`` and, when known,
``_TOKEN_EXPIRES_AT``; refreshed ``TOKEN_MARGIN`` seconds before expiry), the 17TRACK client
against the carrier simulator and the EasyPost claims client against the claims simulator, as
in production. Beside them it runs the order-discovery poller on its own task queue
(``discovery_queue``), so that the orders it starts get the run's clocks shortened by
``SCALE``: the run's own creation hooks carry those clocks, a platform's order list cannot.
Prints ``ready`` once polling, stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.discovery import DiscoveryActivities
from adapters.aliexpress.client import AliExpressClient
from adapters.easypost import EasyPostClaims
from adapters.seventeentrack.client import SeventeenTrackClient
from bench.chaos.market import ACCESS_ENV, EXPIRES_ENV, REFRESH_ENV
from bench.chaos.scripts import policy
from domain.events import Fact
from domain.order import OrderFacts
from domain.policy import Policy
from workers.config import TemporalSettings
from workers.exits import exit_process
from workers.logging import configure_logging
from workers.orders import Delivery, Orders
from workers.temporal_client import connect
from workers.worker import build_worker, stop_on_signals
from workflows.order_discovery import DiscoveryPollerWorkflow

MARKET_KEY, MARKET_SECRET = "chaos-app", "chaos-secret"
CARRIER_TOKEN = "chaos-token"  # noqa: S105 - the local simulator's token
CLAIMS_KEY = "chaos-easypost-key"
CARRIER_API = "/track/v2.2"
"""Where the carrier simulator serves 17TRACK's API (its base URL alone answers 404)."""
CLIENT_TIMEOUT = 2.0
"""Seconds before a marketplace call counts as stalled (the simulator's stalls last longer)."""
CONNECT_WITHIN = 45.0
"""Seconds to keep trying Temporal at start: the run may be restarting its server."""


def discovery_queue(task_queue: str) -> str:
    """The task queue of the run's order-discovery poller."""
    return f"{task_queue}-discovery"


@dataclass(frozen=True)
class RunClockStarts:
    """The hook's own idempotent start (``workers.orders.Orders``), giving each order the run's
    shortened clocks, as the run's creation hooks do."""

    orders: Orders
    policy: Policy

    async def create(self, facts: OrderFacts) -> Delivery:
        """Start the order's workflow once, on the run's clocks."""
        return await self.orders.create(facts.model_copy(update={"policy": self.policy}))

    async def send_fact(self, marketplace: str, order_id: str, fact: Fact) -> Delivery:
        """Deliver an outside fact."""
        return await self.orders.send_fact(marketplace, order_id, fact)


async def _connect(settings: TemporalSettings) -> Client:
    deadline = time.monotonic() + CONNECT_WITHIN
    while True:
        try:
            return await connect(settings)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _expiry() -> datetime | None:
    text = os.environ.get(EXPIRES_ENV, "")
    return datetime.fromisoformat(text) if text else None


async def serve(argv: list[str]) -> None:
    """Poll until SIGTERM (``argv``: the arguments the module docstring names)."""
    address, task_queue, market_url, carrier_url, claims_url, scale, token_margin = argv[:7]
    stop = stop_on_signals()
    client = await _connect(TemporalSettings(address=address, task_queue=task_queue))
    async with (
        AliExpressClient(
            market_url,
            MARKET_KEY,
            MARKET_SECRET,
            os.environ[ACCESS_ENV],
            supports_withdrawal=True,
            timeout=CLIENT_TIMEOUT,
            refresh_token=os.environ[REFRESH_ENV],
            token_expires_at=_expiry(),
            refresh_margin=timedelta(seconds=float(token_margin)),
        ) as platform,
        # The run's carrier simulator sets no rate limit: the client does not pace itself (its
        # pacing to 17TRACK's 3 a second is tested in tests/adapters).
        SeventeenTrackClient(
            f"{carrier_url}{CARRIER_API}",
            CARRIER_TOKEN,
            backoff=0.2,
            max_backoff=2.0,
            max_rate=None,
        ) as tracking,
        EasyPostClaims(
            claims_url,
            CLAIMS_KEY,
            carriers=["china_post"],
            contact_email="claims@chaos.example",
            timeout=CLIENT_TIMEOUT,
            backoff=0.2,
            max_backoff=2.0,
        ) as claims,
    ):
        starts = RunClockStarts(Orders(client, task_queue), policy(float(scale)))
        discovery = DiscoveryActivities(platform, starts)
        async with (
            build_worker(
                client, task_queue=task_queue, platform=platform, tracking=tracking, claims=claims
            ),
            Worker(
                client,
                task_queue=discovery_queue(task_queue),
                workflows=[DiscoveryPollerWorkflow],
                activities=[discovery.list_awaiting, discovery.check],
            ),
        ):
            print("ready", flush=True)
            await stop.wait()


if __name__ == "__main__":
    # Logs to stderr (the worker's log file): stdout is the pipe that says "ready".
    configure_logging("json", stream=sys.stderr, level=logging.WARNING)
    asyncio.run(serve(sys.argv[1:]))
    exit_process(0)  # past the Rust threads that can abort a finalizing interpreter
