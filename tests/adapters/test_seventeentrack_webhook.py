"""17TRACK push webhooks are trusted only with a valid ``sign`` header, then parsed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from adapters.seventeentrack.webhook import parse_push, sign, verify_signature
from domain.errors import InvalidInput

BODY = (
    Path(__file__).parent / "payloads" / "seventeentrack" / "push_tracking_updated.json"
).read_bytes()
KEY = "dev-token"


def test_the_signature_is_the_sha256_of_body_slash_key() -> None:
    # Vector computed independently: sha256(b'{"event":"TRACKING_STOPPED"}/abc').
    body = b'{"event":"TRACKING_STOPPED"}'

    assert sign(body, "abc") == hashlib.sha256(b'{"event":"TRACKING_STOPPED"}/abc').hexdigest()
    assert sign(b"", "") == "8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1"


def test_a_push_signed_with_the_key_is_accepted() -> None:
    assert verify_signature(BODY, sign(BODY, KEY), KEY) is True
    assert verify_signature(BODY, sign(BODY, KEY).upper(), KEY) is True


@pytest.mark.parametrize(
    ("body", "signature", "key"),
    [
        (BODY + b" ", sign(BODY, KEY), KEY),
        (BODY, sign(BODY, "other-key"), KEY),
        (BODY, None, KEY),
        (BODY, "", KEY),
        (BODY, sign(BODY, ""), ""),
    ],
)
def test_a_tampered_unsigned_or_wrongly_signed_push_is_refused(
    body: bytes, signature: str | None, key: str
) -> None:
    assert verify_signature(body, signature, key) is False


def test_a_push_parses_into_the_numbers_record() -> None:
    push = parse_push(BODY)

    assert push.event == "TRACKING_UPDATED"
    assert (push.record.carrier, push.record.tracking_number, push.record.known) == (
        "china_post",
        "RR123456785CN",
        True,
    )
    assert [scan.code for scan in push.record.events] == ["InfoReceived", "InTransit_PickedUp"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b'{"data": {}}', "event"),
        (b'{"event": "TRACKING_UPDATED"}', "data.number"),
    ],
)
def test_a_malformed_push_names_what_is_missing(body: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_push(body)

    assert raised.value.field == field
