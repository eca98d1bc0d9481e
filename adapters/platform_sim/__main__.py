"""Run the marketplace simulator: ``python -m adapters.platform_sim --port 8702``."""

from __future__ import annotations

import argparse

import uvicorn

from adapters.platform_sim.app import create_app
from adapters.platform_sim.state import SimState


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the simulator until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m adapters.platform_sim")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument("--app-key", default="sim-app-key")
    parser.add_argument("--app-secret", default="sim-app-secret")
    parser.add_argument(
        "--fault-sleep", type=float, default=5.0, help="seconds an injected timeout sleeps"
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    args = parser.parse_args(argv)
    state = SimState(app_key=args.app_key, app_secret=args.app_secret, fault_sleep=args.fault_sleep)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
