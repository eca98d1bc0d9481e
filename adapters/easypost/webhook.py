"""EasyPost webhooks: the ``X-Hmac-Signature`` check and the claim Event parser, both pure.

The signature is easypost-python's ``validate_webhook``: ``hmac-sha256-hex=`` and the hex
HMAC-SHA256 of the raw body, keyed with the webhook secret NFKD-normalised and UTF-8 encoded.
The claim events are ``claim.<what>`` on one stored version of EasyPost's Events page and
``claims.<what>`` on another: both spellings are taken (tests/contracts/SOURCES.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.easypost.responses import ClaimRecord, parse_claim, parse_money
from domain.errors import InvalidInput, PermanentPortError

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
CLAIM_EVENT_PREFIXES = ("claim.", "claims.")
CLAIM_STATUS_EVENTS = frozenset({"submitted", "updated", "approved", "rejected", "cancelled"})
"""The events whose ``result`` is the Claim; ``claim.message`` carries a ClaimMessage instead."""
MAX_TRACKING_CODE = 100


@dataclass(frozen=True)
class WebhookEvent:
    """One Event: its id (EasyPost may deliver it more than once), its name, and the Claim when
    it is a claim status event (None for any other event, e.g. ``tracker.updated``)."""

    event_id: str
    description: str
    claim: ClaimRecord | None


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hmac-Signature`` value EasyPost puts on ``body`` for a webhook with ``secret``."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether ``signature`` (the header, compared exactly) signs ``body`` with ``secret``."""
    if not signature or not secret or not signature.isascii():
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.encode())


def is_claim_status_event(description: str) -> bool:
    """``claim.approved``, ``claims.updated``, ...: an event whose ``result`` is a Claim."""
    for prefix in CLAIM_EVENT_PREFIXES:
        if description.startswith(prefix):
            return description.removeprefix(prefix) in CLAIM_STATUS_EVENTS
    return False


def parse_event(body: bytes) -> WebhookEvent:
    """The Event in a webhook body; raises ``InvalidInput`` naming the first field that is wrong."""
    try:
        event: Any = json.loads(body)
    except ValueError as exc:
        raise InvalidInput("body", "not JSON") from exc
    if not isinstance(event, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    if event.get("object") != "Event":
        raise InvalidInput("object", "must be 'Event'")
    event_id, description = _text(event, "id"), _text(event, "description")
    if not is_claim_status_event(description):
        return WebhookEvent(event_id, description, None)
    return WebhookEvent(event_id, description, _claim(event.get("result")))


def _claim(result: Any) -> ClaimRecord:
    if not isinstance(result, Mapping):
        raise InvalidInput("result", "must be the Claim object")
    if result.get("object", "Claim") != "Claim":
        raise InvalidInput("result.object", "must be 'Claim'")
    for name in ("id", "tracking_code", "status"):
        _text(result, name, f"result.{name}")
    code = str(result["tracking_code"])
    if len(code) > MAX_TRACKING_CODE or any(c.isspace() for c in code):
        problem = f"must be a tracking code (at most {MAX_TRACKING_CODE} characters, no spaces)"
        raise InvalidInput("result.tracking_code", problem)
    for name in ("requested_amount", "approved_amount"):
        try:
            parse_money(result.get(name))
        except PermanentPortError as exc:
            raise InvalidInput(f"result.{name}", "must be a USD amount such as '18.50'") from exc
    return parse_claim(result)


def _text(data: Mapping[str, Any], name: str, field: str | None = None) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field or name, "must be a non-empty string")
    return value
