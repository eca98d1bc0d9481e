"""The real AliExpress client against the marketplace simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.aliexpress import AliExpressClient, refusal_reason
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import Fault, SimState, create_app
from domain.errors import PermanentPortError, PlatformRefused, RefusalReason
from domain.money import Money
from domain.ports import Solution, SolutionKind

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NUMBER = "RR123456785CN"


@pytest.fixture
def state() -> SimState:
    state = SimState(app_key="sim-key", app_secret=SECRET, fault_sleep=1.0)
    state.set_now(T0)
    state.add_order("1001", eta=T0 + timedelta(days=15), total=Money(minor=40_00))
    state.add_order("1002", eta=T0 + timedelta(days=15))
    return state


@pytest.fixture
def base_url(state: SimState) -> Iterator[str]:
    with serve_in_thread(create_app(state)) as url:
        yield url


SECRET = "sim-secret"


def sim_client(base_url: str, secret: str = SECRET) -> AliExpressClient:
    return AliExpressClient(
        base_url, "sim-key", secret, "tok", supports_withdrawal=True, timeout=0.5, retry_delay=0
    )


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[AliExpressClient]:
    async with sim_client(base_url) as client:
        yield client


async def refusal_of(write: Awaitable[None]) -> RefusalReason:
    with pytest.raises(PlatformRefused) as caught:
        await write
    return refusal_reason(caught.value.code)


async def test_an_upload_ships_the_order_and_lands_once_in_the_ledger(
    client: AliExpressClient, state: SimState
) -> None:
    await client.upload_tracking("1001", "CPAM", NUMBER, "wf-1001:upload")
    snapshot = await client.order_snapshot("1001")
    assert snapshot.order.status == "WAIT_BUYER_ACCEPT_GOODS"
    assert snapshot.order.estimated_delivery == T0 + timedelta(days=15)
    assert [s.tracking_number for s in snapshot.shipments] == [NUMBER]
    assert [e.kind for e in state.effects("wf-1001:upload")] == ["tracking_uploaded"]


async def test_a_duplicate_number_is_refused_naming_the_order_that_holds_it(
    client: AliExpressClient,
) -> None:
    await client.upload_tracking("1001", "CPAM", NUMBER, "wf-1001:upload")
    with pytest.raises(PlatformRefused) as caught:
        await client.upload_tracking("1002", "CPAM", f" {NUMBER.lower()} ", "wf-1002:upload")
    assert refusal_reason(caught.value.code) is RefusalReason.DUPLICATE
    assert "order 1001" in caught.value.message
    await client.withdraw_tracking("1001", NUMBER, "wf-1001:withdraw")
    await client.upload_tracking("1002", "CPAM", NUMBER, "wf-1002:upload-2")
    assert (await client.get_order("1001")).status == "WAIT_SELLER_SEND_GOODS"


async def test_a_withdrawal_one_second_before_the_window_closes_frees_the_order(
    client: AliExpressClient, state: SimState
) -> None:
    await client.upload_tracking("1001", "CPAM", NUMBER, "wf:upload")
    state.advance(timedelta(hours=23, minutes=59, seconds=59))
    await client.withdraw_tracking("1001", NUMBER, "wf:withdraw")
    assert (await client.order_snapshot("1001")).shipments == ()
    assert [e.kind for e in state.effects("wf:withdraw")] == ["tracking_withdrawn"]


async def test_each_withdrawal_condition_is_refused_with_its_own_reason(
    base_url: str, state: SimState
) -> None:
    cases = {
        "2001": RefusalReason.WINDOW_CLOSED,
        "2002": RefusalReason.CARRIER_SCANNED,
        "2003": RefusalReason.DISPUTE_OPEN,
        "2004": RefusalReason.ETA_TOO_CLOSE,
    }
    for order_id in cases:
        state.add_order(order_id, eta=T0 + timedelta(days=15))
    state.add_order("2005", eta=T0 + timedelta(days=5))
    async with sim_client(base_url) as client:
        for order_id in [*cases, "2005"]:
            await client.upload_tracking(order_id, "CPAM", f"LX{order_id}", f"wf-{order_id}:up")
        state.mark_scan("2002")
        state.open_dispute("2003", "not_received")
        state.set_eta("2004", T0 + timedelta(days=4))
        state.advance(timedelta(hours=1))
        reasons = {
            order_id: await refusal_of(
                client.withdraw_tracking(order_id, f"LX{order_id}", f"wf-{order_id}:wd")
            )
            for order_id in ["2002", "2003", "2004", "2005"]
        }
        state.advance(timedelta(hours=23))
        reasons["2001"] = await refusal_of(client.withdraw_tracking("2001", "LX2001", "wf:wd"))
    assert reasons == {**cases, "2005": RefusalReason.ETA_TOO_CLOSE}


async def test_a_second_refused_withdrawal_on_an_order_is_flagged_as_risk(
    base_url: str, state: SimState
) -> None:
    async with sim_client(base_url) as client:
        await client.upload_tracking("1001", "CPAM", NUMBER, "wf:upload")
        state.mark_scan("1001")
        await refusal_of(client.withdraw_tracking("1001", NUMBER, "wf:withdraw-1"))
        assert [e.kind for e in state.ledger()][-1] == "withdrawal_refused"
        await refusal_of(client.withdraw_tracking("1001", NUMBER, "wf:withdraw-2"))
    kinds = [e.kind for e in state.effects("wf:withdraw-2")]
    assert kinds == ["withdrawal_refused", "risk_flagged"]


async def test_a_refused_withdrawal_retried_under_its_key_does_not_reach_the_platform(
    client: AliExpressClient, state: SimState
) -> None:
    await client.upload_tracking("1001", "CPAM", NUMBER, "wf:upload")
    state.mark_scan("1001")
    for _ in range(3):
        await refusal_of(client.withdraw_tracking("1001", NUMBER, "wf:withdraw"))
    assert [e.kind for e in state.ledger()].count("withdrawal_refused") == 1
    assert "risk_flagged" not in [e.kind for e in state.ledger()]


async def test_a_dispute_is_answered_then_settled_by_an_accepted_partial_refund(
    client: AliExpressClient, state: SimState
) -> None:
    dispute_id = state.open_dispute("1001").dispute_id
    dispute = await client.get_dispute(dispute_id)
    assert dispute.response_deadline == T0 + timedelta(hours=24)
    assert dispute.solution_deadline == T0 + timedelta(hours=48)
    state.advance(timedelta(hours=10))
    await client.answer_dispute(dispute_id, "We are checking with the carrier.", "wf:answer")
    state.advance(timedelta(hours=20))
    partial = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=12_00))
    await client.propose_solution(dispute_id, partial, "wf:solution")
    state.buyer_accepts(dispute_id)
    assert (await client.get_dispute(dispute_id)).status == "finish"
    kinds = [e.kind for e in state.ledger() if e.dispute_id == dispute_id or e.idempotency_key]
    assert kinds == ["dispute_opened", "message_sent", "solution_saved", "dispute_resolved"]
    assert state.effects("wf:solution")[0].detail["refund_minor"] == 12_00


@pytest.mark.parametrize("minor", [0, 40_01])
async def test_a_partial_refund_of_nothing_or_above_the_order_total_is_refused(
    client: AliExpressClient, state: SimState, minor: int
) -> None:
    dispute_id = state.open_dispute("1001").dispute_id
    partial = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=minor))
    reason = await refusal_of(client.propose_solution(dispute_id, partial, "wf:solution"))
    assert reason is RefusalReason.INVALID_AMOUNT
    assert state.effects("wf:solution") == []


async def test_a_dispute_left_unanswered_for_24_hours_is_ruled_against_the_seller(
    client: AliExpressClient, state: SimState
) -> None:
    dispute_id = state.open_dispute("1001").dispute_id
    state.advance(timedelta(hours=30))
    assert (await client.get_dispute(dispute_id)).status == "finish"
    ruling = [e for e in state.ledger() if e.kind == "dispute_ruled_against_seller"]
    assert [(e.at, e.detail["refund_minor"]) for e in ruling] == [(T0 + timedelta(hours=24), 40_00)]
    full = Solution(kind=SolutionKind.FULL_REFUND, refund=Money(minor=40_00))
    reason = await refusal_of(client.propose_solution(dispute_id, full, "wf:late"))
    assert reason is RefusalReason.DEADLINE_PASSED


async def test_a_full_refund_without_an_amount_accepts_the_buyers_own_solution(
    client: AliExpressClient, state: SimState
) -> None:
    dispute_id = state.open_dispute("1001").dispute_id
    await client.propose_solution(dispute_id, Solution(kind=SolutionKind.FULL_REFUND), "wf:full")
    assert [e.kind for e in state.effects("wf:full")] == ["solution_agreed"]
    assert state.dispute(dispute_id).outcome == "resolved"


async def test_a_call_with_a_bad_signature_is_refused_in_the_platforms_error_shape(
    base_url: str, state: SimState
) -> None:
    async with sim_client(base_url, secret="wrong-secret") as client:
        with pytest.raises(PermanentPortError, match="IncompleteSignature"):
            await client.upload_tracking("1001", "CPAM", NUMBER, "wf:upload")
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{base_url}/sync", data={"app_key": "sim-key", "sign": "0"})
    assert response.json()["error_response"]["code"] == "IncompleteSignature"
    assert state.ledger() == []


@pytest.mark.parametrize("fault", [Fault.EXECUTE_THEN_DROP, Fault.TIMEOUT, Fault.ERROR_5XX])
async def test_every_write_lands_exactly_once_per_key_whatever_the_fault(
    client: AliExpressClient, state: SimState, fault: Fault
) -> None:
    dispute_id = state.open_dispute("1002").dispute_id
    methods = [
        "aliexpress.logistics.sellershipmentfortop",
        "aliexpress.message.redefining.versiontwo.addmsg",
        "aliexpress.issue.solution.save",
    ]
    for method in methods:
        state.inject(method, fault)
    await client.upload_tracking("1001", "CPAM", NUMBER, "wf:upload")
    await client.message_buyer("1001", f"Shipped with {NUMBER}", "wf:message")
    reship = Solution(kind=SolutionKind.RESHIP, reship_carrier="YANWEN_JYT")
    await client.propose_solution(dispute_id, reship, "wf:solution")
    for key, kind in [
        ("wf:upload", "tracking_uploaded"),
        ("wf:message", "message_sent"),
        ("wf:solution", "solution_saved"),
    ]:
        assert [e.kind for e in state.effects(key)] == [kind]
    assert [state.take_fault(method) for method in methods] == [None, None, None]


async def test_the_admin_api_creates_orders_moves_the_clock_and_shows_the_ledger(
    base_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        created = await http.post(
            "/sim/orders", json={"order_id": "3001", "eta": "2025-03-20T00:00:00Z"}
        )
        assert created.status_code == 201
        clock = await http.post("/sim/clock", json={"advance_seconds": 3600})
        assert clock.json()["now"] == (T0 + timedelta(hours=1)).isoformat()
        plan = {"method": "aliexpress.logistics.sellershipmentfortop", "fault": "execute_then_drop"}
        assert (await http.post("/sim/faults", json=plan)).status_code == 204
        async with sim_client(base_url) as client:
            await client.upload_tracking("3001", "YANWEN_JYT", "UG123456789CN", "wf-3001:up")
        dispute = await http.post("/sim/orders/3001/disputes", json={"reason": "not_received"})
        ledger = (await http.get("/sim/ledger", params={"idempotency_key": "wf-3001:up"})).json()
        order = (await http.get("/sim/orders/3001")).json()
    assert [e["kind"] for e in ledger["entries"]] == ["tracking_uploaded"]
    assert ledger["entries"][0]["detail"] == {
        "logistics_no": "UG123456789CN",
        "service_name": "YANWEN_JYT",
    }
    assert order["shipments"][0]["locked"] == "WITHDRAW_DISPUTE_OPEN"
    assert dispute.json()["dispute_id"]


async def test_a_modification_swaps_the_number_and_frees_the_old_one(
    client: AliExpressClient, state: SimState
) -> None:
    await client.upload_tracking("1001", "CPAM", NUMBER, "wf:upload")
    await client.modify_tracking("1001", ("CPAM", NUMBER), ("YANWEN_JYT", "UG1"), "wf:modify")
    numbers = [s.tracking_number for s in (await client.order_snapshot("1001")).shipments]
    assert numbers == ["UG1"]
    await client.upload_tracking("1002", "CPAM", NUMBER, "wf-1002:upload")
    assert [e.kind for e in state.effects("wf:modify")] == ["tracking_modified"]


async def test_the_dispute_list_shows_each_orders_disputes(
    client: AliExpressClient, state: SimState
) -> None:
    first = state.open_dispute("1001").dispute_id
    state.open_dispute("1002", "not_as_described")
    assert [d.dispute_id for d in await client.list_disputes("1001")] == [first]
    assert {d.reason for d in await client.list_disputes()} == {"not_received", "not_as_described"}


@pytest.mark.parametrize("told", [True, False], ids=["retry_reads_back", "blind_resend"])
async def test_a_retry_on_another_worker_reads_back_before_resending_a_landed_solution(
    base_url: str, state: SimState, told: bool
) -> None:
    # The write lands, then the worker dies before Temporal hears the activity completed: the
    # retry runs on a fresh worker (a new client with no memory of the key).
    dispute_id = state.open_dispute("1001").dispute_id
    partial = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=12_00))
    async with sim_client(base_url) as first:
        await first.propose_solution(dispute_id, partial, "wf:solution:1")
    async with sim_client(base_url) as second:
        if told:
            second.may_have_landed("wf:solution:1")  # what the activity says on attempt 2+
        await second.propose_solution(dispute_id, partial, "wf:solution:1")
    assert len(state.effects("wf:solution:1")) == (1 if told else 2)
