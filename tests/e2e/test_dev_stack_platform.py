"""``parcelflow dev`` with its simulators behaving as the real services do: orders whose hook
never came are found and followed to their end, the platform's auto-confirmation ends an order,
a claim's status reaches its claim by EasyPost's signed webhook, and a dead refresh token turns
the worker's health check red while the worker runs on.

The stack runs on real time with the demo's short periods (the discovery poller's rounds are
seconds apart); the orders here keep the platform's own clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from temporalio.client import WorkflowHandle
from typer.testing import CliRunner

from domain.claims import Claim, ClaimState
from domain.disputes import Solution, SolutionKind
from domain.money import Money
from domain.states import OrderState
from tests.e2e.test_dev_stack import DevStack, running, stop
from tests.numbers import fresh_s10
from workers.cli import app as cli
from workers.demo import MARKETPLACE
from workers.dev import DISCOVERY
from workers.orders import OrderNotFound, Orders
from workflows.carrier_claim import CarrierClaimWorkflow, claim_workflow_id
from workflows.messages import OrderView

pytestmark = pytest.mark.temporal
V = TypeVar("V")
STORE = "store-without-hooks"
runner = CliRunner()


@pytest.fixture(scope="module")
async def dev(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[DevStack, Orders]]:
    """One demo stack for the stories that leave the platform's tokens alone."""
    async with running(tmp_path_factory.mktemp("dev") / "data") as (stack, orders):
        yield stack, orders
        await stop(stack)


async def eventually(
    read: Callable[[], Awaitable[V]], check: Callable[[V], bool], within: float = 30.0
) -> V:
    """The first answer of ``read`` that passes ``check`` (the stack moves on its own)."""
    async with asyncio.timeout(within):
        while True:
            with contextlib.suppress(OrderNotFound):  # not started yet: ask again
                if check(answer := await read()):
                    return answer
            await asyncio.sleep(0.2)


async def parcelflow(stack: DevStack, *args: str) -> Any:
    """The CLI as a user runs it against the stack (``--json``); its parsed output."""
    env = {"PARCELFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{stack.port}", "PARCELFLOW_TASK_QUEUE": None}
    result = await asyncio.to_thread(runner.invoke, cli, ["--json", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wire(value: Any) -> Any:
    """``value`` with its times in ISO 8601, as the simulators' admin APIs take them."""
    return json.loads(json.dumps(value, default=datetime.isoformat))


async def sim_now(market: httpx.AsyncClient) -> datetime:
    """The marketplace simulator's clock: the stack's own time."""
    return datetime.fromisoformat((await market.get("/sim/clock")).json()["now"])


async def test_orders_whose_hook_never_came_are_found_delivered_and_ended_by_the_platform(
    dev: tuple[DevStack, Orders],
) -> None:
    stack, orders = dev
    confirmed, auto_confirmed = (str(7_700_000_000 + uuid.uuid4().int % 10**8) for _ in "ab")
    numbers = {confirmed: fresh_s10(), auto_confirmed: fresh_s10()}
    async with (
        httpx.AsyncClient(base_url=stack.url("marketplace")) as market,
        httpx.AsyncClient(base_url=stack.url("carrier")) as carrier,
    ):
        now = (await sim_now(market)).replace(microsecond=0)  # the platform's times are whole s
        for order_id in numbers:  # paid an hour ago; no order-created hook is ever sent
            paid_at, eta = now - timedelta(hours=1), now + timedelta(days=15)
            order = {"order_id": order_id, "seller_id": STORE, "paid_at": paid_at, "eta": eta}
            added = await market.post("/sim/orders", json=wire(order))
            assert added.status_code == 201, added.text

        async def reached(order_id: str, check: Callable[[OrderView], bool]) -> OrderView:
            return await eventually(lambda: orders.view(MARKETPLACE, order_id), check)

        # The discovery poller lists them, finds no workflow, and starts each as the hook would.
        started = await asyncio.gather(*(reached(o, lambda _: True) for o in numbers))
        for view in started:
            assert (view.state, view.order.facts.seller_id) == (OrderState.AWAITING_SHIPMENT, STORE)
            assert view.order.facts.paid_at == now - timedelta(hours=1)

        for order_id, number in numbers.items():
            shipped = await parcelflow(stack, "ship", MARKETPLACE, order_id, "china_post", number)
            assert shipped["order"]["state"] == "shipped"
            uploaded = datetime.fromisoformat(shipped["order"]["shipment"]["uploaded_at"])
            # The carrier picks the parcel up and delivers it; its pushes carry the scans.
            script = {
                "number": number,
                "events": [
                    {"at": uploaded + timedelta(seconds=1), "sub_status": "InTransit_PickedUp"},
                    {"at": uploaded + timedelta(seconds=2), "sub_status": "Delivered_Other"},
                ],
            }
            await carrier.post("/sim/scripts", json=wire(script))
        await asyncio.sleep(2)
        await carrier.post("/sim/clock", json={"now": (await sim_now(market)).isoformat()})
        delivered = [reached(o, lambda v: v.state is OrderState.DELIVERED) for o in numbers]
        await asyncio.gather(*delivered)

        # The buyer confirms one; the other's confirm-receipt countdown ends (the simulator
        # ends it at the ETA) and the platform confirms it for the buyer.
        assert (await market.post(f"/sim/orders/{confirmed}/confirm")).status_code == 200
        ended = await market.post(
            f"/sim/orders/{auto_confirmed}/eta", json={"eta": (await sim_now(market)).isoformat()}
        )
        assert ended.json()["end_reason"] == "buyer_accept_goods_timeout"
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(orders.handle(MARKETPLACE, o).result() for o in numbers)),
            timeout=30,
        )
        finished = [
            e
            for e in (await market.get("/sim/ledger")).json()["entries"]
            if e["kind"] == "order_finished"
        ]

    assert [outcome.state for outcome in outcomes] == [OrderState.COMPLETED] * 2
    for order_id, number in numbers.items():
        shown = await parcelflow(stack, "show", MARKETPLACE, order_id)
        timeline = [
            (e["source"], e["kind"], e["tracking_number"]) for e in shown["order"]["timeline"]
        ]
        assert shown["order"]["state"] == "completed"
        assert timeline[:3] == [
            ("seller", "tracking_uploaded", ""),
            ("carrier", "scan", number),  # pushed by the carrier simulator, through its tag
            ("carrier", "delivered", number),
        ]
        # Read back from the platform: the buyer's word, or the platform's countdown.
        by = "platform" if order_id == auto_confirmed else "buyer"
        assert timeline[-1][:2] == (by, "buyer_confirmed")
    assert {e["order_id"]: e["detail"]["end_reason"] for e in finished} == {
        confirmed: "buyer_confirm_goods",
        auto_confirmed: "buyer_accept_goods_timeout",
    }


async def test_a_claims_status_change_reaches_its_claim_by_the_simulators_signed_webhook(
    dev: tuple[DevStack, Orders],
) -> None:
    stack, orders = dev
    lost = "RR100000065CN"  # the parcel of demo order 8800000006, whose buyer says it never came
    reship = Solution(
        kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=fresh_s10("UG")
    )
    await orders.propose(MARKETPLACE, "8800000006", reship)
    claim: WorkflowHandle[CarrierClaimWorkflow, Claim] = orders.client.get_workflow_handle_for(
        CarrierClaimWorkflow.run, claim_workflow_id("china_post", lost)
    )
    filed = await eventually(
        lambda: claim.query(CarrierClaimWorkflow.view),
        lambda view: view.claim.state is ClaimState.FILED,
    )
    reference = filed.claim.claim_ref
    async with httpx.AsyncClient(base_url=stack.url("claims")) as desk:
        settled = await desk.post(
            f"/sim/claims/{reference}/settle", json={"outcome": "approved", "amount": "20.00"}
        )
        paid: Claim = await asyncio.wait_for(claim.result(), timeout=10)
        deliveries = (await desk.get("/sim/webhooks")).json()["deliveries"]

    assert settled.status_code == 200, settled.text
    assert (paid.state, paid.paid_amount) == (ClaimState.PAID, Money(minor=20_00))
    assert paid.checks == 0  # no follow-up read: the webhook told it (the next is days away)
    approved = [d for d in deliveries if d["claim_id"] == reference]
    assert [(d["description"], d["status"]) for d in approved][-1] == ("claim.approved", 202)
    assert all(d["status"] in {200, 202} for d in approved), approved  # signed as the hook checks


async def test_a_dead_refresh_token_turns_the_worker_health_check_red_and_the_worker_runs_on(
    tmp_path: Path,
) -> None:
    async with running(tmp_path / "data") as (stack, orders):
        health = f"{stack.url('worker-health')}/healthz"
        async with httpx.AsyncClient(timeout=10) as http:
            before = await http.get(health)
            expired = await http.post(f"{stack.url('marketplace')}/sim/tokens/expire", json={})

            async def probe() -> httpx.Response:
                return await http.get(health)

            dead = await eventually(probe, lambda answer: answer.status_code == 503)
            await asyncio.sleep(2 * DISCOVERY.every.total_seconds())  # rounds of refused calls
            later = await http.get(health)
        view = await orders.view(MARKETPLACE, "8800000001")  # Temporal still answers
        running_on = stack.process.poll() is None
        printed = "".join(stack.printed())
        assert await stop(stack) == 0

    ok = before.json()
    assert (before.status_code, ok["status"], ok["problems"]) == (200, "ok", [])
    assert (ok["temporal"]["connected"], ok["worker"]["running"]) == (True, True)
    assert ok["aliexpress_token"]["state"] == "ok"
    assert expired.json()["expired"] >= 2  # the demo's access and refresh tokens
    for answer in (dead, later):
        report = answer.json()
        token = report["aliexpress_token"]
        assert (answer.status_code, report["status"]) == (503, "unhealthy")
        assert (token["state"], token["code"]) == ("expired_refresh_token", "IllegalRefreshToken")
        assert token["can_refresh"] is False
        assert "authorise the app again" in report["problems"][0]
        assert (report["temporal"]["connected"], report["worker"]["running"]) == (True, True)
    assert running_on
    assert view.order.facts.order_id == "8800000001"
    assert printed.count("aliexpress refresh token expired") == 1  # said once, at error level
    assert "sim-at-" not in printed  # no token in the log or the health report
    assert "sim-rt-" not in printed
    assert "sim-rt-" not in later.text
    assert "sim-at-" not in later.text
