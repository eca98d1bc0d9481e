"""One chaos run: drive the orders, kill and restart things on a seeded schedule, then check.

Orders are created by the seller-side client (their creation carries the shortened clocks),
outside facts arrive as signed hooks at the real hook server, seller commands are workflow
updates with fixed update ids (a retry after a lost answer is the same update). The driver
retries whatever the outages make fail, as a marketplace's webhook sender and a seller's
script would.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from adapters import carrier_sim, platform_sim
from adapters.asgi_server import free_port, serve_in_thread
from adapters.easypost import sim as claims_sim
from adapters.platform_sim.rules import SimRefusal, SimRules
from bench.chaos.check import OrderCheck, check_order, market_disagrees
from bench.chaos.scripts import COMMANDS, PATHS, REPLACEMENT, Act, Plan, policy
from bench.chaos.stack import DevServer, WorkerProcess, wait_until
from bench.chaos.worker import (
    CARRIER_TOKEN,
    CLAIMS_KEY,
    CLIENT_TIMEOUT,
    MARKET_KEY,
    MARKET_SECRET,
)
from domain.events import (
    Event,
    ProposeSolution,
    RespondToDispute,
    UploadTracking,
    WithdrawTracking,
)
from domain.money import Money
from domain.order import replacement_order_id
from domain.tracking_numbers import s10_check_digit
from workers import hooks
from workers.config import TemporalSettings
from workers.orders import Orders
from workers.temporal_client import connect
from workers.webhook_signatures import sign
from workers.worker import ensure_tracking_poller
from workflows.messages import OrderOutcome, OrderView
from workflows.order import OrderWorkflow

HOOK_SECRET = "whsec_Y2hhb3MtcnVuLWhvb2stc2VjcmV0LWtleQ=="  # noqa: S105 - a throw-away local secret
SELLERS = 5
GIVE_UP_AFTER = 180.0
"""Seconds a single step keeps retrying through outages before the run reports it failed."""


@dataclass(frozen=True)
class ChaosConfig:
    """What to run: ``orders`` over all paths, ``worker_kills`` and ``server_restarts``."""

    seed: int
    orders: int = 300
    worker_kills: int = 10
    server_restarts: int = 3
    scale: float = 1.0
    """Every clock and script offset is multiplied by this (the suite's small run: < 1)."""
    spread: float = 150.0
    """Seconds over which the orders are created."""
    fault_rate: float = 0.1
    """The share of simulator calls that suffer an injected fault."""
    tolerance: float = 45.0
    """Seconds a deadline may be acted on after it fell due, when outages overlap: a server
    outage (up to 3 s, its restart, and the workers' poll back-off after it, up to ~10 s), a
    worker killed while holding the workflow task (the 5 s sticky-queue timeout and the 10 s
    task timeout) and the new worker's start (~3 s). Seen: up to 35 s in one of four runs."""


@dataclass
class Report:
    """What happened and whether it passed."""

    config: ChaosConfig
    seconds: float = 0.0
    worker_kills: int = 0
    server_restarts: int = 0
    unexpected_worker_exits: list[int] = field(default_factory=list)
    faults_injected: int = 0
    claims_filed: int = 0
    checks: list[OrderCheck] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """Every reason the run did not pass, one line each."""
        out = list(self.errors)
        out.extend(p for c in self.checks for p in c.problems)
        if self.worker_kills != self.config.worker_kills:
            out.append(f"{self.worker_kills} worker kills, {self.config.worker_kills} planned")
        if self.server_restarts != self.config.server_restarts:
            out.append(f"{self.server_restarts} restarts, {self.config.server_restarts} planned")
        return out

    @property
    def passed(self) -> bool:
        """Every order as predicted, one effect per key, every deadline once and in time."""
        return not self.failures

    def summary(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        lateness = [c.max_lateness for c in self.checks]
        by_path = Counter(c.path for c in self.checks)
        return {
            "seed": self.config.seed,
            "passed": self.passed,
            "orders": sum(1 for c in self.checks if c.path != REPLACEMENT.name),
            "replacement_orders": sum(1 for c in self.checks if c.path == REPLACEMENT.name),
            "paths": dict(sorted(by_path.items())),
            "worker_kills": self.worker_kills,
            "server_restarts": self.server_restarts,
            "unexpected_worker_exits": self.unexpected_worker_exits,
            "simulator_faults": self.faults_injected,
            "side_effects": sum(len(c.keys) for c in self.checks),
            "claims_filed": self.claims_filed,
            "deadlines_fired": sum(c.deadlines_fired for c in self.checks),
            "max_deadline_lateness_s": round(max(lateness, default=0.0), 2),
            "seconds": round(self.seconds, 1),
            "failures": self.failures,
        }


def s10(rng: random.Random, service: str = "RR") -> str:
    """A well-formed UPU S10 number drawn from the run's seeded generator."""
    serial = f"{rng.randrange(10_000_000, 100_000_000):08d}"
    return f"{service}{serial}{s10_check_digit(serial)}CN"


def plans(config: ChaosConfig, rng: random.Random) -> list[Plan]:
    """The run's orders: every path in turn, created at seeded moments across ``spread``."""
    run = f"{config.seed}{rng.randrange(10**6):06d}"
    out = []
    for i in range(config.orders):
        path = PATHS[i % len(PATHS)]
        numbers = [s10(rng) for s in path.steps if s.act is Act.SHIP]
        numbers += [s10(rng, "UG") for s in path.steps if s.act is Act.RESHIP]
        start = rng.uniform(0, config.spread)
        out.append(Plan(f"{run}{i:04d}", f"chaos-seller-{i % SELLERS}", path, numbers, start))
    return out


@dataclass
class Driver:
    """Acts out the plans against the running system."""

    config: ChaosConfig
    client: Client
    orders: Orders
    market: platform_sim.SimState
    hooks_url: str
    http: httpx.AsyncClient
    t0: float = field(default_factory=time.monotonic)
    replacements: list[asyncio.Task[None]] = field(default_factory=list)

    async def sleep_until(self, offset: float) -> None:
        """Sleep until ``offset`` seconds after the run's start."""
        await asyncio.sleep(max(0.0, self.t0 + offset - time.monotonic()))

    async def play(self, plan: Plan) -> None:
        """Create the order, then each step at its time (or as soon as the previous is done)."""
        await self.sleep_until(plan.start)
        created_at = datetime.now(UTC).replace(microsecond=0)
        plan.created_at = created_at
        facts = plan.facts(created_at, self.config.scale)
        self.market.add_order(plan.order_id, eta=facts.eta or created_at, total=facts.total)
        await _retrying(lambda: self.orders.create(facts))
        handle = self.client.get_workflow_handle(facts.workflow_id, result_type=OrderOutcome)
        await self.steps(plan, handle)

    async def steps(self, plan: Plan, handle: WorkflowHandle[Any, Any]) -> None:
        """Each step of ``plan`` at its offset from the order's creation (or as soon as the
        previous one is done); a replacement's upload is its own first step, not ours."""
        assert plan.created_at is not None
        since = time.monotonic() - (datetime.now(UTC) - plan.created_at).total_seconds()
        for index, step in enumerate(plan.path.steps):
            if step.act is Act.SHIP and plan.replacement_of is not None:
                continue  # it ships itself, offline (R16)
            await asyncio.sleep(max(0.0, since + step.at * self.config.scale - time.monotonic()))
            await self.act(plan, handle, index)

    async def act(self, plan: Plan, handle: WorkflowHandle[Any, Any], index: int) -> None:
        """One step: a seller command as an update, or a fact as a signed hook."""
        act = plan.path.steps[index].act
        await self.tell_market(plan, index)
        event = plan.event(index, datetime.now(UTC))
        if act in COMMANDS:
            await self.command(handle, event, f"{handle.id}:step:{index}")
        else:
            await self.hook(plan.order_id, event)
        if act is Act.RESHIP:
            child = Plan(
                replacement_order_id(plan.order_id, 1),
                plan.seller_id,
                REPLACEMENT,
                [plan.numbers[-1]],
                0.0,
                replacement_of=handle.id,
            )
            plan.replacement = child
            self.replacements.append(asyncio.create_task(self.follow(child)))

    async def tell_market(self, plan: Plan, index: int) -> None:
        """What the buyer, the carrier or the platform did, as the marketplace simulator learns
        it (before the hook tells the order), so that its ledger and its own rulings (R14)
        agree with the workflow's."""
        act = plan.path.steps[index].act
        market = self.market
        if act is Act.DISPUTE and plan.dispute_id is None:
            plan.dispute_id = market.open_dispute(plan.order_id).dispute_id
        if act in (Act.SCAN, Act.OLD_SCAN) and plan.replacement_of is None:
            # A scan names its number: the platform locks only that one (an old one: none).
            market.mark_scan(plan.order_id, plan.number_at(index))
        dispute_id = plan.dispute_id or ""
        if act is Act.ACCEPT:
            await _retrying(_sync(lambda: market.buyer_accepts(dispute_id)))
        if act is Act.REJECT:
            await _retrying(_sync(lambda: market.buyer_rejects(dispute_id)))
        if act is Act.VERDICT:
            await _retrying(_sync(lambda: market.arbitrate(dispute_id, for_seller=True)))

    async def follow(self, child: Plan) -> None:
        """Deliver a replacement parcel: the order it replaces started it (and shipped it)."""
        handle = self.client.get_workflow_handle(_wid(child), result_type=OrderOutcome)

        async def started() -> OrderView:
            return await handle.query(OrderWorkflow.view)

        view = await _retrying(started)
        assert isinstance(view, OrderView)
        child.created_at = view.order.facts.paid_at
        await self.steps(child, handle)

    async def command(self, handle: WorkflowHandle[Any, Any], event: Event, update_id: str) -> None:
        """A seller command; the same update id on every retry (Temporal runs it once)."""
        call: Callable[[], Awaitable[object]]
        match event:
            case UploadTracking():
                ship = event
                call = lambda: handle.execute_update(  # noqa: E731
                    OrderWorkflow.upload_tracking, ship, id=update_id
                )
            case WithdrawTracking():
                call = lambda: handle.execute_update(  # noqa: E731
                    OrderWorkflow.withdraw_tracking, id=update_id
                )
            case RespondToDispute():
                answer = event
                call = lambda: handle.execute_update(  # noqa: E731
                    OrderWorkflow.respond_to_dispute, answer, id=update_id
                )
            case ProposeSolution():
                offer = event
                call = lambda: handle.execute_update(  # noqa: E731
                    OrderWorkflow.propose_solution, offer, id=update_id
                )
            case _:
                msg = f"{event.kind} is not a seller command"
                raise TypeError(msg)
        await _retrying(call)

    async def hook(self, order_id: str, event: Event) -> None:
        """A fact as the marketplace delivers it: signed, retried until taken."""
        body = event.model_dump_json().encode()
        event_id = str(getattr(event, "event_id", ""))
        url = f"{self.hooks_url}/hooks/marketplace/aliexpress/orders/{order_id}/events"

        async def deliver() -> None:
            stamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": event_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(HOOK_SECRET, event_id, stamp, body),
            }
            response = await self.http.post(url, content=body, headers=headers)
            if response.status_code >= 500:
                raise _Retry(f"hook answered {response.status_code}")
            if response.status_code >= 300:
                msg = f"hook refused {response.status_code}: {response.text}"
                raise _Refused(msg)

        await _retrying(deliver)


class _Retry(Exception):
    """A failure worth retrying (an outage)."""


class _Refused(Exception):
    """A refusal: retrying would not help, the run reports it."""


def _sync(fn: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def call() -> object:
        try:
            return fn()
        except SimRefusal as refused:
            raise _Retry(str(refused)) from refused

    return call


async def _retrying(call: Callable[[], Awaitable[object]]) -> object:
    """``call`` until it succeeds, through outages; refusals are not retried."""
    deadline = time.monotonic() + GIVE_UP_AFTER
    while True:
        try:
            return await call()
        except WorkflowUpdateFailedError:
            raise
        except (
            RPCError,
            WorkflowQueryFailedError,
            WorkflowUpdateRPCTimeoutOrCancelledError,
            httpx.TransportError,
            _Retry,
            RuntimeError,
        ):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def schedule(config: ChaosConfig, rng: random.Random) -> list[tuple[float, str]]:
    """When to kill what: worker kills anywhere in the busy part, server kills apart."""
    busy = config.spread + 150 * config.scale
    events = [(rng.uniform(2, busy), "worker") for _ in range(config.worker_kills)]
    gap = busy / (config.server_restarts + 1)
    events += [
        (gap * (n + 1) + rng.uniform(-gap / 4, gap / 4), "server")
        for n in range(config.server_restarts)
    ]
    return sorted(events)


async def chaos(
    config: ChaosConfig,
    rng: random.Random,
    *,
    server: DevServer,
    worker: WorkerProcess,
    report: Report,
    t0: float,
) -> None:
    """Kill the worker and the dev server on the seeded schedule, restarting each."""
    for at, what in schedule(config, rng):
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        if what == "worker":
            worker.kill()
            await asyncio.sleep(rng.uniform(0.2, 2.0))
            await worker.start()
            report.worker_kills += 1
        else:
            server.kill()
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            server.start()
            report.server_restarts += 1


async def run(config: ChaosConfig, workdir: Path | None = None) -> Report:
    """Run the whole chaos scenario; the report says whether it passed and why not."""
    report = Report(config)
    began = time.monotonic()
    with ExitStack() as stack:
        tmp = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        await _run(config, tmp, stack, report)
    report.seconds = time.monotonic() - began
    return report


@dataclass(frozen=True)
class Simulators:
    """The marketplace, carrier and claims simulators of a run, serving on local ports."""

    market: platform_sim.SimState
    carrier: carrier_sim.SimState
    claims: claims_sim.SimState
    urls: list[str]

    @property
    def faults_drawn(self) -> int:
        """Calls that suffered a randomly drawn fault so far."""
        return self.market.faults_drawn.total() + self.carrier.faults_drawn


def simulators(config: ChaosConfig, stack: ExitStack) -> Simulators:
    """Start the three simulators, each with its own rules and injected faults."""
    rules = policy(config.scale)
    market = platform_sim.SimState(
        app_key=MARKET_KEY,
        app_secret=MARKET_SECRET,
        rules=SimRules(
            cancel_window=rules.cancel_window,
            first_response=rules.first_response,
            solution=rules.solution,
        ),
        fault_sleep=CLIENT_TIMEOUT + 1,
    )
    market.inject_randomly(config.fault_rate, config.seed)
    carrier = carrier_sim.SimState(CARRIER_TOKEN)
    carrier.inject_randomly(
        config.fault_rate,
        config.seed + 1,
        [
            carrier_sim.Fault(1, status=503),
            carrier_sim.Fault(1, status=429, retry_after=1),
            carrier_sim.Fault(1, delay=3.0),
        ],
    )
    claims = claims_sim.SimState(CLAIMS_KEY, auto_insure=Money(minor=100_00), stall_seconds=3)
    for endpoint, fault in (
        ("create", claims_sim.Fault.EXECUTE_THEN_DROP),
        ("create", claims_sim.Fault.ERROR_5XX),
        ("list", claims_sim.Fault.RATE_LIMITED),
        ("create", claims_sim.Fault.STALL),
    ):
        claims.inject(endpoint, fault, count=2)
    apps = (
        platform_sim.create_app(market),
        carrier_sim.create_app(carrier),
        claims_sim.create_app(claims),
    )
    urls = [stack.enter_context(serve_in_thread(app)) for app in apps]
    return Simulators(market, carrier, claims, urls)


async def _run(config: ChaosConfig, tmp: Path, stack: ExitStack, report: Report) -> None:
    rng = random.Random(config.seed)
    server = DevServer(tmp / "temporal.db", free_port(), tmp / "temporal.log")
    server.start()
    stack.callback(server.stop)
    settings = TemporalSettings(address=server.address, task_queue=f"chaos-{config.seed}")
    client = await _connect(settings)
    sims = simulators(config, stack)
    orders = Orders(client, settings.task_queue)
    app = hooks.create_app(orders, [HOOK_SECRET], seventeentrack_key=None)
    hooks_url = stack.enter_context(serve_in_thread(app))
    worker = WorkerProcess(server.address, settings.task_queue, sims.urls, tmp / "worker.log")
    await worker.start()
    stack.callback(worker.stop)
    await ensure_tracking_poller(client, settings.task_queue, batch_size=40)
    the_plans = plans(config, rng)
    async with httpx.AsyncClient(timeout=10) as http:
        driver = Driver(config, client, orders, sims.market, hooks_url, http)
        keeper = asyncio.create_task(worker.keep_alive())
        killer = asyncio.create_task(
            chaos(config, rng, server=server, worker=worker, report=report, t0=driver.t0)
        )
        played = await asyncio.gather(*(driver.play(p) for p in the_plans), return_exceptions=True)
        followed = await asyncio.gather(*driver.replacements, return_exceptions=True)
        for plan, result in zip(the_plans, played, strict=True):
            if isinstance(result, BaseException):
                report.errors.append(f"{plan.order_id} ({plan.path.name}): {_why(result)}")
        report.errors.extend(f"a replacement: {_why(r)}" for r in followed if r is not None)
        await killer
        everyone = [*the_plans, *(p.replacement for p in the_plans if p.replacement)]
        outcomes = await _outcomes(client, everyone, within=300 * config.scale + 60)
        keeper.cancel()
    report.unexpected_worker_exits = worker.unexpected_exits
    report.faults_injected = sims.faults_drawn
    await _verify(config, client, everyone=everyone, outcomes=outcomes, sims=sims, report=report)


async def _verify(
    config: ChaosConfig,
    client: Client,
    *,
    everyone: list[Plan],
    outcomes: dict[str, OrderOutcome | str],
    sims: Simulators,
    report: Report,
) -> None:
    """Each order (replacements too) against its prediction, and one claim per lost parcel."""
    ledger = sims.market.ledger()
    for plan in everyone:
        outcome = outcomes.get(plan.order_id)
        if not isinstance(outcome, OrderOutcome):
            report.errors.append(f"{plan.order_id} ({plan.path.name}) did not end: {outcome}")
            continue
        if plan.dispute_id is None and any(s.act is Act.DISPUTE for s in plan.path.steps):
            report.errors.append(f"{plan.order_id} ({plan.path.name}) never opened its dispute")
            continue
        history = await client.get_workflow_handle(_wid(plan)).fetch_history()
        check = check_order(
            plan, outcome, history, ledger=ledger, scale=config.scale, tolerance=config.tolerance
        )
        dispute = sims.market.disputes.get(plan.dispute_id or "")
        if dispute is not None:
            dispute = sims.market.dispute(dispute.dispute_id)  # its deadlines evaluated now
        if disagreement := market_disagrees(plan, outcome.state, dispute):
            check.problems.append(disagreement)
        report.checks.append(check)
    for plan in everyone:
        if plan.replacement is not None:
            lost = plan.numbers[0]
            filed = len(sims.claims.filings(lost))
            report.claims_filed += filed
            if filed != 1:
                report.errors.append(f"{plan.order_id}: {filed} claims filed on {lost}, not 1")


def _why(error: BaseException) -> str:
    """An error with its cause (an update's refusal names its reason only in its cause)."""
    cause = error.cause if isinstance(error, WorkflowUpdateFailedError) else None
    return f"{error!r}: {cause}" if cause is not None else repr(error)


def _wid(plan: Plan) -> str:
    return f"order-aliexpress-{plan.order_id}"


async def _connect(settings: TemporalSettings) -> Client:
    found: list[Client] = []

    async def probe() -> None:
        client = await connect(settings)
        await client.count_workflows()
        found.append(client)

    await wait_until(probe)
    return found[0]


async def _outcomes(
    client: Client, the_plans: list[Plan], within: float
) -> dict[str, OrderOutcome | str]:
    """Each order's workflow result, waiting at most ``within`` seconds in all."""
    deadline = time.monotonic() + within

    async def one(plan: Plan) -> OrderOutcome | str:
        handle = client.get_workflow_handle(_wid(plan), result_type=OrderOutcome)
        while time.monotonic() < deadline:
            try:
                left = max(1.0, deadline - time.monotonic())
                return await asyncio.wait_for(handle.result(), timeout=left)
            except TimeoutError:
                break
            except RPCError:
                await asyncio.sleep(0.5)
        return "still running at the end of the run"

    results = await asyncio.gather(*(one(p) for p in the_plans))
    return {p.order_id: r for p, r in zip(the_plans, results, strict=True)}
