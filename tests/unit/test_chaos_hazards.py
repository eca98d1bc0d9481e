"""The chaos run's three integration hazards: the faulty pushes it makes, and the verdicts that
must fail a run when a scan is lost or doubled, a dropped hook's order is not discovery's, or a
call failed for a token."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.exceptions import ApplicationError

from adapters import carrier_sim
from adapters.platform_sim import Fault
from adapters.platform_sim.gateway import REFRESH_PATH
from adapters.platform_sim.rules import SimRefusal
from bench.chaos import hazards
from bench.chaos.market import (
    ACCESS_ENV,
    EXPIRES_ENV,
    REFRESH_ENV,
    ChaosMarket,
    CountingTokens,
    Grants,
)
from bench.chaos.pushes import FaultyPushes, PushFault
from bench.chaos.scripts import PATHS, Act, Plan, predict, scripted_scan, simulate, tracked_fact
from domain.order import Order, TimelineEntry
from workers.codec import data_converter
from workflows.messages import FactEnvelope

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
NUMBER = "RR123456785CN"
HOOKS, WORKER = "111@driver", "222@worker"
COMPLETED = next(p for p in PATHS if p.name == "completed")
FIND = "aliexpress.trade.new.redefining.findorderbyid"


def carrier_with_scans(count: int) -> carrier_sim.SimState:
    """A carrier simulator whose one registered number shows ``count`` scans."""
    carrier = carrier_sim.SimState("token", lambda: T0 + timedelta(hours=1))
    carrier.register([{"number": NUMBER, "carrier": 3011, "tag": "order-aliexpress-1"}])
    scans = tuple(scripted_scan(Act.SCAN, T0 + timedelta(minutes=m)) for m in range(count))
    carrier.add_script(carrier_sim.ParcelScript(number=NUMBER, events=scans))
    return carrier


def hook_server(taken: list[list[str]], arrived: asyncio.Event | None = None) -> httpx.AsyncClient:
    """A hook server that records the scan times of every push it takes (and says so)."""

    def handle(request: httpx.Request) -> httpx.Response:
        data = json.loads(request.content)["data"]
        events = data["track_info"]["tracking"]["providers"][0]["events"]
        taken.append(sorted(e["time_utc"] for e in events))
        return httpx.Response(202, json={"status": "accepted"})

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def pushes(
    carrier: carrier_sim.SimState, http: httpx.AsyncClient, *kinds: PushFault
) -> FaultyPushes:
    """A pusher suffering one of ``kinds`` on every push (none given: no fault)."""
    return FaultyPushes(
        carrier,
        "http://hooks/hooks/17track",
        http,
        rate=1.0 if kinds else 0.0,
        rng=random.Random(1),  # noqa: S311 - reproducible draws
        kinds=kinds or tuple(PushFault),
    )


async def test_a_dropped_push_counts_as_pushed_and_reaches_nobody() -> None:
    taken: list[list[str]] = []
    carrier = carrier_with_scans(1)
    async with hook_server(taken) as http:
        faulty = pushes(carrier, http, PushFault.DROPPED)
        await faulty.round()
        await faulty.round()
    assert taken == []
    assert carrier.pushed == {NUMBER: 1}
    assert faulty.faults == {PushFault.DROPPED: 1}


async def test_a_duplicated_push_is_posted_twice() -> None:
    taken: list[list[str]] = []
    carrier = carrier_with_scans(1)
    async with hook_server(taken) as http:
        faulty = pushes(carrier, http, PushFault.DUPLICATED)
        await faulty.round()
    assert len(taken) == 2
    assert carrier.pushed == {NUMBER: 1}
    assert faulty.faults == {PushFault.DUPLICATED: 1}


async def test_a_reordered_push_posts_the_numbers_previous_snapshot_after_the_new_one() -> None:
    taken: list[list[str]] = []
    carrier = carrier_with_scans(1)
    async with hook_server(taken) as http:
        faulty = pushes(carrier, http, PushFault.REORDERED)
        faulty.rate = 0.0
        await faulty.round()  # the first snapshot, no fault
        carrier.add_script(
            carrier_sim.ParcelScript(
                number=NUMBER,
                events=(
                    scripted_scan(Act.SCAN, T0),
                    scripted_scan(Act.DELIVER, T0 + timedelta(minutes=5)),
                ),
            )
        )
        faulty.rate = 1.0
        await faulty.round()
    assert [len(t) for t in taken] == [1, 2, 1]  # the older snapshot arrived last
    assert faulty.faults == {PushFault.REORDERED: 1}


async def test_a_delayed_push_arrives_later_and_holds_its_numbers_next_push_back() -> None:
    taken: list[list[str]] = []
    carrier = carrier_with_scans(1)
    async with hook_server(taken) as http:
        faulty = pushes(carrier, http, PushFault.DELAYED)
        faulty.max_delay = 1.0
        loop = asyncio.get_running_loop()
        began = loop.time()
        await faulty.round()
        await faulty.round()  # its number's push is held back: not posted meanwhile
        assert (taken, carrier.pushed) == ([], {})
        await faulty.drain()
        arrived = loop.time() - began
    assert len(taken) == 1
    assert arrived >= 1.0
    assert carrier.pushed == {NUMBER: 1}


def plan_with_scans() -> tuple[Plan, str]:
    plan = Plan("5550001", "seller-1", COMPLETED, [NUMBER], 0.0, created_at=T0)
    event_id = tracked_fact("china_post", NUMBER, scripted_scan(Act.SCAN, T0)).event_id
    plan.scans.append((NUMBER, event_id))
    return plan, event_id


def order_with(entries: list[TimelineEntry], plan: Plan) -> Order:
    order = Order.new(plan.facts(T0, 1.0))
    return order.model_copy(update={"timeline": entries})


def test_a_scan_lost_or_on_its_order_twice_fails_the_run() -> None:
    plan, event_id = plan_with_scans()
    scan = TimelineEntry(
        at=T0, source="carrier", kind="scan", event_id=event_id, tracking_number=NUMBER
    )
    assert hazards.scan_problems(plan, order_with([scan], plan)) == []
    [lost] = hazards.scan_problems(plan, order_with([], plan))
    assert f"scan {event_id} of {NUMBER} on its timeline 0x" in lost
    [twice] = hazards.scan_problems(plan, order_with([scan, scan], plan))
    assert "on its timeline 2x" in twice


def event(event_id: int, kind: EventType.ValueType, identity: str = "") -> HistoryEvent:
    found = HistoryEvent(event_id=event_id, event_type=kind)
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        found.workflow_execution_started_event_attributes.identity = identity
    return found


async def signal(event_id: int, fact_id: str, identity: str) -> HistoryEvent:
    fact = tracked_fact("china_post", NUMBER, scripted_scan(Act.SCAN, T0))
    envelope = FactEnvelope(fact=fact.model_copy(update={"event_id": fact_id}))
    found = event(event_id, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
    attrs = found.workflow_execution_signaled_event_attributes
    attrs.signal_name, attrs.identity = "fact", identity
    attrs.input.payloads.extend(await data_converter(None).encode([envelope]))
    return found


async def test_each_scan_is_counted_once_by_the_way_it_first_reached_its_order() -> None:
    events = [
        await signal(1, "a", HOOKS),
        await signal(2, "a", WORKER),  # the poll after the push: the order already had it
        await signal(3, "b", WORKER),
        await signal(4, "b", HOOKS),  # a late or duplicated push
        await signal(5, "c", HOOKS),  # not one of the run's scans
    ]
    history = WorkflowHistory(workflow_id="order-aliexpress-1", events=events)
    routes = await hazards.scan_routes(history, ["a", "b"], HOOKS, data_converter(None))
    assert routes == {hazards.PUSH: 1, hazards.POLL: 1}


def test_a_dropped_hooks_order_must_be_started_by_discovery_and_run_once() -> None:
    plan, _ = plan_with_scans()
    plan.hook_dropped = True

    def started(identity: str) -> WorkflowHistory:
        first = event(1, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, identity)
        return WorkflowHistory(workflow_id="order-aliexpress-5550001", events=[first])

    assert hazards.discovery_problems(plan, started(WORKER), 1, HOOKS) == []
    [by_run] = hazards.discovery_problems(plan, started(HOOKS), 1, HOOKS)
    assert "its hook was dropped, yet discovery did not start it" in by_run
    [twice] = hazards.discovery_problems(plan, started(WORKER), 2, HOOKS)
    assert "2 workflow executions, not 1" in twice


async def test_an_activity_that_failed_for_a_token_fails_the_run() -> None:
    converter = data_converter(None)

    async def failed(message: str) -> HistoryEvent:
        found = event(7, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)
        failure = Failure()
        await converter.encode_failure(ApplicationError(message, non_retryable=True), failure)
        found.activity_task_failed_event_attributes.failure.CopyFrom(failure)
        return found

    token = await failed("IllegalAccessToken: The specified access token is invalid or expired")
    other = await failed("ORDER_STATUS_INVALID: order 1 is FINISH")
    history = WorkflowHistory(workflow_id="order-aliexpress-1", events=[token, other])
    [problem] = await hazards.token_failures(history, converter)
    assert problem.startswith("order-aliexpress-1: an activity failed for a token")
    assert hazards.refresh_token_deaths('{"event": "aliexpress refresh token expired"}\n') == 1


def test_the_market_never_loses_a_refresh_answer_and_counts_refused_tokens() -> None:
    market = ChaosMarket(app_key="k", app_secret="s", open_tokens=False)
    market.set_now(T0)
    tokens = CountingTokens(market.now, timedelta(seconds=30))
    market.tokens = tokens
    market.inject(REFRESH_PATH, Fault.EXECUTE_THEN_DROP)
    market.inject(FIND, Fault.EXECUTE_THEN_DROP)
    assert market.take_fault(REFRESH_PATH) is Fault.ERROR_5XX  # nothing refreshed
    assert market.take_fault(FIND) is Fault.EXECUTE_THEN_DROP
    grant = tokens.grant()
    market.advance(timedelta(seconds=31))
    assert not tokens.accepts(grant.access_token)
    tokens.refresh(grant.refresh_token)
    with pytest.raises(SimRefusal):
        tokens.refresh(grant.refresh_token)  # used once, retired
    assert (tokens.refused_access, tokens.refused_refresh, tokens.refreshes) == (1, 1, 1)


def test_each_worker_gets_a_fresh_grant_and_every_other_one_its_expiry() -> None:
    market = ChaosMarket(app_key="k", app_secret="s", open_tokens=False)
    market.set_now(T0)
    grants = Grants(market.tokens)
    first, second = grants.worker_env(), grants.worker_env()
    assert first[ACCESS_ENV] != second[ACCESS_ENV]
    assert first[REFRESH_ENV] != second[REFRESH_ENV]
    assert datetime.fromisoformat(first[EXPIRES_ENV]) > T0
    assert EXPIRES_ENV not in second  # it learns the expiry from the platform's refusal
    assert market.tokens.accepts(first[ACCESS_ENV])


def test_an_order_found_late_by_discovery_is_predicted_from_then_on_its_clocks_from_payment() -> (
    None
):
    window = next(p for p in PATHS if p.name == "locked_by_window")
    plan = Plan("5550002", "seller-1", window, [NUMBER], 0.0, created_at=T0)
    plan.lag = 60.0  # shipped 61 s after payment: its cancel window still closes before delivery
    assert predict(plan, T0, 1.0).deadlines == {"cancel_window": 1}
    order, _ = simulate(plan, T0, 1.0)
    assert order.shipment is not None
    assert order.shipment.uploaded_at == T0 + timedelta(seconds=61)
    plan.lag = 95.0  # after its handling time: the order was lost before the seller knew of it
    with pytest.raises(AssertionError, match="refused"):
        predict(plan, T0, 1.0)
