"""``POST /hooks/easypost`` over real HTTP and a real Temporal server: claim Events reach the
claim workflow of their parcel, and every other delivery is answered without changing it."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.claims import ClaimActivities
from adapters.asgi_server import serve_in_thread
from adapters.easypost.webhook import SIGNATURE_HEADER, sign
from domain.claims import Claim, ClaimFacts, ClaimState
from domain.money import Money
from tests.e2e.test_hooks import plain_client
from tests.fakes import FakeClaims
from workers.hooks import create_app
from workers.orders import Orders
from workflows.carrier_claim import CarrierClaimWorkflow, ClaimStatusPush, claim_workflow_id

pytestmark = pytest.mark.temporal

SECRET = "easypost-webhook-sécret"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"the-standard-hook-secret-0123").decode()
CONTRACTS = Path(__file__).parent.parent / "contracts" / "easypost"
EVENT: dict[str, Any] = json.loads(
    (CONTRACTS / "webhook_event_tracker_updated.json").read_text(encoding="utf-8")
)
CLAIM: dict[str, Any] = json.loads(
    (CONTRACTS / "claim_retrieve_response.json").read_text(encoding="utf-8")
)
S = ClaimState


def parcel_number() -> str:
    return f"UG{uuid.uuid4().int % 10**9:09d}CN"


def claim_event(number: str, status: str = "approved", **claim: Any) -> dict[str, Any]:
    """An EasyPost claim Event (documented envelope and Claim) about the fake desk's claim."""
    description = {"approved": "claim.approved", "rejected": "claim.rejected"}.get(
        status, "claim.updated"
    )
    amount = "18.50" if status == "approved" else None
    result = CLAIM | {
        "id": "YW-1",
        "tracking_code": number,
        "status": status,
        "approved_amount": amount,
        "requested_amount": "20.00",
    }
    return (
        EVENT
        | {"id": f"evt_{uuid.uuid4().hex}", "description": description}
        | {"result": result | claim}
    )


@dataclass
class EasyPostHooks:
    """The hook server at ``http`` and a claim workflow, filed as ``YW-1``, for ``number``."""

    http: httpx.AsyncClient
    claim: WorkflowHandle[CarrierClaimWorkflow, Claim]
    number: str

    async def post(
        self, payload: dict[str, Any] | bytes, *, secret: str = SECRET, signature: str | None = None
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"content-type": "application/json"}
        if signature != "":
            headers[SIGNATURE_HEADER] = signature or sign(body, secret)
        return await self.http.post("/hooks/easypost", content=body, headers=headers)

    async def state(self) -> ClaimState:
        return (await self.claim.query(CarrierClaimWorkflow.view)).claim.state

    async def result(self) -> Claim:
        async with asyncio.timeout(10):
            return await self.claim.result()


async def filed_claim(
    env: WorkflowEnvironment, task_queue: str, number: str
) -> WorkflowHandle[CarrierClaimWorkflow, Claim]:
    facts = ClaimFacts(
        order_workflow_id="order-aliexpress-42",
        carrier="yanwen",
        tracking_number=number,
        proof="doc://loss-proof/42",
        declared_value=Money(minor=20_00),
    )
    with env.with_time_skipping_disabled():
        handle = await env.client.start_workflow(
            CarrierClaimWorkflow.run,
            facts,
            id=claim_workflow_id("yanwen", number),
            task_queue=task_queue,
        )
    async with asyncio.timeout(10):
        while (await handle.query(CarrierClaimWorkflow.view)).claim.state is not S.FILED:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return handle


@pytest.fixture
async def hooks(env: WorkflowEnvironment) -> AsyncIterator[EasyPostHooks]:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    orders = Orders(await plain_client(env), task_queue)
    app = create_app(orders, [STANDARD_SECRET], seventeentrack_key=None, easypost_secret=SECRET)
    activities = ClaimActivities(FakeClaims()).all()  # every follow-up answers pending
    async with Worker(
        env.client, task_queue=task_queue, workflows=[CarrierClaimWorkflow], activities=activities
    ):
        number = parcel_number()
        claim = await filed_claim(env, task_queue, number)
        with serve_in_thread(app) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                yield EasyPostHooks(http=http, claim=claim, number=number)


async def test_a_signed_claim_approval_pays_the_claim_and_a_redelivery_is_a_duplicate(
    hooks: EasyPostHooks,
) -> None:
    event = claim_event(hooks.number)

    taken = await hooks.post(event)
    claim = await hooks.result()
    again = await hooks.post(event)

    assert (taken.status_code, taken.json()) == (
        202,
        {"status": "accepted", "workflow_id": hooks.claim.id},
    )
    assert (claim.state, claim.paid_amount, claim.checks) == (S.PAID, Money(minor=18_50), 0)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})


async def test_the_same_status_in_a_new_event_changes_nothing(hooks: EasyPostHooks) -> None:
    review = claim_event(hooks.number, "in_review")
    first = await hooks.post(review)
    before = await hooks.claim.query(CarrierClaimWorkflow.view)
    second = await hooks.post(review | {"id": f"evt_{uuid.uuid4().hex}"})
    after = await hooks.claim.query(CarrierClaimWorkflow.view)
    paid = await hooks.post(claim_event(hooks.number))
    claim = await hooks.result()
    late = await hooks.post(claim_event(hooks.number))

    assert [r.status_code for r in (first, second, paid)] == [202, 202, 202]
    assert (before.claim, after.claim.state) == (after.claim, S.FILED)
    assert claim.state is S.PAID
    assert (late.status_code, late.json()["status"]) == (200, "already_processed")


async def test_a_bad_signature_is_refused_with_its_reason_and_changes_nothing(
    hooks: EasyPostHooks,
) -> None:
    body = json.dumps(claim_event(hooks.number)).encode()
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x01

    wrong_secret = await hooks.post(body, secret="another secret")
    tampered = await hooks.post(bytes(flipped), signature=sign(body, SECRET))
    unsigned = await hooks.post(body, signature="")

    for refused in (wrong_secret, tampered):
        assert (refused.status_code, refused.json()["error"]) == (401, "bad_signature")
        assert SIGNATURE_HEADER in refused.json()["detail"]
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "missing_header")
    assert await hooks.state() is S.FILED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tracking_code": None}, "result.tracking_code"),
        ({"approved_amount": "a lot"}, "result.approved_amount"),
        ({"status": ""}, "result.status"),
    ],
)
async def test_a_malformed_claim_event_is_a_422_naming_the_field(
    hooks: EasyPostHooks, change: dict[str, Any], field: str
) -> None:
    refused = await hooks.post(claim_event(hooks.number, **change))

    assert (refused.status_code, refused.json()["error"]) == (422, "invalid_body")
    assert [problem["field"] for problem in refused.json()["fields"]] == [field]
    assert await hooks.state() is S.FILED


async def test_a_body_that_is_not_an_event_is_refused(hooks: EasyPostHooks) -> None:
    not_json = await hooks.post(b"{not json")
    not_event = await hooks.post({"object": "Tracker"})

    assert (not_json.status_code, not_json.json()["error"]) == (400, "malformed_json")
    assert (not_event.status_code, not_event.json()["fields"][0]["field"]) == (422, "object")


async def test_a_claim_unknown_to_us_or_another_event_is_ignored_with_a_reason(
    hooks: EasyPostHooks,
) -> None:
    unknown = await hooks.post(claim_event(parcel_number()))
    tracker = await hooks.post(EVENT)

    for ignored in (unknown, tracker):
        assert (ignored.status_code, ignored.json()["status"]) == (202, "ignored")
    assert "parcel" in unknown.json()["reason"]
    assert "tracker.updated" in tracker.json()["reason"]
    assert await hooks.state() is S.FILED


async def test_an_unreachable_temporal_is_a_503_and_the_redelivery_is_then_taken(
    env: WorkflowEnvironment, hooks: EasyPostHooks
) -> None:
    class UnreachableOrders(Orders):
        async def push_claim_status(
            self, tracking_code: str, push: ClaimStatusPush
        ) -> tuple[Any, str] | None:
            del tracking_code, push
            raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    down = create_app(
        UnreachableOrders(await plain_client(env), "nowhere"),
        [STANDARD_SECRET],
        seventeentrack_key=None,
        easypost_secret=SECRET,
    )
    event = claim_event(hooks.number)
    body = json.dumps(event).encode()
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(body, SECRET)}
    with serve_in_thread(down) as url, structlog.testing.capture_logs() as logs:
        async with httpx.AsyncClient(base_url=url) as http:
            failed = await http.post("/hooks/easypost", content=body, headers=headers)

    assert failed.status_code == 503
    assert failed.json() == {"error": "unavailable", "detail": "try again later"}
    assert "Traceback" not in failed.text
    assert [entry["event"] for entry in logs] == ["hook_failed"]
    assert await hooks.state() is S.FILED
    redelivered = await hooks.post(event)
    assert (redelivered.status_code, redelivered.json()["status"]) == (202, "accepted")


async def test_without_a_webhook_secret_easypost_events_are_refused(
    env: WorkflowEnvironment,
) -> None:
    app = create_app(
        Orders(await plain_client(env), "nowhere"), [STANDARD_SECRET], seventeentrack_key=None
    )
    body = json.dumps(claim_event(parcel_number())).encode()
    headers = {SIGNATURE_HEADER: sign(body, SECRET)}
    with serve_in_thread(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            refused = await http.post("/hooks/easypost", content=body, headers=headers)

    assert (refused.status_code, refused.json()["error"]) == (401, "no_secret")
