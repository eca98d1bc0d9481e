"""Pure builders of EasyPost Claims API requests: what to send, never how."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from adapters.easypost.units import CLAIMS_PATH, CURRENCY, LOSS, PAGE_SIZE, SUPPORTING_DOCUMENTS
from domain.carriers import parse_carrier
from domain.claims import FileClaim
from domain.errors import PermanentPortError
from domain.money import Money


@dataclass(frozen=True)
class HttpRequest:
    """One call: method, a path under the API root, a JSON body or query parameters."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None


def decimal_amount(money: Money) -> str:
    """``Money`` as EasyPost's USD decimal string; other currencies are refused."""
    if money.currency != CURRENCY:
        msg = f"EasyPost claims are in {CURRENCY}; the declared value is {money}"
        raise PermanentPortError(msg)
    return money.decimal_str


def proof_attachment(proof: str) -> str | None:
    """The base64 payload when ``proof`` is a ``data:...;base64,`` document, else None.

    The API takes attachments as base64 files, not links: a proof given as a reference
    (``doc://...``) is named in the description instead.
    """
    head, comma, payload = proof.strip().partition(",")
    if not (comma and head.startswith("data:") and head.endswith(";base64")):
        return None
    try:
        base64.b64decode(payload, validate=True)
    except binascii.Error:
        return None
    return payload


def claim_description(claim: FileClaim) -> str:
    """What the claims desk reads: the parcel, its loss proof, its declared value, our key.

    Carries no buyer data (the claim is the seller's; the parcel is named by its number).
    """
    carrier = parse_carrier(claim.carrier)
    name = carrier.display_name if carrier else claim.carrier
    proof = "attached" if proof_attachment(claim.proof) else claim.proof.strip()
    return (
        f"Parcel {claim.tracking_number} ({name}) was lost in transit. "
        f"Loss proof: {proof}. Declared value: {claim.declared_value}. "
        f"Filed by parcelflow ({claim.idempotency_key})."
    )


def build_create(claim: FileClaim, contact_email: str) -> HttpRequest:
    """``POST /v2/claims``: a loss claim for the declared value (R17).

    ``recipient_name`` (who receives the reimbursement) is optional and is left out;
    ``reference`` carries our idempotency key so a person can find the claim by it.
    """
    body: dict[str, Any] = {
        "tracking_code": claim.tracking_number,
        "type": LOSS,
        "amount": decimal_amount(claim.declared_value),
        "description": claim_description(claim),
        "contact_email": contact_email,
        "reference": claim.idempotency_key,
    }
    if (attachment := proof_attachment(claim.proof)) is not None:
        body[SUPPORTING_DOCUMENTS] = [attachment]
    return HttpRequest("POST", CLAIMS_PATH, json=body)


def build_retrieve(claim_id: str) -> HttpRequest:
    """``GET /v2/claims/{id}``."""
    return HttpRequest("GET", f"{CLAIMS_PATH}/{quote(claim_id, safe='')}")


def build_list(since: datetime, before_id: str | None = None) -> HttpRequest:
    """``GET /v2/claims``: one page, newest first, of the claims created since ``since``.

    The list filters by date, type and status, not by tracking code: the caller looks.
    """
    params = {"page_size": str(PAGE_SIZE), "start_datetime": wire_time(since)}
    if before_id:
        params["before_id"] = before_id
    return HttpRequest("GET", CLAIMS_PATH, params=params)


def wire_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as EasyPost writes its own timestamps."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
