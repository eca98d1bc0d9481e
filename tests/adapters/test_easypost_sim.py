"""The claims simulator on its own, over HTTP: it enforces EasyPost's rules without the client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from adapters.asgi_server import serve_in_thread
from adapters.easypost.sim import SimState, create_app
from adapters.easypost.sim.rules import read_new_claim
from adapters.easypost.webhook import SIGNATURE_HEADER, parse_event, verify_signature
from domain.money import Money

KEY = "sim-easypost-key"


def parcel() -> str:
    return f"UG{uuid.uuid4().int % 10**9:09d}CN"


@pytest.fixture
def state() -> SimState:
    return SimState(KEY)


@pytest.fixture
def api(state: SimState) -> Iterator[httpx.Client]:
    with serve_in_thread(create_app(state)) as url, httpx.Client(base_url=url) as http:
        yield http


def loss(number: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tracking_code": number,
        "type": "loss",
        "amount": "20.00",
        "description": f"parcel {number} lost",
        "contact_email": "claims@seller.example",
    }
    return {**body, **changes}


def post(api: httpx.Client, body: dict[str, Any], key: str | None = KEY) -> httpx.Response:
    if key is None:
        return api.post("/v2/claims", json=body)
    return api.post("/v2/claims", json=body, auth=(key, ""))


def field_errors(response: httpx.Response) -> dict[str, str]:
    errors = response.json()["error"]["errors"]
    return {e["field"]: e["message"] for e in errors}


@pytest.fixture
def insured(state: SimState) -> str:
    number = parcel()
    state.insure(number, Money(minor=20_00))
    return number


def test_a_claim_needs_the_api_key_as_basic_user(api: httpx.Client, insured: str) -> None:
    assert post(api, loss(insured), key=None).status_code == 401
    wrong = post(api, loss(insured), key="other")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "APIKEY.INACTIVE"
    assert post(api, loss(insured)).status_code == 201


def test_every_missing_field_is_named(api: httpx.Client) -> None:
    response = post(api, {"type": "loss"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "PARAMETER.REQUIRED"
    assert set(field_errors(response)) == {
        "tracking_code",
        "amount",
        "description",
        "contact_email",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "lost"}, "type"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "20.01"}, "amount"),  # over the $20 insured
        ({"contact_email": "seller"}, "contact_email"),
        ({"type": "damage"}, "supporting_documentation_attachments"),
        ({"invoice_attachments": ["https://example.com/invoice.pdf"]}, "invoice_attachments"),
        ({"payment_method": "cash"}, "payment_method"),
        ({"payment_method": "mailed_check"}, "check_delivery_address"),
    ],
)
def test_an_invalid_claim_is_refused_naming_the_field(
    api: httpx.Client, state: SimState, insured: str, changes: dict[str, Any], field: str
) -> None:
    response = post(api, loss(insured, **changes))

    assert response.status_code == 422
    assert field in field_errors(response)
    assert state.filings(insured) == []


def test_a_damage_claim_with_a_base64_photo_is_accepted(api: httpx.Client, insured: str) -> None:
    body = loss(insured, type="damage", supporting_documentation_attachments=["iVBORw0KGgo="])

    response = post(api, body)

    assert response.status_code == 201
    assert len(response.json()["attachments"]) == 1


def test_an_uninsured_parcel_is_not_found(api: httpx.Client) -> None:
    response = post(api, loss(parcel()))

    assert response.status_code == 404
    assert response.json()["error"]["errors"] == [
        "No eligible insurance found with provided tracking code."
    ]


def test_a_parcel_has_one_active_claim_until_it_is_cancelled(
    api: httpx.Client, state: SimState, insured: str
) -> None:
    first = post(api, loss(insured)).json()

    second = post(api, loss(insured, amount="5"))
    cancelled = api.post(f"/v2/claims/{first['id']}/cancel", auth=(KEY, ""))
    third = post(api, loss(insured))

    assert second.status_code == 422
    assert first["id"] in field_errors(second)["tracking_code"]
    assert cancelled.json()["status"] == "cancelled"
    assert third.status_code == 201
    assert len(state.filings(insured)) == 2


def test_the_settle_endpoint_moves_a_claim_and_the_ledger_shows_it(
    api: httpx.Client, insured: str
) -> None:
    claim = post(api, loss(insured, reference="key-1")).json()

    partial = api.post(
        f"/sim/claims/{claim['id']}/settle",
        json={"outcome": "approved_partial", "amount": "18.50"},
    )
    again = api.post(f"/sim/claims/{claim['id']}/settle", json={"outcome": "approved"})
    ledger = api.get("/sim/ledger", params={"reference": "key-1"}).json()["entries"]

    assert (partial.json()["status"], partial.json()["approved_amount"]) == (
        "approved_partial",
        "18.50",
    )
    assert [h["status"] for h in partial.json()["history"]] == ["approved_partial", "submitted"]
    assert again.status_code == 409  # settled is final
    assert [(e["kind"], e["amount_minor"]) for e in ledger] == [
        ("claim_filed", 2000),
        ("claim_approved_partial", 1850),
    ]


def test_a_rejection_must_say_why(api: httpx.Client, insured: str) -> None:
    claim = post(api, loss(insured)).json()

    response = api.post(f"/sim/claims/{claim['id']}/settle", json={"outcome": "rejected"})

    assert response.status_code == 422
    assert "detail" in field_errors(response)


def test_the_list_pages_newest_first_with_has_more(api: httpx.Client, state: SimState) -> None:
    numbers = [parcel() for _ in range(3)]
    for number in numbers:
        state.insure(number, Money(minor=20_00))
        post(api, loss(number))

    first = api.get("/v2/claims", params={"page_size": 2}, auth=(KEY, "")).json()
    before = first["claims"][-1]["id"]
    rest = api.get("/v2/claims", params={"before_id": before}, auth=(KEY, "")).json()

    assert [c["tracking_code"] for c in first["claims"]] == numbers[:0:-1]
    assert first["has_more"] is True
    assert [c["tracking_code"] for c in rest["claims"]] == numbers[:1]
    assert rest["has_more"] is False


def test_injected_faults_answer_like_an_outage(api: httpx.Client, insured: str) -> None:
    plan = api.post("/sim/faults", json={"endpoint": "create", "fault": "rate_limited"})
    limited = post(api, loss(insured))
    api.post("/sim/faults", json={"endpoint": "create", "fault": "execute_then_drop"})
    dropped = post(api, loss(insured))
    listed = api.get("/v2/claims", auth=(KEY, "")).json()["claims"]

    assert plan.status_code == 204
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    assert (dropped.status_code, dropped.content) == (500, b"")
    assert [c["tracking_code"] for c in listed] == [insured]  # the dropped filing landed


def test_a_settlement_posts_a_signed_claim_event_to_the_webhook_url() -> None:
    received: list[tuple[bytes, str | None]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> Response:
        received.append((await request.body(), request.headers.get(SIGNATURE_HEADER)))
        return Response(status_code=500 if len(received) == 1 else 200)  # the first one fails

    number, secret = parcel(), "sécret"
    with serve_in_thread(receiver) as hook_url:
        state = SimState(KEY, webhook_url=f"{hook_url}/hook", webhook_secret=secret)
        state.insure(number, Money(minor=20_00))
        claim_id = state.file(read_new_claim(loss(number))).claim_id  # filed in Python: no event
        with serve_in_thread(create_app(state)) as url, httpx.Client(base_url=url) as api:
            settled = api.post(f"/sim/claims/{claim_id}/settle", json={"outcome": "approved"})
            deliveries = api.get("/sim/webhooks").json()["deliveries"]

    assert settled.is_success
    assert [(d["description"], d["attempt"], d["status"]) for d in deliveries] == [
        ("claim.approved", 1, 500),
        ("claim.approved", 2, 200),
    ]
    (first, _), (body, signature) = received
    assert first == body  # the retry is the same Event
    assert verify_signature(body, signature, secret)
    event = parse_event(body)
    assert event.claim is not None
    assert (event.description, event.claim.claim_id, event.claim.status) == (
        "claim.approved",
        claim_id,
        "approved",
    )
    assert json.loads(body)["previous_attributes"] == {"status": "submitted"}
