"""One chaos run: drive the orders, kill and restart things on a seeded schedule, then check.

Orders are created by the seller-side client (their creation carries the shortened clocks),
outside facts arrive as signed hooks at the real hook server, seller commands are workflow
updates with fixed update ids (a retry after a lost answer is the same update). The driver
retries whatever the outages make fail, as a marketplace's webhook sender and a seller's
script would.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from adapters import carrier_sim, platform_sim
from adapters.asgi_server import free_port, serve_in_thread
from adapters.easypost import sim as claims_sim
from adapters.platform_sim.rules import SimRefusal, SimRules
from bench.chaos import hazards
from bench.chaos.check import OrderCheck, check_order, market_disagrees
from bench.chaos.market import ChaosMarket, CountingTokens, Grants
from bench.chaos.pushes import FaultyPushes
from bench.chaos.scripts import (
    COMMANDS,
    PATHS,
    REPLACEMENT,
    REPORTED,
    Act,
    Plan,
    policy,
    scripted_scan,
    tracked_fact,
)
from bench.chaos.stack import DevServer, WorkerProcess, wait_until
from bench.chaos.worker import (
    CARRIER_TOKEN,
    CLAIMS_KEY,
    CLIENT_TIMEOUT,
    MARKET_KEY,
    MARKET_SECRET,
    discovery_queue,
)
from domain.events import (
    Event,
    ProposeSolution,
    RespondToDispute,
    UploadTracking,
    WithdrawTracking,
)
from domain.money import Money
from domain.order import OrderFacts, replacement_order_id
from domain.polling import PollingPolicy
from domain.tracking_numbers import s10_check_digit
from workers import hooks
from workers.config import TemporalSettings
from workers.orders import Orders
from workers.temporal_client import connect
from workers.webhook_signatures import sign
from workflows.messages import FactEnvelope, OrderOutcome, OrderView
from workflows.order import OrderWorkflow
from workflows.order_discovery import (
    DISCOVERY_POLLER_ID,
    DiscoveryPollerInput,
    DiscoveryPollerWorkflow,
)
from workflows.tracking_poller import POLLER_ID, PollerInput, TrackingPollerWorkflow

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
    dropped_hooks: float = 0.05
    """The share of orders whose creation hook the marketplace never sends (at least one):
    the discovery poller must find them."""
    late_hooks: float = 1 / 3
    """The share of those whose hook comes after all, once discovery has started the order."""
    discovery_every: float = 5.0
    """Seconds (before scaling) between discovery's listings, and its grace for a hook."""
    token_lifetime: float = 30.0
    """Seconds an access token lasts (not scaled): each worker refreshes a quarter before."""
    push_every: float = 1.0
    """Seconds between the carrier simulator's push rounds (not scaled)."""
    push_fault_rate: float = 0.2
    """The share of pushes dropped, duplicated, reordered or delayed."""
    poll_every: float = 10.0
    """Seconds (before scaling) between the fallback tracking poller's look-ups of a parcel:
    a scan whose push was dropped reaches its order within about this."""
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
    dropped_hooks: int = 0
    discovery_lag: float = 0.0
    """Seconds from its payment until discovery started an order whose hook never came, at most."""
    late_hooks: Counter[str] = field(default_factory=Counter)
    """The late hooks' answers (``accepted`` or ``already_processed``)."""
    token_grants: int = 0
    token_refreshes: int = 0
    token_refusals: int = 0
    """Calls the platform refused for an expired access token (each refreshed, sent again)."""
    push_faults: Counter[str] = field(default_factory=Counter)
    scans: Counter[str] = field(default_factory=Counter)
    """Scans the carrier simulator reported, by how each first reached its order."""
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
        if self.checks and self.token_refreshes == 0:
            out.append("no access token was refreshed: the tokens never expired in the run")
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
            "dropped_hooks": self.dropped_hooks,
            "max_discovery_lag_s": round(self.discovery_lag, 1),
            "late_hooks": dict(sorted(self.late_hooks.items())),
            "token_grants": self.token_grants,
            "token_refreshes": self.token_refreshes,
            "token_refusals": self.token_refusals,
            "push_faults": dict(sorted(self.push_faults.items())),
            "scans": sum(self.scans.values()),
            "scans_by_push": self.scans[hazards.PUSH],
            "scans_by_poll": self.scans[hazards.POLL],
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


def drop_hooks(config: ChaosConfig, the_plans: list[Plan]) -> list[Plan]:
    """Mark the orders whose creation hook is never sent, and those whose hook comes late;
    drawn from the run's seed apart from its other draws (the orders and kills stay as they
    were without this hazard)."""
    if not the_plans or config.dropped_hooks <= 0:
        return []
    rng = random.Random(f"dropped-hooks-{config.seed}")
    count = max(1, round(config.dropped_hooks * len(the_plans)))
    dropped = rng.sample(the_plans, min(count, len(the_plans)))
    for plan in dropped:
        plan.hook_dropped = True
    for plan in dropped[: round(config.late_hooks * len(dropped))]:
        plan.late_hook = True
    return dropped


@dataclass
class Driver:
    """Acts out the plans against the running system."""

    config: ChaosConfig
    client: Client
    orders: Orders
    market: platform_sim.SimState
    carrier: carrier_sim.SimState
    hooks_url: str
    http: httpx.AsyncClient
    t0: float = field(default_factory=time.monotonic)
    replacements: list[asyncio.Task[None]] = field(default_factory=list)
    late: list[asyncio.Task[str]] = field(default_factory=list)

    async def sleep_until(self, offset: float) -> None:
        """Sleep until ``offset`` seconds after the run's start."""
        await asyncio.sleep(max(0.0, self.t0 + offset - time.monotonic()))

    async def play(self, plan: Plan) -> None:
        """Create the order, then each step at its time (or as soon as the previous is done)."""
        await self.sleep_until(plan.start)
        created_at = datetime.now(UTC).replace(microsecond=0)
        plan.created_at = created_at
        facts = plan.facts(created_at, self.config.scale)
        eta = facts.eta or created_at
        self.market.add_order(plan.order_id, eta=eta, total=facts.total, seller_id=plan.seller_id)
        handle = self.client.get_workflow_handle(facts.workflow_id, result_type=OrderOutcome)
        if plan.hook_dropped:
            # No hook: the order exists once the discovery poller has listed it and started it.
            async def discovered() -> OrderFacts:
                found = await hazards.signalled(
                    self.client, handle.id, "created", OrderFacts, lambda _: True
                )
                if found is None:
                    raise _Retry(f"{handle.id} not discovered yet")
                return found

            started = await _retrying(discovered)
            assert isinstance(started, OrderFacts)
            plan.created_at = started.paid_at
            plan.lag = (datetime.now(UTC) - started.paid_at).total_seconds()
            if plan.late_hook:
                self.late.append(asyncio.create_task(self.late_hook(facts)))
        else:
            await _retrying(lambda: self.orders.create(facts))
        await self.steps(plan, handle)

    async def late_hook(self, facts: OrderFacts) -> str:
        """The dropped creation hook, delivered after all to the hook server (with the
        platform's default clocks: were it taken, the order would not end as predicted)."""
        hook = {
            "marketplace": facts.marketplace,
            "order_id": facts.order_id,
            "seller_id": facts.seller_id,
            "total": facts.total.model_dump(mode="json"),
            "paid_at": facts.paid_at.isoformat(),
            "eta": facts.eta.isoformat() if facts.eta else None,
            "platform_supports_withdrawal": facts.platform_supports_withdrawal,
        }
        answer = await self.post_signed("/hooks/orders", f"late:{facts.order_id}", hook)
        return str(answer.get("status", ""))

    async def steps(self, plan: Plan, handle: WorkflowHandle[Any, Any]) -> None:
        """Each step of ``plan`` at its offset from the order's creation, or from its discovery
        (or as soon as the previous one is done); a replacement's upload is its own first step,
        not ours."""
        assert plan.created_at is not None
        since = time.monotonic() - (datetime.now(UTC) - plan.created_at).total_seconds()
        for index, step in enumerate(plan.path.steps):
            if step.act is Act.SHIP and plan.replacement_of is not None:
                continue  # it ships itself, offline (R16)
            at = since + plan.lag + step.at * self.config.scale
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            await self.act(plan, handle, index)

    async def act(self, plan: Plan, handle: WorkflowHandle[Any, Any], index: int) -> None:
        """One step: a seller command as an update, a scan as the carrier reports it, or a
        fact as a signed hook."""
        act = plan.path.steps[index].act
        await self.tell_market(plan, index)
        if act in REPORTED:
            await self.carrier_reports(plan, handle, index)
            return
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

    async def carrier_reports(
        self, plan: Plan, handle: WorkflowHandle[Any, Any], index: int
    ) -> None:
        """The carrier simulator shows a scan of the step's number (its pushes and the
        tracking poller take it from there); the step is done once the order has been sent it
        (its history has the fact: what comes next is signalled after it)."""
        scan = scripted_scan(plan.path.steps[index].act, datetime.now(UTC).replace(microsecond=0))
        number = plan.number_at(index)
        event_id = tracked_fact(plan.carrier, number, scan).event_id
        known = self.carrier.scripts.get(number)
        earlier = known.events if known else ()
        self.carrier.add_script(
            carrier_sim.ParcelScript(number=number, carrier=plan.carrier, events=(*earlier, scan))
        )
        plan.scans.append((number, event_id))

        async def reached() -> None:
            sent = await hazards.signalled(
                self.client, handle.id, "fact", FactEnvelope, lambda f: f.fact.event_id == event_id
            )
            if sent is None:
                raise _Retry(f"scan {event_id} not sent to the order yet")

        await _retrying(reached)

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
        path = f"/hooks/marketplace/aliexpress/orders/{order_id}/events"
        await self.post_signed(path, str(getattr(event, "event_id", "")), event)

    async def post_signed(self, path: str, webhook_id: str, body: object) -> dict[str, Any]:
        """A hook as the marketplace sends it (Standard Webhooks), retried until taken; its
        answer."""
        content = (
            body.model_dump_json().encode()
            if isinstance(body, BaseModel)
            else json.dumps(body).encode()
        )

        async def deliver() -> dict[str, Any]:
            stamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign(HOOK_SECRET, webhook_id, stamp, content),
            }
            response = await self.http.post(
                f"{self.hooks_url}{path}", content=content, headers=headers
            )
            if response.status_code >= 500:
                raise _Retry(f"hook answered {response.status_code}")
            if response.status_code >= 300:
                msg = f"hook refused {response.status_code}: {response.text}"
                raise _Refused(msg)
            answer: dict[str, Any] = response.json()
            return answer

        answer = await _retrying(deliver)
        assert isinstance(answer, dict)
        return answer


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
    tokens: CountingTokens
    carrier: carrier_sim.SimState
    claims: claims_sim.SimState
    urls: list[str]

    @property
    def faults_drawn(self) -> int:
        """Calls that suffered a randomly drawn fault so far."""
        return self.market.faults_drawn.total() + self.carrier.faults_drawn


def simulators(config: ChaosConfig, stack: ExitStack) -> Simulators:
    """Start the three simulators, each with its own rules and injected faults; the
    marketplace's access tokens expire, the carrier's scans are shown on the wall clock."""
    rules = policy(config.scale)
    market = ChaosMarket(
        app_key=MARKET_KEY,
        app_secret=MARKET_SECRET,
        rules=SimRules(
            cancel_window=rules.cancel_window,
            first_response=rules.first_response,
            solution=rules.solution,
        ),
        fault_sleep=CLIENT_TIMEOUT + 1,
        open_tokens=False,
    )
    tokens = CountingTokens(market.now, timedelta(seconds=config.token_lifetime))
    market.tokens = tokens
    market.inject_randomly(config.fault_rate, config.seed)
    carrier = carrier_sim.SimState(CARRIER_TOKEN, lambda: datetime.now(UTC))
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
    return Simulators(market, tokens, carrier, claims, urls)


async def _run(config: ChaosConfig, tmp: Path, stack: ExitStack, report: Report) -> None:
    rng = random.Random(config.seed)
    server = DevServer(tmp / "temporal.db", free_port(), tmp / "temporal.log")
    server.start()
    stack.callback(server.stop)
    settings = TemporalSettings(address=server.address, task_queue=_task_queue(config))
    client = await _connect(settings)
    sims = simulators(config, stack)
    orders = Orders(client, settings.task_queue)
    app = hooks.create_app(orders, [HOOK_SECRET], seventeentrack_key=CARRIER_TOKEN)
    hooks_url = stack.enter_context(serve_in_thread(app))
    grants = Grants(sims.tokens)
    margin = config.token_lifetime / 4
    worker = WorkerProcess(
        server.address,
        settings.task_queue,
        [*sims.urls, str(config.scale), str(margin)],
        tmp / "worker.log",
        env=grants.worker_env,
    )
    await worker.start()
    stack.callback(worker.stop)
    await _start_pollers(config, client, settings.task_queue)
    the_plans = plans(config, rng)
    report.dropped_hooks = len(drop_hooks(config, the_plans))
    async with httpx.AsyncClient(timeout=10) as http:
        driver = Driver(config, client, orders, sims.market, sims.carrier, hooks_url, http)
        pushes = FaultyPushes(
            sims.carrier,
            f"{hooks_url}/hooks/17track",
            http,
            config.push_fault_rate,
            random.Random(config.seed + 3),
        )
        pushing = asyncio.create_task(pushes.run(config.push_every))
        keeper = asyncio.create_task(worker.keep_alive())
        killer = asyncio.create_task(
            chaos(config, rng, server=server, worker=worker, report=report, t0=driver.t0)
        )
        played = await asyncio.gather(*(driver.play(p) for p in the_plans), return_exceptions=True)
        followed = await asyncio.gather(*driver.replacements, return_exceptions=True)
        late = await asyncio.gather(*driver.late, return_exceptions=True)
        for plan, result in zip(the_plans, played, strict=True):
            if isinstance(result, BaseException):
                report.errors.append(f"{plan.order_id} ({plan.path.name}): {_why(result)}")
        report.errors.extend(f"a replacement: {_why(r)}" for r in followed if r is not None)
        failed = [r for r in late if isinstance(r, BaseException)]
        report.errors.extend(f"a late hook: {_why(r)}" for r in failed)
        report.late_hooks.update(r for r in late if isinstance(r, str))
        report.discovery_lag = max((p.lag for p in the_plans if p.hook_dropped), default=0.0)
        await killer
        everyone = [*the_plans, *(p.replacement for p in the_plans if p.replacement)]
        outcomes = await _outcomes(client, everyone, within=300 * config.scale + 60)
        keeper.cancel()
        pushing.cancel()
        await pushes.stop()
    report.unexpected_worker_exits = worker.unexpected_exits
    report.faults_injected = sims.faults_drawn
    report.push_faults.update({str(k): n for k, n in pushes.faults.items()})
    _count_tokens(report, sims, grants, (tmp / "worker.log").read_text(errors="replace"))
    await _verify(config, client, everyone=everyone, outcomes=outcomes, sims=sims, report=report)


def _count_tokens(report: Report, sims: Simulators, grants: Grants, worker_log: str) -> None:
    """The grants, refreshes and refusals of the run; a refused refresh token fails it."""
    report.token_grants = grants.issued
    report.token_refreshes = sims.tokens.refreshes
    report.token_refusals = sims.tokens.refused_access
    if refused := sims.tokens.refused_refresh:
        report.errors.append(f"the platform refused a refresh token {refused} times")
    if deaths := hazards.refresh_token_deaths(worker_log):
        report.errors.append(f"a worker's refresh token was refused {deaths} times (its log)")


async def _start_pollers(config: ChaosConfig, client: Client, task_queue: str) -> None:
    """The tracking poller, a fallback to pushes (every ``poll_every``), and the discovery
    poller (every ``discovery_every``, leaving an order that long to its hook) on its queue."""
    every = timedelta(seconds=config.poll_every * config.scale)
    polling = PollingPolicy(
        batch_size=40, cancel_window_every=every, in_transit_every=every, max_sleep=every
    )
    await client.start_workflow(
        TrackingPollerWorkflow.run,
        PollerInput(polling=polling),
        id=f"{POLLER_ID}-{task_queue}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    listing = timedelta(seconds=config.discovery_every * config.scale)
    await client.start_workflow(
        DiscoveryPollerWorkflow.run,
        DiscoveryPollerInput(every=listing, hook_grace=listing),
        id=f"{DISCOVERY_POLLER_ID}-{task_queue}",
        task_queue=discovery_queue(task_queue),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def _verify(
    config: ChaosConfig,
    client: Client,
    *,
    everyone: list[Plan],
    outcomes: dict[str, OrderOutcome | str],
    sims: Simulators,
    report: Report,
) -> None:
    """Each order (replacements too) against its prediction, its scans and its start, one
    claim per lost parcel, and no platform call failed for a token."""
    ledger = sims.market.ledger()
    converter = client.data_converter
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
        if outcome.order is not None:
            check.problems.extend(hazards.scan_problems(plan, outcome.order))
        scanned = [event_id for _, event_id in plan.scans]
        report.scans.update(await hazards.scan_routes(history, scanned, client.identity, converter))
        runs = (await client.count_workflows(f"WorkflowId = '{_wid(plan)}'")).count
        check.problems.extend(hazards.discovery_problems(plan, history, runs, client.identity))
        check.problems.extend(await hazards.token_failures(history, converter))
        report.checks.append(check)
    discovery = f"{DISCOVERY_POLLER_ID}-{_task_queue(config)}"
    poller = await client.get_workflow_handle(discovery).fetch_history()
    report.errors.extend(await hazards.token_failures(poller, converter))
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


def _task_queue(config: ChaosConfig) -> str:
    return f"chaos-{config.seed}"


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
