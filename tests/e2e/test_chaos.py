"""The chaos run, small (issue 7): orders on every path (a lost parcel reshipped and claimed
too; a late scan of a withdrawn number; a solution rejected before its deadline and replaced,
and one rejected after it, decided by arbitration) through worker SIGKILLs, a dev-server kill
and restart on the same database file, and simulators injecting 5xx, 429, stalls and
execute-then-drop. Every dispute also ends on the marketplace simulator as on its order (its
own R14 rulings). Three integration hazards too: orders whose creation hook never comes (the
discovery poller finds them; one hook arrives late and starts nothing), access tokens that
expire every 20 s (refreshed, no call failed for one), and scans pushed by the carrier
simulator with dropped, duplicated, reordered and delayed pushes (the tracking poller brings
the dropped ones; each scan reaches its order once). ``make chaos`` runs the full one (300
orders, 10 kills, 3 restarts)."""

from __future__ import annotations

import pytest

from bench.chaos.run import ChaosConfig, run
from bench.chaos.scripts import PATHS, REPLACEMENT, REPORTED

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
        dropped_hooks=0.1,
        token_lifetime=20.0,
        push_fault_rate=0.4,
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
    assert summary["dropped_hooks"] == 3  # each found by discovery and followed to its end
    assert summary["late_hooks"] in ({"accepted": 1}, {"already_processed": 1})
    assert summary["token_refreshes"] >= 3
    scanned = sum(s.act in REPORTED for p in (*PATHS, REPLACEMENT) for s in p.steps)
    assert summary["scans"] == 3 * scanned  # every scan reached its order, by push or by poll
    assert summary["scans"] == summary["scans_by_push"] + summary["scans_by_poll"]
    assert summary["scans_by_push"] > 0
    assert summary["scans_by_poll"] > 0  # a dropped push: the fallback poller brought its scan
    assert summary["push_faults"]["dropped"] > 0
