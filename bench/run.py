"""The repetitions: every measured phase once per repetition, interleaved, steal recorded."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from statistics import median
from typing import TypeVar

from temporalio.client import Client, WorkflowHistory

from bench import ingest, memory, paths, pollsim, replay
from bench.children import WorkerProcess
from bench.history import actions
from bench.procs import CpuTicks
from bench.report import Samples
from workers.orders import Orders

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    """How much each repetition does."""

    workflows: int = 30
    hooks: int = 60
    open_orders: int = 1_000
    parcels: int = 1_000


@dataclass
class Run:
    """Samples of every figure, filled one repetition at a time."""

    client: Client
    address: str
    bare: WorkerProcess
    order: WorkerProcess
    activities: int
    local: int
    """Of the order's ``activities``, those it runs as local activities."""
    sizes: Sizes
    ingest_queue: str
    samples: defaultdict[str, Samples] = field(default_factory=lambda: defaultdict(Samples))

    async def _timed(self, call: Callable[[], Awaitable[T]]) -> tuple[T, float]:
        gc.collect()
        before = CpuTicks.now()
        result = await call()
        return result, before.steal_share(CpuTicks.now())

    def _paths(self, prefix: str, batch: paths.Batch, cpu: float, steal: float) -> None:
        self.samples[f"{prefix}_per_s"].add(batch.per_second, steal)
        self.samples[f"{prefix}_cpu_ms"].add(cpu * 1000 / batch.count, steal)
        self.samples[f"{prefix}_events"].add(_median_of(batch.histories, _events), steal)
        self.samples[f"{prefix}_actions"].add(_median_of(batch.histories, _actions), steal)

    async def _bare(self, *, same_kinds: bool = False) -> tuple[paths.Batch, float]:
        """Bare workflows running as many no-op activities as the order, all scheduled on the
        task queue; or, ``same_kinds``, as many of each kind (scheduled and local) as the order."""
        local = self.local if same_kinds else 0
        cpu = self.bare.cpu()
        batch, steal = await self._timed(
            lambda: paths.run_bare(
                self.client,
                self.bare.task_queue,
                self.sizes.workflows,
                self.activities - local,
                local,
            )
        )
        self._paths(
            "bare_same_kinds" if same_kinds else "bare", batch, self.bare.cpu() - cpu, steal
        )
        return batch, steal

    async def _orders(self) -> tuple[paths.Batch, float]:
        cpu = self.order.cpu()
        batch, steal = await self._timed(
            lambda: paths.run_orders(self.client, self.order.task_queue, self.sizes.workflows)
        )
        self._paths("order", batch, self.order.cpu() - cpu, steal)
        return batch, steal

    async def _hooks(self, seam: Orders) -> tuple[ingest.Ingestion, float]:
        async with ingest.hook_server(seam) as http:
            return await self._timed(
                lambda: ingest.measure(lambda: ingest.post_hook(http), self.sizes.hooks)
            )

    async def _direct(self, seam: Orders) -> tuple[ingest.Ingestion, float]:
        return await self._timed(
            lambda: ingest.measure(lambda: ingest.create_direct(seam), self.sizes.hooks)
        )

    async def repetition(self, rep: int, histories: list[WorkflowHistory]) -> None:
        """Every phase once; each pair compared in a ratio runs in alternating order (ABBA), so
        that a drift of the machine's load does not favour one side."""
        forward = rep % 2 == 0
        if forward:
            bare, steal_a = await self._bare()
            orders, steal_b = await self._orders()
            kinds, steal_k = await self._bare(same_kinds=True)
        else:
            kinds, steal_k = await self._bare(same_kinds=True)
            orders, steal_b = await self._orders()
            bare, steal_a = await self._bare()
        self.samples["order_vs_bare"].add(
            orders.per_second / bare.per_second, max(steal_a, steal_b)
        )
        self.samples["order_vs_bare_same_kinds"].add(
            orders.per_second / kinds.per_second, max(steal_k, steal_b)
        )

        seam = Orders(self.client, self.ingest_queue)
        if forward:
            (hooks, steal_h), (direct, steal_d) = await self._hooks(seam), await self._direct(seam)
        else:
            (direct, steal_d), (hooks, steal_h) = await self._direct(seam), await self._hooks(seam)
        for name, result, s in (("hooks", hooks, steal_h), ("direct", direct, steal_d)):
            self.samples[f"{name}_per_s"].add(result.per_second, s)
            self.samples[f"{name}_p50_ms"].add(result.percentile(50), s)
            self.samples[f"{name}_p99_ms"].add(result.percentile(99), s)
        self.samples["hooks_vs_direct"].add(
            hooks.per_second / direct.per_second, max(steal_h, steal_d)
        )

        rate, steal = await self._timed(lambda: replay.replay_rate(histories))
        self.samples["replay_per_s"].add(rate, steal)

        requests, steal = await self._timed(
            lambda: pollsim.one_cycle(self.client, self.sizes.parcels)
        )
        self.samples["sim_cycle_requests"].add(requests, steal)

        grown, steal = await self._timed(
            lambda: memory.rss_per_open_orders(self.client, self.address, self.sizes.open_orders)
        )
        self.samples["rss_mib_per_1000"].add(grown / 2**20 * 1_000 / self.sizes.open_orders, steal)


def _events(history: WorkflowHistory) -> float:
    return len(history.events)


def _actions(history: WorkflowHistory) -> float:
    return sum(actions(history).values())


def _median_of(histories: list[WorkflowHistory], of: Callable[[WorkflowHistory], float]) -> float:
    return median(of(h) for h in histories)
