"""Run the simulator alone: ``python -m adapters.carrier_sim --port 8701 --token dev-token``."""

from __future__ import annotations

import argparse

import uvicorn

from adapters.carrier_sim.app import create_app
from adapters.carrier_sim.state import SimState


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the simulator until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m adapters.carrier_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--token", default="dev-token", help="the 17token clients must send")
    parser.add_argument("--max-batch", type=int, default=40, help="numbers a request (17TRACK: 40)")
    parser.add_argument("--webhook-url", default=None, help="where POST /sim/push delivers")
    args = parser.parse_args(argv)
    state = SimState(args.token, max_batch=args.max_batch, webhook_url=args.webhook_url)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
