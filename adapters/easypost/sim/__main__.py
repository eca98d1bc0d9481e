"""Run the claims simulator alone: ``python -m adapters.easypost.sim --port 8703``."""

from __future__ import annotations

import argparse

import uvicorn

from adapters.easypost.sim.app import create_app
from adapters.easypost.sim.rules import usd
from adapters.easypost.sim.state import SimState


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the simulator until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m adapters.easypost.sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8703)
    parser.add_argument("--api-key", default="sim-easypost-key", help="the key clients must send")
    parser.add_argument(
        "--auto-insure", default=None, help="insure unknown parcels up to this USD amount"
    )
    parser.add_argument("--stall-seconds", type=float, default=5.0, help="an injected stall")
    parser.add_argument("--webhook-url", default=None, help="POST claim Events here")
    parser.add_argument("--webhook-secret", default="", help="the webhook's HMAC secret")
    args = parser.parse_args(argv)
    auto = usd("--auto-insure", args.auto_insure) if args.auto_insure else None
    state = SimState(
        args.api_key,
        auto_insure=auto,
        stall_seconds=args.stall_seconds,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
    )
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
