"""17TRACK push webhooks: the ``sign`` header check and the payload parser, both pure."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from adapters.seventeentrack.responses import item_carrier, track_record
from domain.errors import InvalidInput
from domain.tracking import CarrierRecord

TRACKING_UPDATED = "TRACKING_UPDATED"
TRACKING_STOPPED = "TRACKING_STOPPED"


@dataclass(frozen=True)
class PushNotification:
    """One push: the event name and the number's record as 17TRACK knows it now."""

    event: str
    record: CarrierRecord
    tag: str | None = None
    """The tag the number was registered with (our order's workflow id), as 17TRACK echoes it."""


def sign(body: bytes, key: str) -> str:
    """17TRACK's signature: hex SHA-256 of the raw body, a slash, and the security key."""
    return hashlib.sha256(body + b"/" + key.encode()).hexdigest()


def verify_signature(body: bytes, signature: str | None, key: str) -> bool:
    """Whether ``signature`` (the ``sign`` header) was made with ``key`` over ``body``."""
    if not signature or not key:
        return False
    return hmac.compare_digest(sign(body, key).encode(), signature.strip().lower().encode())


def parse_push(body: bytes) -> PushNotification:
    """The notification in a push body; raises ``InvalidInput`` naming what is missing."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidInput("body", "not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise InvalidInput("event", "missing")
    data = payload.get("data")
    if not isinstance(data, dict) or not data.get("number"):
        raise InvalidInput("data.number", "missing")
    if not isinstance(data["number"], str):
        raise InvalidInput("data.number", "not a tracking number (a string)")
    tag = data.get("tag")
    return PushNotification(
        event=payload["event"],
        record=track_record(item_carrier(data), data),
        tag=tag if isinstance(tag, str) and tag else None,
    )
