"""Standard Webhooks signatures (standardwebhooks.com): HMAC-SHA256 over id, timestamp and body.

A sender puts three headers on every delivery: ``webhook-id`` (unique message id),
``webhook-timestamp`` (unix seconds) and ``webhook-signature`` (space-separated
``v1,<base64 HMAC-SHA256>`` entries, several while the sender rotates its key). The signed
content is ``{id}.{timestamp}.{raw body}``. Secrets are ``whsec_<base64 key>`` strings (the
prefix is optional) or the raw key bytes; a receiver rotating its own key accepts several.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import InvalidInput, ParcelflowError

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 -- the format's marker, not a credential.
SIGNATURE_VERSION = "v1"
TOLERANCE = timedelta(minutes=5)
"""How far a delivery's timestamp may be from our clock, either way, to limit replays."""


class SignatureReason(StrEnum):
    """Why a webhook was refused. The values are part of the public API (HTTP responses, logs)."""

    MISSING_HEADER = "missing_header"
    MALFORMED_HEADER = "malformed_header"
    STALE_TIMESTAMP = "stale_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    BAD_SIGNATURE = "bad_signature"
    NO_SECRET = "no_secret"  # noqa: S105 -- a reason code, not a credential.


class SignatureError(ParcelflowError):
    """A webhook delivery that cannot be trusted: ``reason`` says which check failed."""

    def __init__(self, reason: SignatureReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_secret(secret: str | bytes) -> bytes:
    """The HMAC key of ``secret``: raw bytes as given, or a ``whsec_``-prefixed base64 string.

    Raises ``InvalidInput`` for a string that is not base64 or an empty key: a configuration
    mistake the operator must see, not a webhook to refuse.
    """
    if isinstance(secret, bytes):
        key = secret
    else:
        encoded = secret.removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise InvalidInput("webhook secret", "is not whsec_ followed by base64") from exc
    if not key:
        raise InvalidInput("webhook secret", "is empty")
    return key


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value a sender holding ``secret`` puts on ``body``."""
    digest = _digest(decode_secret(secret), msg_id, str(timestamp), body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    headers: Mapping[str, str], body: bytes, secrets: Sequence[str | bytes], now: datetime
) -> None:
    """Return if ``body`` was signed by one of ``secrets`` within ``TOLERANCE`` of ``now``.

    ``headers`` are matched case-insensitively; ``body`` must be the raw bytes received,
    before any JSON parsing. Raises ``SignatureError`` naming the first check that failed.
    """
    if now.tzinfo is None:
        raise InvalidInput("now", "must be timezone-aware")
    if not secrets:
        raise SignatureError(SignatureReason.NO_SECRET, "no webhook secret is configured")
    keys = [decode_secret(secret) for secret in secrets]

    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [h for h in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER) if not lowered.get(h)]
    if missing:
        raise SignatureError(SignatureReason.MISSING_HEADER, f"missing {', '.join(missing)}")
    msg_id = lowered[ID_HEADER]
    raw_timestamp = lowered[TIMESTAMP_HEADER]
    signatures = _v1_signatures(lowered[SIGNATURE_HEADER])

    if not (raw_timestamp.isascii() and raw_timestamp.isdigit()):
        raise SignatureError(
            SignatureReason.MALFORMED_HEADER, f"{TIMESTAMP_HEADER} is not unix seconds"
        )
    offset = int(raw_timestamp) - now.timestamp()
    if offset < -TOLERANCE.total_seconds():
        raise SignatureError(
            SignatureReason.STALE_TIMESTAMP, f"signed {-offset:.0f}s ago, more than {TOLERANCE}"
        )
    if offset > TOLERANCE.total_seconds():
        raise SignatureError(
            SignatureReason.FUTURE_TIMESTAMP,
            f"signed {offset:.0f}s in the future, more than {TOLERANCE}",
        )

    for key in keys:
        expected = _digest(key, msg_id, raw_timestamp, body)
        if any(hmac.compare_digest(expected, signature) for signature in signatures):
            return
    raise SignatureError(SignatureReason.BAD_SIGNATURE, "no signature matches a known secret")


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    signed_content = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed_content, hashlib.sha256).digest()


def _v1_signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a ``webhook-signature`` header (other versions ignored)."""
    entries = header.split()
    if not entries:
        raise SignatureError(SignatureReason.MALFORMED_HEADER, f"{SIGNATURE_HEADER} is blank")
    signatures: list[bytes] = []
    for entry in entries:
        version, comma, encoded = entry.partition(",")
        if not comma or not version or not encoded:
            raise SignatureError(
                SignatureReason.MALFORMED_HEADER,
                f"{SIGNATURE_HEADER} entries must be <version>,<signature>",
            )
        if version != SIGNATURE_VERSION:
            continue
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except binascii.Error as exc:
            raise SignatureError(
                SignatureReason.MALFORMED_HEADER, f"{SIGNATURE_HEADER} v1 entry is not base64"
            ) from exc
    if not signatures:
        raise SignatureError(SignatureReason.BAD_SIGNATURE, f"no {SIGNATURE_VERSION} signature")
    return signatures
