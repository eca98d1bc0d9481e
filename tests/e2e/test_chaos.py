"""The chaos run, small (issue 7): orders on every path (a lost parcel reshipped and claimed
too; a late scan of a withdrawn number; a solution rejected before its deadline and replaced,
and one rejected after it, decided by arbitration) through worker SIGKILLs, a dev-server kill
and restart on the same database file, and simulators injecting 5xx, 429, stalls and
execute-then-drop. Every dispute also ends on the marketplace simulator as on its order (its
own R14 rulings). ``make chaos`` runs the full one (300 orders, 10 kills, 3 restarts)."""

from __future__ import annotations

import pytest

from bench.chaos.run import ChaosConfig, run
from bench.chaos.scripts import PATHS

pytestmark = pytest.mark.temporal


async def test_a_small_chaos_run_loses_nothing_and_fires_each_deadline_once() -> None:
    config = ChaosConfig(
        seed=20261122,
        orders=3 * len(PATHS),
        worker_kills=2,
        server_restarts=1,
        scale=0.8,
        spread=12.0,
        fault_rate=0.15,
    )
    report = await run(config)
    summary = report.summary()
    assert report.failures == [], summary
    assert summary["orders"] == config.orders
    assert summary["paths"] == {**{p.name: 3 for p in PATHS}, "replacement": 3}
    assert summary["replacement_orders"] == 3  # each reship's parcel followed to delivery
    assert summary["claims_filed"] == 3  # one claim per lost parcel, through injected faults
    assert summary["worker_kills"] == 2
    assert summary["server_restarts"] == 1
    assert summary["simulator_faults"] > 0
    assert summary["side_effects"] >= 2 * config.orders // 3
    assert summary["deadlines_fired"] > 0
