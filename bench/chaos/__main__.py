"""``python -m bench.chaos [--seed N ...]``: chaos runs, one per seed; exit 1 if any fails."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
from dataclasses import asdict
from pathlib import Path

from bench.chaos.run import ChaosConfig, run
from workers.exits import exit_process
from workers.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    """Run each seed in turn; print each report, write them all as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, action="append", help="repeat for several runs")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--worker-kills", type=int, default=10)
    parser.add_argument("--server-restarts", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--spread", type=float, default=150.0)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--dropped-hooks", type=float, default=0.05, help="share of orders")
    parser.add_argument("--token-lifetime", type=float, default=30.0, help="seconds")
    parser.add_argument("--push-fault-rate", type=float, default=0.2)
    parser.add_argument("--json", type=Path, default=Path("bench/chaos-results.json"))
    parser.add_argument(
        "--keep", type=Path, help="keep each run's server and worker logs in KEEP/seed-N"
    )
    args = parser.parse_args(argv)
    configure_logging(level=logging.WARNING)  # the hook server's per-hook lines drown the report
    seeds = args.seed or [random.SystemRandom().randrange(1, 10**6)]
    reports = []
    for seed in seeds:
        print(f"chaos run: seed {seed} (rerun with --seed {seed})", flush=True)
        config = ChaosConfig(
            seed=seed,
            orders=args.orders,
            worker_kills=args.worker_kills,
            server_restarts=args.server_restarts,
            scale=args.scale,
            spread=args.spread,
            fault_rate=args.fault_rate,
            dropped_hooks=args.dropped_hooks,
            token_lifetime=args.token_lifetime,
            push_fault_rate=args.push_fault_rate,
        )
        workdir = args.keep / f"seed-{seed}" if args.keep else None
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
        report = asyncio.run(run(config, workdir))
        summary = report.summary()
        reports.append({**summary, "config": asdict(config)})
        verdict = "PASS" if report.passed else "FAIL"
        print(f"{verdict} seed {seed}: {json.dumps(summary, indent=2)}", flush=True)
    args.json.write_text(json.dumps(reports, indent=2) + "\n")
    return 0 if all(r["passed"] for r in reports) else 1


if __name__ == "__main__":
    exit_process(main(sys.argv[1:]))
