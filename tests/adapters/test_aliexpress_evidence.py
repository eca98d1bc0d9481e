"""Evidence upload: the real client against the marketplace simulator over real HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.aliexpress import AliExpressClient, refusal_reason
from adapters.aliexpress import requests as build
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import Fault, SimState, create_app
from domain.errors import PermanentPortError, PlatformRefused, RefusalReason
from domain.evidence_files import Evidence, EvidenceKind
from domain.ports import Platform

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
SECRET = "sim-secret"
UPLOAD = "aliexpress.issue.image.upload"
LABEL = Evidence(
    kind=EvidenceKind.SHIPPING_LABEL,
    filename="label.png",
    content_type="image/png",
    data=b"\x89PNG\r\n\x1a\n" + b"label" * 100,
)


@pytest.fixture
def state() -> SimState:
    state = SimState(app_key="sim-key", app_secret=SECRET, fault_sleep=1.0)
    state.set_now(T0)
    state.add_order("1001", eta=T0 + timedelta(days=15))
    return state


@pytest.fixture
def dispute_id(state: SimState) -> str:
    return state.open_dispute("1001").dispute_id


@pytest.fixture
def base_url(state: SimState) -> Iterator[str]:
    with serve_in_thread(create_app(state)) as url:
        yield url


def sim_client(base_url: str, secret: str = SECRET) -> AliExpressClient:
    return AliExpressClient(base_url, "sim-key", secret, "tok", timeout=0.5, retry_delay=0)


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[AliExpressClient]:
    async with sim_client(base_url) as client:
        yield client


def uploads(state: SimState) -> list[str]:
    return [e.idempotency_key or "" for e in state.ledger() if e.kind == "evidence_uploaded"]


async def test_an_image_lands_once_on_the_dispute_and_its_url_is_returned(
    client: AliExpressClient, state: SimState, dispute_id: str
) -> None:
    platform: Platform = client  # mypy checks the client still satisfies the port.
    url = await platform.upload_evidence(dispute_id, LABEL, "wf:evidence-label")
    again = await platform.upload_evidence(dispute_id, LABEL, "wf:evidence-label")
    assert again == url
    assert url.startswith(f"https://ae-sim.invalid/issue/{dispute_id}/")
    assert (await client.dispute_snapshot(dispute_id)).evidence_of("seller") == (url,)
    [entry] = state.effects("wf:evidence-label")
    assert entry.kind == "evidence_uploaded"
    assert (entry.detail["filename"], entry.detail["size"]) == ("label.png", len(LABEL.data))
    [stored] = state.dispute(dispute_id).evidence
    assert (stored.file_path, stored.content_type) == (url, "image/png")


async def test_two_keys_attach_two_images(
    client: AliExpressClient, state: SimState, dispute_id: str
) -> None:
    first = await client.upload_evidence(dispute_id, LABEL, "wf:evidence-1")
    second = await client.upload_evidence(dispute_id, LABEL, "wf:evidence-2")
    assert first != second
    assert uploads(state) == ["wf:evidence-1", "wf:evidence-2"]


async def test_an_upload_with_a_bad_signature_is_refused_and_stores_nothing(
    base_url: str, state: SimState, dispute_id: str
) -> None:
    async with sim_client(base_url, secret="wrong-secret") as client:
        with pytest.raises(PermanentPortError, match="IncompleteSignature"):
            await client.upload_evidence(dispute_id, LABEL, "wf:evidence")
    call = build.issue_image_upload(dispute_id, "buyer-1", LABEL, "wf:evidence")
    form = build.signed_form(
        call,
        app_key="sim-key",
        app_secret=SECRET,
        session="tok",
        timestamp_ms=int(time.time() * 1000),
    )
    tampered = {**form, "issue_id": "9999999999"}
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{base_url}/sync",
            data=tampered,
            files={"image_bytes": ("label.png", LABEL.data, "image/png")},
        )
    assert response.json()["error_response"]["code"] == "IncompleteSignature"
    assert uploads(state) == []
    assert state.dispute(dispute_id).evidence == []


async def test_a_multipart_upload_signed_over_its_parameters_alone_is_accepted(
    base_url: str, state: SimState, dispute_id: str
) -> None:
    call = build.issue_image_upload(dispute_id, "buyer-1", LABEL, "raw:evidence")
    form = build.signed_form(
        call, app_key="sim-key", app_secret=SECRET, session="tok", timestamp_ms=1
    )
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{base_url}/sync",
            data=form,
            files={"image_bytes": ("label.png", LABEL.data, "image/png")},
        )
    assert response.json() == {
        "aliexpress_issue_image_upload_response": {
            "result_object": True,
            "request_id": response.json()["aliexpress_issue_image_upload_response"]["request_id"],
        }
    }
    assert uploads(state) == ["raw:evidence"]


@pytest.mark.parametrize("fault", [Fault.EXECUTE_THEN_DROP, Fault.TIMEOUT, Fault.ERROR_5XX])
async def test_an_upload_lands_exactly_once_per_key_whatever_the_fault(
    client: AliExpressClient, state: SimState, dispute_id: str, fault: Fault
) -> None:
    state.inject(UPLOAD, fault)
    url = await client.upload_evidence(dispute_id, LABEL, "wf:evidence")
    assert uploads(state) == ["wf:evidence"]
    assert [e.file_path for e in state.dispute(dispute_id).evidence] == [url]
    assert state.take_fault(UPLOAD) is None


async def test_a_dropped_answer_is_read_back_not_resent_even_when_retried_under_the_key(
    client: AliExpressClient, state: SimState, dispute_id: str
) -> None:
    state.inject(UPLOAD, Fault.EXECUTE_THEN_DROP, count=3)
    url = await client.upload_evidence(dispute_id, LABEL, "wf:evidence")
    assert await client.upload_evidence(dispute_id, LABEL, "wf:evidence") == url
    assert uploads(state) == ["wf:evidence"]
    assert state.take_fault(UPLOAD) is Fault.EXECUTE_THEN_DROP  # Only one send was made.


async def test_a_file_that_is_not_an_image_is_refused_without_a_call(
    client: AliExpressClient, state: SimState, dispute_id: str
) -> None:
    statement = Evidence(
        kind=EvidenceKind.CARRIER_STATEMENT,
        filename="statement.pdf",
        content_type="application/pdf",
        data=b"%PDF-1.7",
    )
    with pytest.raises(PlatformRefused) as caught:
        await client.upload_evidence(dispute_id, statement, "wf:evidence")
    assert caught.value.code == "IMAGE_TYPE_UNSUPPORTED"
    assert uploads(state) == []


async def test_evidence_on_a_dispute_already_ruled_is_refused_and_the_refusal_is_remembered(
    client: AliExpressClient, state: SimState, dispute_id: str
) -> None:
    state.advance(timedelta(hours=25))
    with pytest.raises(PlatformRefused) as caught:
        await client.upload_evidence(dispute_id, LABEL, "wf:evidence")
    assert refusal_reason(caught.value.code) is RefusalReason.DEADLINE_PASSED
    with pytest.raises(PlatformRefused):
        await client.upload_evidence(dispute_id, LABEL, "wf:evidence")
    assert uploads(state) == []
