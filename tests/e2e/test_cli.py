"""The ``parcelflow`` CLI against a real Temporal server: output, and exit codes scripts trust."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from adapters.asgi_server import free_port
from domain.claims import ClaimFacts
from domain.disputes import Solution, SolutionKind
from domain.events import BuyerConfirmed, DisputeOpened, ParcelDelivered
from domain.money import Money
from domain.order import Order, OrderFacts, Shipment
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from tests.workflows.harness import order_facts, until
from workers.cli import app
from workers.orders import Orders
from workers.worker import build_worker
from workflows.carrier_claim import CarrierClaimWorkflow, claim_workflow_id
from workflows.messages import OrderInput
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
runner = CliRunner()


@pytest.fixture
async def orders(
    env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Orders]:
    """A worker on a fresh task queue; the CLI finds the server and queue in the environment."""
    task_queue = f"cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PARCELFLOW_TASK_QUEUE", task_queue)
    monkeypatch.setenv("PARCELFLOW_TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
    async with build_worker(env.client, task_queue=task_queue, platform=FakePlatform()):
        with env.with_time_skipping_disabled():
            yield Orders(env.client, task_queue)


async def parcelflow(*args: str) -> Result:
    """Run the CLI as a user would (it runs its own event loop, hence the thread)."""
    return await asyncio.to_thread(runner.invoke, app, list(args))


def machine(result: Result) -> Any:
    return json.loads(result.stdout)


async def new_order(orders: Orders) -> OrderFacts:
    facts = order_facts(datetime.now(UTC))
    await orders.create(facts)
    return facts


async def test_ship_prints_the_shipped_order_and_exits_0(orders: Orders) -> None:
    facts, number = await new_order(orders), fresh_s10()
    result = await parcelflow(
        "--json", "ship", "aliexpress", facts.order_id, "china_post", f" {number.lower()} "
    )
    assert result.exit_code == 0, result.output
    view = machine(result)
    assert view["order"]["state"] == "shipped"
    assert view["order"]["shipment"]["tracking_number"] == number
    assert "withdraw by" in [d["label"] for d in view["deadlines"]]


async def test_a_wrong_check_digit_is_refused_with_exit_1_and_its_reason(orders: Orders) -> None:
    facts, number = await new_order(orders), fresh_s10()
    wrong = f"{number[:10]}{(int(number[10]) + 1) % 10}CN"
    result = await parcelflow("--json", "ship", "aliexpress", facts.order_id, "china_post", wrong)
    assert result.exit_code == 1
    refusal = machine(result)
    assert refusal["refused"] == "invalid_number"
    assert "check digit" in refusal["detail"]
    shown = machine(await parcelflow("--json", "show", "aliexpress", facts.order_id))
    assert shown["order"]["state"] == "awaiting_shipment"


async def test_withdrawing_an_unshipped_order_is_refused_in_words_with_exit_1(
    orders: Orders,
) -> None:
    facts = await new_order(orders)
    result = await parcelflow("withdraw", "aliexpress", facts.order_id)
    assert result.exit_code == 1
    assert "refused (wrong_state)" in result.stderr
    assert "awaiting_shipment" in result.stderr


async def test_showing_an_unknown_order_exits_3(orders: Orders) -> None:
    result = await parcelflow("--json", "show", "aliexpress", f"nope{uuid.uuid4().hex[:8]}")
    assert result.exit_code == 3
    assert machine(result)["not_found"].startswith("order-aliexpress-nope")


async def test_show_prints_state_deadlines_and_timeline(orders: Orders) -> None:
    facts = await new_order(orders)
    await orders.ship(facts.marketplace, facts.order_id, "china_post", fresh_s10())
    result = await parcelflow("show", "aliexpress", facts.order_id)
    assert result.exit_code == 0, result.output
    assert f"order-aliexpress-{facts.order_id}" in result.stdout
    assert "state: shipped" in result.stdout
    assert "withdraw by" in result.stdout
    assert "tracking_uploaded" in result.stdout


async def test_a_command_to_an_ended_order_is_refused_with_exit_1_while_show_still_works(
    orders: Orders,
) -> None:
    facts, number = await new_order(orders), fresh_s10()
    await orders.ship(facts.marketplace, facts.order_id, "china_post", number)
    now = datetime.now(UTC)
    delivered = ParcelDelivered(event_id="dl", at=now, tracking_number=number)
    await orders.send_fact(facts.marketplace, facts.order_id, delivered)
    await orders.send_fact(facts.marketplace, facts.order_id, BuyerConfirmed(event_id="bc", at=now))
    await orders.handle(facts.marketplace, facts.order_id).result()

    withdrawn = await parcelflow("--json", "withdraw", "aliexpress", facts.order_id)
    assert withdrawn.exit_code == 1, withdrawn.output
    assert machine(withdrawn)["refused"] == "order_ended"
    assert "the order has ended: completed" in machine(withdrawn)["detail"]
    human = await parcelflow("respond", "aliexpress", facts.order_id, "hello")
    assert human.exit_code == 1
    assert "refused (order_ended)" in human.stderr
    shown = await parcelflow("--json", "show", "aliexpress", facts.order_id)
    assert shown.exit_code == 0, shown.output
    assert machine(shown)["order"]["state"] == "completed"


async def test_a_dispute_is_answered_and_solved_from_the_command_line(orders: Orders) -> None:
    facts = await new_order(orders)
    await orders.ship(facts.marketplace, facts.order_id, "china_post", fresh_s10())
    opened = DisputeOpened(event_id="d1", at=datetime.now(UTC), dispute_id="D-1")
    await orders.send_fact(facts.marketplace, facts.order_id, opened)
    answered = await parcelflow("--json", "respond", "aliexpress", facts.order_id, "On its way")
    assert machine(answered)["order"]["state"] == "dispute_awaiting_solution"
    too_much = await parcelflow(
        "--json", "solve", "aliexpress", facts.order_id, "partial_refund", "--amount", "25.00"
    )
    assert too_much.exit_code == 1
    assert machine(too_much)["refused"] == "invalid_amount"
    solved = await parcelflow(
        "--json", "solve", "aliexpress", facts.order_id, "partial_refund", "--amount", "6.00"
    )
    assert solved.exit_code == 0, solved.output
    dispute = machine(solved)["order"]["dispute"]
    assert dispute["solution"]["refund"] == {"minor": 600, "currency": "USD"}


async def test_list_by_state_finds_the_order_in_temporal_visibility(orders: Orders) -> None:
    facts = await new_order(orders)
    await orders.ship(facts.marketplace, facts.order_id, "china_post", fresh_s10())
    only_this = f"WorkflowId = '{facts.workflow_id}'"
    for _ in range(50):  # visibility is eventually consistent
        result = await parcelflow("--json", "list", "--state", "shipped", "--query", only_this)
        if machine(result):
            break
        await asyncio.sleep(0.2)
    assert result.exit_code == 0
    [row] = machine(result)
    assert (row["workflow_id"], row["state"], row["carrier"]) == (
        facts.workflow_id,
        "shipped",
        "china_post",
    )
    # Its next clock is the carrier check 4 h after the upload (R8).
    within = [
        machine(await parcelflow("--json", "list", "--deadline-within", d, "--query", only_this))
        for d in ("1h", "4h5m")
    ]
    assert [[r["workflow_id"] for r in rows] for rows in within] == [[], [facts.workflow_id]]
    locked = await parcelflow("--json", "list", "--state", "locked", "--query", only_this)
    assert machine(locked) == []


async def test_bad_usage_exits_2(orders: Orders) -> None:
    bad_amount = await parcelflow("solve", "aliexpress", "1", "partial_refund", "--amount", "6.001")
    assert bad_amount.exit_code == 2
    bad_state = await parcelflow("list", "--state", "lost")
    assert bad_state.exit_code == 2
    bad_id = await parcelflow("show", "aliexpress", "no spaces please")
    assert bad_id.exit_code == 2


async def test_an_unreachable_temporal_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("PARCELFLOW_TEMPORAL_ADDRESS", address)
    result = await parcelflow("--json", "show", "aliexpress", "1")
    assert result.exit_code == 4
    assert machine(result)["unreachable"] == address


async def test_the_evidence_bundle_of_a_dispute_is_one_json_document(orders: Orders) -> None:
    facts = await new_order(orders)
    number = fresh_s10()
    await orders.ship(facts.marketplace, facts.order_id, "china_post", number)
    opened = DisputeOpened(event_id="d1", at=datetime.now(UTC), dispute_id="D-E")
    await orders.send_fact(facts.marketplace, facts.order_id, opened)
    await parcelflow("respond", "aliexpress", facts.order_id, "Checking with the carrier")
    result = await parcelflow("evidence", "aliexpress", facts.order_id)
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    assert bundle["dispute"]["dispute_id"] == "D-E"
    assert [s["tracking_number"] for s in bundle["shipments"]] == [number]
    assert bundle["messages_sent"][0]["text"] == "Checking with the carrier"


async def test_the_evidence_of_a_reship_spans_the_replacement_and_names_a_stopped_claim(
    orders: Orders,
) -> None:
    facts, original, replacement = await new_order(orders), fresh_s10(), fresh_s10("UG")
    await orders.ship(facts.marketplace, facts.order_id, "china_post", original)
    opened = DisputeOpened(event_id="d1", at=datetime.now(UTC), dispute_id="D-R")
    await orders.send_fact(facts.marketplace, facts.order_id, opened)
    reship = Solution(
        kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=replacement
    )
    await orders.propose(facts.marketplace, facts.order_id, reship)
    # The replacement ships its number in its first steps.
    await until(
        lambda: orders.view(facts.marketplace, f"{facts.order_id}-R1"),
        lambda view: view.order.shipment is not None,
    )
    claim = orders.client.get_workflow_handle(claim_workflow_id("china_post", original))
    # No claims API on this worker: once routed to an operator, the claim is stopped by hand.
    await until(
        lambda: claim.query(CarrierClaimWorkflow.view),
        lambda view: view.claim.state == "awaiting_manual_filing",
    )
    await claim.terminate("closed by hand")
    result = await parcelflow("evidence", "aliexpress", facts.order_id)
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    [again] = bundle["replacements"]
    assert (again["workflow_id"], again["shipment"]["tracking_number"]) == (
        f"{facts.workflow_id}-R1",
        replacement,
    )
    buyer = [m["text"] for m in bundle["messages_sent"] if m["kind"] == "buyer_message"]
    assert len(buyer) == 1
    assert replacement in buyer[0]
    [document] = bundle["claims"]
    assert (document["tracking_number"], document["state"]) == (original, "awaiting_manual_filing")
    assert "no loss scan" in document["proof"]  # honest: the carrier wrote nothing yet
    assert any(m.startswith(f"{claim.id}: terminated") for m in bundle["missing"])
    await orders.client.get_workflow_handle(again["workflow_id"]).terminate("test over")


async def test_the_evidence_names_linked_workflows_that_do_not_exist(orders: Orders) -> None:
    facts, lost, again = order_facts(datetime.now(UTC)), fresh_s10(), fresh_s10("UG")
    # An order carried in (as after continue-as-new) naming a reship and a claim never started.
    at = facts.paid_at
    reship = Shipment(seq=1, carrier="yanwen", tracking_number=again, uploaded_at=at)
    claimed = Shipment(seq=1, carrier="china_post", tracking_number=lost, uploaded_at=at)
    order = Order.new(facts).model_copy(update={"reships": [reship], "claimed": [claimed]})
    handle = await orders.client.start_workflow(
        OrderWorkflow.run,
        OrderInput(facts=facts, carried=order),
        id=facts.workflow_id,
        task_queue=orders.task_queue,
    )
    result = await parcelflow("evidence", "aliexpress", facts.order_id)
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    assert (bundle["replacements"], bundle["claims"]) == ([], [])
    assert f"{facts.workflow_id}-R1: not found" in bundle["missing"]
    assert f"{claim_workflow_id('china_post', lost)}: not found" in bundle["missing"]
    await handle.terminate("test over")


async def test_an_operator_sees_a_claim_files_it_by_hand_and_a_second_filing_is_refused(
    orders: Orders,
) -> None:
    number = fresh_s10()
    facts = ClaimFacts(
        order_workflow_id="order-aliexpress-77001",
        carrier="china_post",
        tracking_number=number,
        proof="carrier statement Exception_Lost",
        declared_value=Money(minor=25_00),
    )
    handle = await orders.client.start_workflow(
        CarrierClaimWorkflow.run,
        facts,
        id=claim_workflow_id("china_post", number),
        task_queue=orders.task_queue,
    )
    # No claims API on this worker: the claim waits for an operator.
    shown = await until(
        lambda: parcelflow("claims", "show", "china_post", number, "--json"),
        lambda r: r.exit_code == 0 and '"awaiting_manual_filing"' in r.stdout,
    )
    assert machine(shown)["claim"]["facts"]["proof"] == "carrier statement Exception_Lost"
    listed = await parcelflow("claims", "list", "--json")
    assert handle.id in [row["workflow_id"] for row in machine(listed)]

    filed = await parcelflow("claims", "filed", "china_post", number, "CP-2026-118", "--json")
    assert filed.exit_code == 0, filed.output
    assert machine(filed)["claim"]["state"] == "filed"
    assert machine(filed)["claim"]["claim_ref"] == "CP-2026-118"
    again = await parcelflow("claims", "filed", "china_post", number, "CP-2026-119", "--json")
    assert again.exit_code == 1
    assert machine(again)["refused"] == "wrong_state"
    human = await parcelflow("claims", "show", "china_post", number)
    assert "claim ref: CP-2026-118 (filed by operator)" in human.stdout
    await handle.terminate("test over")


async def test_a_claim_that_does_not_exist_exits_3(orders: Orders) -> None:
    del orders
    result = await parcelflow("claims", "show", "china_post", fresh_s10(), "--json")
    assert result.exit_code == 3
    assert machine(result)["not_found"].startswith("claim-china_post-")
