"""``python -m bench``: every "Prove it" figure in one run on one local dev server."""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import structlog

from bench import paths, polling_model, replay
from bench.children import worker_process
from bench.history import actions, activities_run, path_costs
from bench.procs import CpuTicks, load_average
from bench.report import Figure, figure, grid, table, write
from bench.run import Run, Sizes
from bench.server import dev_server
from domain.polling import PollingPolicy

REPETITIONS = 5
RESULTS = Path(__file__).parent / "results.json"


def _quiet_logs() -> None:
    """Hook logs are rendered as in production (JSON) but written to /dev/null."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=sink),
    )
    logging.getLogger("temporalio").setLevel(logging.ERROR)


async def measure(sizes: Sizes) -> tuple[list[Figure], dict[str, object]]:
    """Start the server and workers, run the repetitions, build the figures."""
    histories = replay.committed()
    load_at_start = load_average()
    async with dev_server() as server:
        address, client = server.address, server.client
        async with (
            worker_process(address, "bench-bare", "bare") as bare,
            worker_process(address, "bench-order", "order") as order,
        ):
            warm = await paths.run_orders(client, order.task_queue, 1)
            happy: Counter[str] = actions(warm.histories[0])
            activities = activities_run(warm.histories[0])
            local = activities - happy["activities"]
            await paths.run_bare(client, bare.task_queue, 1, activities - local, local)
            run = Run(client, address, bare, order, activities, local, sizes, "bench-ingest")
            for rep in range(REPETITIONS):
                print(f"repetition {rep + 1}/{REPETITIONS}", file=sys.stderr, flush=True)
                await run.repetition(rep, histories)
    print("tracking model: 30 simulated days", file=sys.stderr, flush=True)
    before = CpuTicks.now()
    model = polling_model.thirty_days(sizes.parcels)
    steal = before.steal_share(CpuTicks.now())
    s = run.samples
    s["model_requests"].add(model.total, steal)
    s["model_baseline"].add(model.parcel_polls, steal)
    s["model_ratio"].add(model.ratio, steal)
    predicted = polling_model.first_cycle(sizes.parcels, PollingPolicy())
    figures = [
        figure("a", "(a) bare workflows completed", s["bare_per_s"], "/s"),
        figure("b", "(b) happy-path orders completed", s["order_per_s"], "/s"),
        figure(
            "b/a",
            "(b/a) orders vs bare",
            s["order_vs_bare"],
            "",
            target=">= 0.7",
            check=lambda v: v >= 0.7,
        ),
        figure(
            "a_same_kinds",
            "(a') bare, same kinds of activity",
            s["bare_same_kinds_per_s"],
            "/s",
        ),
        figure("b/a'", "(b/a') orders vs bare, same kinds", s["order_vs_bare_same_kinds"], ""),
        figure("c_hooks", "(c) order hooks accepted", s["hooks_per_s"], "/s"),
        figure("c_hooks_p50", "(c) hook latency p50", s["hooks_p50_ms"], "ms"),
        figure("c_hooks_p99", "(c) hook latency p99", s["hooks_p99_ms"], "ms"),
        figure("c_direct", "(c) direct Orders.create", s["direct_per_s"], "/s"),
        figure("c_direct_p50", "(c) direct latency p50", s["direct_p50_ms"], "ms"),
        figure("c_direct_p99", "(c) direct latency p99", s["direct_p99_ms"], "ms"),
        figure(
            "c",
            "(c) hooks vs direct",
            s["hooks_vs_direct"],
            "",
            target=">= 0.8",
            check=lambda v: v >= 0.8,
        ),
        figure("d_order", "(d) history events per order", s["order_events"], "events"),
        figure("d_bare", "(d) history events per bare workflow", s["bare_events"], "events"),
        figure("e_requests", "(e) tracking requests, 1,000 parcels, 30 d", s["model_requests"], ""),
        figure("e_baseline", "(e) one request per parcel poll", s["model_baseline"], ""),
        figure(
            "e",
            "(e) requests vs baseline",
            s["model_ratio"],
            "",
            target="<= 0.05",
            check=lambda v: v <= 0.05,
        ),
        figure(
            "e_sim",
            "(e) simulator: requests in one cycle",
            s["sim_cycle_requests"],
            "",
            target=f"= model {predicted}",
            check=lambda v: v == predicted,
        ),
        figure("f", "(f) committed histories replayed", s["replay_per_s"], "/s"),
        figure("g", "(g) worker RSS per 1,000 open orders", s["rss_mib_per_1000"], "MiB"),
        figure("h_order", "(h) worker CPU per order", s["order_cpu_ms"], "ms"),
        figure("h_bare", "(h) worker CPU per bare workflow", s["bare_cpu_ms"], "ms"),
        figure(
            "h_bare_same_kinds",
            "(h) worker CPU per bare, same kinds",
            s["bare_same_kinds_cpu_ms"],
            "ms",
        ),
        figure(
            "i_order",
            "(i) billable actions per order",
            s["order_actions"],
            "",
            target="<= 30",
            check=lambda v: v <= 30,
        ),
        figure("i_bare", "(i) billable actions per bare workflow", s["bare_actions"], ""),
    ]
    meta: dict[str, object] = {
        "at": datetime.now(UTC).isoformat(),
        "repetitions": REPETITIONS,
        "sizes": vars(sizes),
        "activities_per_happy_path": activities,
        "local_activities_per_happy_path": local,
        "happy_path_actions": dict(happy),
        "histories_replayed": len(histories),
        "model": vars(model),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load_at_start,
        "loadavg_at_end": load_average(),
        "python": platform.python_version(),
    }
    return figures, meta


def path_table(costs: dict[str, dict[str, int]]) -> str:
    """One line per path: events, billable actions and where they come from."""
    rows: list[tuple[str, ...]] = [("path (committed history)", "events", "actions", "of which")]
    for path, cost in costs.items():
        kinds = {k: v for k, v in cost.items() if k not in ("events", "actions")}
        rows.append((path, str(cost["events"]), str(cost["actions"]), _kinds(kinds)))
    return grid(rows)


SHORT = {
    "started": "start",
    "signals": "signal",
    "updates": "update",
    "activities": "activity",
    "local_activity_tasks": "local",
    "timers": "timer",
    "search_attribute_upserts": "upsert",
    "children": "child",
}
"""Short names for the table; the kinds not listed are actions caused in other workflows."""


def _kinds(kinds: dict[str, int]) -> str:
    here = [f"{SHORT[k]} {kinds[k]}" for k in SHORT if kinds.get(k)]
    elsewhere = sum(v for k, v in kinds.items() if k not in SHORT)
    return ", ".join(here + ([f"elsewhere {elsewhere}"] if elsewhere else []))


def main() -> None:
    """Run, print the table, write ``bench/results.json``."""
    _quiet_logs()
    started = time.perf_counter()
    figures, meta = asyncio.run(measure(Sizes()))
    meta["seconds"] = round(time.perf_counter() - started, 1)
    print(table(figures))
    costs = path_costs(replay.current())
    meta["paths"] = costs
    print("\n(d) and (i) on every path\n" + path_table(costs))
    flagged = [f.key for f in figures if f.flagged]
    print(f"\nCPU steal > 1 % in: {', '.join(flagged)}" if flagged else "\nno CPU steal flagged")
    write(RESULTS, figures, meta)
    print(f"{RESULTS} written in {meta['seconds']} s")


if __name__ == "__main__":
    main()
