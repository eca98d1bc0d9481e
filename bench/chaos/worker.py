"""A chaos-run worker in its own process (the one SIGKILL takes down), on the real adapters.

``python -m bench.chaos.worker ADDRESS TASK_QUEUE MARKET_URL CARRIER_URL CLAIMS_URL``: the
AliExpress client against the marketplace simulator, the 17TRACK client against the carrier
simulator and the EasyPost claims client against the claims simulator, as in production.
Prints ``ready`` once polling, stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import sys

from adapters.aliexpress.client import AliExpressClient
from adapters.easypost import EasyPostClaims
from adapters.seventeentrack.client import SeventeenTrackClient
from workers.config import TemporalSettings
from workers.temporal_client import connect
from workers.worker import build_worker, exit_process, stop_on_signals

MARKET_KEY, MARKET_SECRET, MARKET_TOKEN = "chaos-app", "chaos-secret", "chaos-session"
CARRIER_TOKEN = "chaos-token"  # noqa: S105 - the local simulator's token
CLAIMS_KEY = "chaos-easypost-key"
CARRIER_API = "/track/v2.2"
"""Where the carrier simulator serves 17TRACK's API (its base URL alone answers 404)."""
CLIENT_TIMEOUT = 2.0
"""Seconds before a marketplace call counts as stalled (the simulator's stalls last longer)."""


async def serve(
    address: str, task_queue: str, market_url: str, carrier_url: str, claims_url: str
) -> None:
    """Poll until SIGTERM."""
    stop = stop_on_signals()
    client = await connect(TemporalSettings(address=address, task_queue=task_queue))
    async with (
        AliExpressClient(
            market_url,
            MARKET_KEY,
            MARKET_SECRET,
            MARKET_TOKEN,
            supports_withdrawal=True,
            timeout=CLIENT_TIMEOUT,
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
        build_worker(
            client, task_queue=task_queue, platform=platform, tracking=tracking, claims=claims
        ),
    ):
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:6]))
    exit_process(0)  # past the Rust threads that can abort a finalizing interpreter
