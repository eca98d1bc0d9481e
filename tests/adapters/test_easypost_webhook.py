"""EasyPost webhooks, pure: the X-Hmac-Signature check and the claim Event parser, against
EasyPost's own fixtures (tests/contracts/SOURCES.md)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from adapters.easypost.responses import carrier_answer
from adapters.easypost.webhook import parse_event, sign, verify_signature
from domain.errors import InvalidInput
from domain.money import Money

CONTRACTS = Path(__file__).parent.parent / "contracts" / "easypost"
HMAC = json.loads((CONTRACTS / "webhook_hmac_fixture.json").read_text(encoding="utf-8"))
EVENT: dict[str, Any] = json.loads(
    (CONTRACTS / "webhook_event_tracker_updated.json").read_text(encoding="utf-8")
)
CLAIM: dict[str, Any] = json.loads(
    (CONTRACTS / "claim_retrieve_response.json").read_text(encoding="utf-8")
)


def compact(payload: Any) -> bytes:
    """The body as EasyPost's client libraries' tests sign it (compact separators)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def claim_event(description: str = "claim.approved", **claim: Any) -> dict[str, Any]:
    """EasyPost's documented Event envelope around its documented Claim."""
    result = CLAIM | {"status": "approved", "approved_amount": "18.50"} | claim
    return EVENT | {"id": "evt_claim_1", "description": description, "result": result}


def test_the_documented_signature_verifies_the_documented_event() -> None:
    assert verify_signature(compact(EVENT), HMAC["hmac_signature"], HMAC["secret"])
    assert sign(compact(EVENT), HMAC["secret"]) == HMAC["hmac_signature"]


def test_a_flipped_body_byte_does_not_verify() -> None:
    body = bytearray(compact(EVENT))
    body[len(body) // 2] ^= 0x01
    assert not verify_signature(bytes(body), HMAC["hmac_signature"], HMAC["secret"])


def test_a_flipped_signature_digit_or_another_secret_does_not_verify() -> None:
    signature = HMAC["hmac_signature"]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert not verify_signature(compact(EVENT), flipped, HMAC["secret"])
    assert not verify_signature(compact(EVENT), signature, "secret")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db",
        "hmac-sha256-hex=é",
    ],
    ids=["absent", "empty", "without-prefix", "not-ascii"],
)
def test_a_missing_or_malformed_header_does_not_verify(header: str | None) -> None:
    assert not verify_signature(compact(EVENT), header, HMAC["secret"])


def test_the_secret_is_nfkd_normalised_as_the_official_sdk_does() -> None:
    composed = unicodedata.normalize("NFC", HMAC["secret"])
    decomposed = unicodedata.normalize("NFD", HMAC["secret"])
    assert composed != decomposed
    for secret in (composed, decomposed):
        assert verify_signature(compact(EVENT), HMAC["hmac_signature"], secret)


def test_the_documented_tracker_event_parses_and_is_not_a_claim_status() -> None:
    event = parse_event(compact(EVENT))
    assert (event.event_id, event.description, event.claim) == ("evt_1", "tracker.updated", None)


@pytest.mark.parametrize("description", ["claim.approved", "claims.approved"])
def test_a_claim_approved_event_in_either_spelling_carries_the_claim(description: str) -> None:
    event = parse_event(compact(claim_event(description)))
    assert event.claim is not None
    assert (event.claim.claim_id, event.claim.tracking_code) == (
        CLAIM["id"],
        CLAIM["tracking_code"],
    )
    answer = carrier_answer(event.claim)
    assert (answer.status, answer.amount) == ("paid", Money(minor=18_50))


@pytest.mark.parametrize(
    ("description", "status"),
    [
        ("claim.submitted", "submitted"),
        ("claims.updated", "in_review"),
        ("claim.cancelled", "cancelled"),
    ],
)
def test_every_claim_status_event_carries_the_claim(description: str, status: str) -> None:
    event = parse_event(compact(claim_event(description, status=status, approved_amount=None)))
    assert event.claim is not None
    assert event.claim.status == status


def test_a_claim_message_is_not_a_claim_status_change() -> None:
    message = {"id": "cmsg_1", "object": "ClaimMessage", "claim_id": CLAIM["id"]}
    event = parse_event(compact(EVENT | {"description": "claim.message", "result": message}))
    assert event.claim is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[]", "body"),
        (b"not json", "body"),
        (compact(EVENT | {"object": "Tracker"}), "object"),
        (compact(EVENT | {"id": ""}), "id"),
        (compact({k: v for k, v in EVENT.items() if k != "description"}), "description"),
        (compact(claim_event() | {"result": None}), "result"),
        (compact(claim_event(object="Tracker")), "result.object"),
        (compact(claim_event(tracking_code=None)), "result.tracking_code"),
        (compact(claim_event(tracking_code="UG 1")), "result.tracking_code"),
        (compact(claim_event(id="")), "result.id"),
        (compact(claim_event(status=None)), "result.status"),
        (compact(claim_event(approved_amount="18.505")), "result.approved_amount"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_event(body)
    assert refused.value.field == field
