"""The real AliExpress client against the marketplace simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.aliexpress import AliExpressClient, refusal_reason
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import Fault, LedgerEntry, SimState, create_app
from domain.disputes import Solution, SolutionKind
from domain.errors import PermanentPortError, PlatformRefused, RefusalReason
from domain.evidence_files import Evidence, EvidenceKind
from domain.money import Money

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
            await client.upload_tracking("3001", "yanwen", "UG123456789CN", "wf-3001:up")
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
    await client.modify_tracking("1001", ("CPAM", NUMBER), ("yanwen", "UG1"), "wf:modify")
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


# R14: a solution offered in time meets the deadline; the buyer's answer decides what follows.

PARTIAL = Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=12_00))
FULL = Solution(kind=SolutionKind.FULL_REFUND, refund=Money(minor=40_00))
LABEL = Evidence(
    kind=EvidenceKind.SHIPPING_LABEL,
    filename="label.png",
    content_type="image/png",
    data=b"\x89PNG\r\n\x1a\n" + b"label" * 100,
)


def rulings(state: SimState, dispute_id: str) -> list[LedgerEntry]:
    return [
        e
        for e in state.ledger()
        if e.dispute_id == dispute_id
        and e.kind.startswith("dispute_")
        and e.kind != "dispute_opened"
    ]


async def test_a_solution_rejected_before_the_deadline_may_be_followed_by_one_the_buyer_accepts(
    client: AliExpressClient, state: SimState, base_url: str
) -> None:
    dispute_id = state.open_dispute("1001").dispute_id
    state.advance(timedelta(hours=10))
    await client.propose_solution(dispute_id, PARTIAL, "wf:solution:1")
    state.advance(timedelta(hours=10))
    async with httpx.AsyncClient(base_url=base_url) as http:
        rejected = (await http.post(f"/sim/disputes/{dispute_id}/reject")).json()
        assert rejected["status"] == "processing"
        assert [s["status"] for s in rejected["solutions"] if s["owner"] == "seller"] == [
            "rejected"
        ]
        state.advance(timedelta(hours=20))  # 40 h: still inside the 48 h window
        await client.propose_solution(dispute_id, FULL, "wf:solution:2")
        accepted = (await http.post(f"/sim/disputes/{dispute_id}/accept")).json()
    assert (accepted["status"], accepted["outcome"], accepted["decided_by"]) == (
        "finish",
        "resolved",
        "buyer",
    )
    state.advance(timedelta(days=3))  # long past the deadline: nothing more happens
    [resolved] = rulings(state, dispute_id)
    assert (resolved.kind, resolved.detail["refund_minor"]) == ("dispute_resolved", 40_00)
    assert [e.kind for e in state.effects("wf:solution:2")] == ["solution_saved"]
    seller = (await client.dispute_snapshot(dispute_id)).seller_solutions
    assert [s.status for s in seller] == ["rejected", "reached"]


async def test_a_solution_rejected_before_the_deadline_and_not_replaced_is_ruled_at_it(
    client: AliExpressClient, state: SimState, base_url: str
) -> None:
    dispute_id = state.open_dispute("1001").dispute_id
    state.advance(timedelta(hours=10))
    await client.propose_solution(dispute_id, PARTIAL, "wf:solution:1")
    state.advance(timedelta(hours=10))
    async with httpx.AsyncClient(base_url=base_url) as http:
        assert (await http.post(f"/sim/disputes/{dispute_id}/reject")).status_code == 200
    state.advance(timedelta(hours=27, minutes=59))
    assert (await client.get_dispute(dispute_id)).status == "processing"
    assert rulings(state, dispute_id) == []
    state.advance(timedelta(hours=2))
    assert (await client.get_dispute(dispute_id)).status == "finish"
    [ruling] = rulings(state, dispute_id)
    assert (ruling.kind, ruling.at, ruling.detail["refund_minor"]) == (
        "dispute_ruled_against_seller",
        T0 + timedelta(hours=48),
        40_00,
    )
    assert ruling.detail["decided_by"] == "deadline"
    reason = await refusal_of(client.propose_solution(dispute_id, FULL, "wf:solution:2"))
    assert reason is RefusalReason.DEADLINE_PASSED


async def test_a_solution_rejected_after_the_deadline_goes_to_arbitration_and_no_ruling_follows(
    client: AliExpressClient, state: SimState, base_url: str
) -> None:
    dispute_id = state.open_dispute("1001").dispute_id
    state.advance(timedelta(hours=10))
    await client.propose_solution(dispute_id, PARTIAL, "wf:solution:1")
    state.advance(timedelta(hours=40))  # 50 h: the solution offered in time met the deadline
    assert (await client.get_dispute(dispute_id)).status == "processing"
    async with httpx.AsyncClient(base_url=base_url) as http:
        rejected = (await http.post(f"/sim/disputes/{dispute_id}/reject")).json()
        assert (rejected["status"], rejected["outcome"]) == ("arbitration", None)
        assert rejected["arbitration_since"] == (T0 + timedelta(hours=50)).isoformat()
        again = await http.post(f"/sim/disputes/{dispute_id}/reject")
        accept = await http.post(f"/sim/disputes/{dispute_id}/accept")
    for refused in (again, accept):
        assert refused.status_code == 409
        assert refused.json()["code"] == "ISSUE_STATUS_INVALID"
    # The gateway shows the dispute in arbitration, in the list and in the detail.
    assert (await client.get_dispute(dispute_id)).status == "arbitration"
    assert [d.status for d in await client.list_disputes("1001")] == ["arbitration"]
    # No solution while the platform decides (the wrong-status refusal); evidence is still taken.
    reason = await refusal_of(client.propose_solution(dispute_id, FULL, "wf:solution:2"))
    assert reason is RefusalReason.WRONG_STATE
    assert state.effects("wf:solution:2") == []
    await client.upload_evidence(dispute_id, LABEL, "wf:evidence")
    assert [e.kind for e in state.effects("wf:evidence")] == ["evidence_uploaded"]
    state.advance(timedelta(days=30))
    assert state.dispute(dispute_id).status == "arbitration"
    assert rulings(state, dispute_id) == []
    kinds = [e.kind for e in state.ledger() if e.dispute_id == dispute_id]
    assert kinds == [
        "dispute_opened",
        "solution_saved",
        "solution_rejected",
        "arbitration_opened",
        "evidence_uploaded",
    ]


VERDICTS = {
    "for_seller": ({"for_seller": True}, "resolved", 0),
    "against_seller_full": ({"for_seller": False}, "ruled_against_seller", 40_00),
    "against_seller_partial": (
        {"for_seller": False, "refund_minor": 15_00},
        "ruled_against_seller",
        15_00,
    ),
}


@pytest.mark.parametrize("case", VERDICTS)
async def test_the_arbitration_verdict_ends_the_dispute(
    client: AliExpressClient, state: SimState, base_url: str, case: str
) -> None:
    verdict, outcome, refund_minor = VERDICTS[case]
    dispute_id = state.open_dispute("1001").dispute_id
    state.advance(timedelta(hours=10))
    await client.propose_solution(dispute_id, PARTIAL, "wf:solution:1")
    state.advance(timedelta(hours=40))
    state.buyer_rejects(dispute_id)
    state.advance(timedelta(days=7))
    async with httpx.AsyncClient(base_url=base_url) as http:
        decided = await http.post(f"/sim/disputes/{dispute_id}/arbitration", json=verdict)
        twice = await http.post(f"/sim/disputes/{dispute_id}/arbitration", json=verdict)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (body["status"], body["outcome"], body["decided_by"]) == (
        "finish",
        outcome,
        "arbitration",
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "ISSUE_STATUS_INVALID"
    assert "not in arbitration" in twice.json()["message"]
    [closed] = rulings(state, dispute_id)
    assert closed.kind == f"dispute_{outcome}"
    assert closed.at == T0 + timedelta(hours=50, days=7)
    assert (closed.detail["refund_minor"], closed.detail["decided_by"]) == (
        refund_minor,
        "arbitration",
    )
    [platform] = [s for s in state.dispute(dispute_id).solutions if s.owner == "platform"]
    assert (platform.reached_type, platform.refund.minor) == ("platform_arbitrate", refund_minor)
    assert (await client.get_dispute(dispute_id)).status == "finish"


async def test_reject_and_arbitration_refuse_a_dispute_in_the_wrong_state_naming_why(
    client: AliExpressClient, state: SimState, base_url: str
) -> None:
    unanswered = state.open_dispute("1001").dispute_id
    offered = state.open_dispute("1002").dispute_id
    await client.propose_solution(offered, PARTIAL, "wf:solution:1")
    async with httpx.AsyncClient(base_url=base_url) as http:
        nothing_offered = await http.post(f"/sim/disputes/{unanswered}/reject")
        not_in_arbitration = await http.post(
            f"/sim/disputes/{offered}/arbitration", json={"for_seller": False}
        )
        missing = await http.post("/sim/disputes/404/reject")
        state.advance(timedelta(hours=50))  # ``unanswered`` is ruled at its 24 h deadline
        ruled = await http.post(f"/sim/disputes/{unanswered}/reject")
        await http.post(f"/sim/disputes/{offered}/reject")  # late: to arbitration
        bad_refund = await http.post(
            f"/sim/disputes/{offered}/arbitration", json={"for_seller": True, "refund_minor": 1}
        )
        too_much = await http.post(
            f"/sim/disputes/{offered}/arbitration",
            json={"for_seller": False, "refund_minor": 25_01},
        )
    assert (nothing_offered.status_code, nothing_offered.json()["code"]) == (
        409,
        "ISSUE_STATUS_INVALID",
    )
    assert "no seller solution to reject" in nothing_offered.json()["message"]
    assert not_in_arbitration.status_code == 409
    assert "is processing, not in arbitration" in not_in_arbitration.json()["message"]
    assert (missing.status_code, missing.json()["code"]) == (404, "ISSUE_NOT_FOUND")
    assert ruled.status_code == 409
    assert "is finish" in ruled.json()["message"]
    assert (bad_refund.status_code, bad_refund.json()["code"]) == (422, "isv.invalid-parameter")
    assert (too_much.status_code, too_much.json()["code"]) == (422, "REFUND_AMOUNT_INVALID")
    assert state.dispute(offered).status == "arbitration"  # refused verdicts changed nothing


async def test_a_scan_of_a_withdrawn_number_locks_nothing_a_scan_of_the_current_one_locks_it(
    client: AliExpressClient, state: SimState, base_url: str
) -> None:
    first, second, third = NUMBER, "RR123456799CN", "RR123456802CN"
    await client.upload_tracking("1001", "CPAM", first, "wf:upload:1")
    await client.withdraw_tracking("1001", first, "wf:withdraw:1")
    await client.upload_tracking("1001", "CPAM", second, "wf:upload:2")
    async with httpx.AsyncClient(base_url=base_url) as http:
        late = (await http.post("/sim/orders/1001/scan", json={"number": first.lower()})).json()
        assert late["scanned"] is False
        assert [(s["number"], s["locked"], s["scanned"]) for s in late["shipments"]] == [
            (second, None, False)
        ]
        await client.withdraw_tracking("1001", second, "wf:withdraw:2")
        await client.upload_tracking("1001", "CPAM", third, "wf:upload:3")
        current = (await http.post("/sim/orders/1001/scan", json={"number": third})).json()
    assert current["scanned"] is True
    assert current["shipments"][0]["locked"] == "WITHDRAW_CARRIER_SCANNED"
    reason = await refusal_of(client.withdraw_tracking("1001", third, "wf:withdraw:3"))
    assert reason is RefusalReason.CARRIER_SCANNED
    assert [e.kind for e in state.effects("wf:withdraw:2")] == ["tracking_withdrawn"]
