"""Standard Webhooks signatures: the published vector, rotation, and every refusal."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidInput, ParcelflowError
from workers.webhook_signatures import (
    SignatureError,
    SignatureReason,
    sign,
    verify,
)

# The test vector published with the Standard Webhooks specification (and Svix's libraries).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SPEC_NOW = datetime.fromtimestamp(SPEC_TIMESTAMP, tz=UTC)

OTHER_SECRET = "whsec_" + base64.b64encode(b"another key, thirty-two bytes!!!").decode()


def spec_headers(**overrides: str) -> dict[str, str]:
    headers = {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    headers.update({name.replace("_", "-"): value for name, value in overrides.items()})
    return headers


def signed_headers(secret: str | bytes, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, SPEC_MSG_ID, timestamp, body),
    }


def refusal(
    headers: dict[str, str],
    body: bytes = SPEC_BODY,
    secrets: tuple[str | bytes, ...] = (SPEC_SECRET,),
    now: datetime = SPEC_NOW,
) -> SignatureReason:
    with pytest.raises(SignatureError) as caught:
        verify(headers, body, secrets, now)
    return caught.value.reason


def test_sign_reproduces_the_published_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_published_test_vector_is_accepted() -> None:
    verify(spec_headers(), SPEC_BODY, [SPEC_SECRET], SPEC_NOW)


def test_a_secret_without_the_whsec_prefix_is_read_as_base64() -> None:
    verify(spec_headers(), SPEC_BODY, [SPEC_SECRET.removeprefix("whsec_")], SPEC_NOW)


def test_raw_byte_secrets_sign_and_verify() -> None:
    key = b"raw key bytes from a secret store"
    verify(signed_headers(key, SPEC_TIMESTAMP, SPEC_BODY), SPEC_BODY, [key], SPEC_NOW)


def test_a_delivery_signed_with_the_second_of_two_rotating_secrets_is_accepted() -> None:
    headers = signed_headers(OTHER_SECRET, SPEC_TIMESTAMP, SPEC_BODY)

    verify(headers, SPEC_BODY, [SPEC_SECRET, OTHER_SECRET], SPEC_NOW)
    assert refusal(headers, secrets=(SPEC_SECRET,)) is SignatureReason.BAD_SIGNATURE


def test_a_header_carrying_several_signatures_is_accepted_when_any_one_matches() -> None:
    rotating = sign(OTHER_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY)
    header = f"v1a,ignored-asymmetric-entry {rotating} {SPEC_SIGNATURE}"

    verify(spec_headers(webhook_signature=header), SPEC_BODY, [SPEC_SECRET], SPEC_NOW)


def test_header_names_are_matched_whatever_their_case() -> None:
    headers = {name.title(): value for name, value in spec_headers().items()}

    verify(headers, SPEC_BODY, [SPEC_SECRET], SPEC_NOW)


@pytest.mark.parametrize("position", [0, len(SPEC_BODY) // 2, len(SPEC_BODY) - 1])
def test_a_body_changed_by_one_byte_is_refused(position: int) -> None:
    tampered = bytearray(SPEC_BODY)
    tampered[position] ^= 0x01

    assert refusal(spec_headers(), body=bytes(tampered)) is SignatureReason.BAD_SIGNATURE


def test_a_body_with_an_extra_trailing_newline_is_refused() -> None:
    assert refusal(spec_headers(), body=SPEC_BODY + b"\n") is SignatureReason.BAD_SIGNATURE


def test_a_replayed_signature_under_another_message_id_or_timestamp_is_refused() -> None:
    other_id = spec_headers(webhook_id="msg_someone_else")
    later = spec_headers(webhook_timestamp=str(SPEC_TIMESTAMP + 60))

    assert refusal(other_id) is SignatureReason.BAD_SIGNATURE
    assert refusal(later) is SignatureReason.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("skew", "reason"),
    [
        (timedelta(minutes=-6), SignatureReason.STALE_TIMESTAMP),
        (timedelta(minutes=6), SignatureReason.FUTURE_TIMESTAMP),
        (timedelta(minutes=-5, seconds=-1), SignatureReason.STALE_TIMESTAMP),
        (timedelta(minutes=5, seconds=1), SignatureReason.FUTURE_TIMESTAMP),
    ],
)
def test_a_delivery_signed_more_than_five_minutes_from_our_clock_is_refused(
    skew: timedelta, reason: SignatureReason
) -> None:
    signed_at = SPEC_TIMESTAMP + int(skew.total_seconds())
    headers = signed_headers(SPEC_SECRET, signed_at, SPEC_BODY)

    assert refusal(headers) is reason


@pytest.mark.parametrize(
    "skew",
    [
        timedelta(minutes=-4),
        timedelta(minutes=4),
        timedelta(minutes=-5),
        timedelta(minutes=5),
    ],
)
def test_a_delivery_signed_within_five_minutes_of_our_clock_is_accepted(skew: timedelta) -> None:
    signed_at = SPEC_TIMESTAMP + int(skew.total_seconds())

    verify(signed_headers(SPEC_SECRET, signed_at, SPEC_BODY), SPEC_BODY, [SPEC_SECRET], SPEC_NOW)


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
@pytest.mark.parametrize("absent_as", ["removed", "empty"])
def test_a_delivery_missing_a_header_is_refused(header: str, absent_as: str) -> None:
    headers = spec_headers()
    if absent_as == "removed":
        del headers[header]
    else:
        headers[header] = ""

    with pytest.raises(SignatureError) as caught:
        verify(headers, SPEC_BODY, [SPEC_SECRET], SPEC_NOW)

    assert caught.value.reason is SignatureReason.MISSING_HEADER
    assert header in str(caught.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"webhook_timestamp": "yesterday"},
        {"webhook_timestamp": "1614265330.5"},
        {"webhook_timestamp": "-1614265330"},
        # Full-width digits: str.isdigit() says yes, but they are not unix seconds.
        {"webhook_timestamp": "\uff12\uff10\uff12\uff14"},
        {"webhook_signature": "   "},
        {"webhook_signature": "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook_signature": "v1,"},
        {"webhook_signature": ",g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook_signature": "v1,not*base64!"},
    ],
)
def test_a_delivery_with_a_malformed_header_is_refused(overrides: dict[str, str]) -> None:
    assert refusal(spec_headers(**overrides)) is SignatureReason.MALFORMED_HEADER


def test_a_header_with_no_v1_signature_is_refused() -> None:
    headers = spec_headers(webhook_signature="v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

    assert refusal(headers) is SignatureReason.BAD_SIGNATURE


def test_a_delivery_signed_with_an_unknown_secret_is_refused() -> None:
    assert refusal(spec_headers(), secrets=(OTHER_SECRET,)) is SignatureReason.BAD_SIGNATURE


def test_every_delivery_is_refused_when_no_secret_is_configured() -> None:
    assert refusal(spec_headers(), secrets=()) is SignatureReason.NO_SECRET


def test_a_secret_that_is_not_base64_is_a_configuration_error() -> None:
    with pytest.raises(InvalidInput, match="webhook secret"):
        verify(spec_headers(), SPEC_BODY, ["whsec_not base64!"], SPEC_NOW)


def test_a_naive_clock_is_a_programming_error() -> None:
    naive_now = SPEC_NOW.replace(tzinfo=None)

    with pytest.raises(InvalidInput, match="now"):
        verify(spec_headers(), SPEC_BODY, [SPEC_SECRET], naive_now)


def test_a_refusal_is_a_parcelflow_error_whose_reason_is_a_stable_public_string() -> None:
    error = SignatureError(SignatureReason.STALE_TIMESTAMP, "signed 360s ago")

    assert isinstance(error, ParcelflowError)
    assert str(error) == "stale_timestamp: signed 360s ago"
    assert [reason.value for reason in SignatureReason] == [
        "missing_header",
        "malformed_header",
        "stale_timestamp",
        "future_timestamp",
        "bad_signature",
        "no_secret",
    ]
