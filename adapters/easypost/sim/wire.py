"""The simulator's JSON in EasyPost's shapes: the Claim object, error bodies, timestamps."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from adapters.easypost.sim.rules import SimRefusal, invalid
from adapters.easypost.sim.state import SimClaim
from domain.money import Money

FILES_URL = "https://easypost-files.invalid/insurance"


def timestamp(moment: datetime) -> str:
    """``2025-03-06T19:48:04Z``, as EasyPost writes times."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def read_time(field: str, text: str) -> datetime:
    """A list filter's ISO 8601 time (zone-less means UTC)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(field, "must be an ISO 8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def decimal(money: Money | None) -> str | None:
    """USD as EasyPost's decimal string."""
    return None if money is None else money.decimal_str


def claim_json(claim: SimClaim) -> dict[str, Any]:
    """The Claim object: fields as EasyPost's recorded answers show them (history newest first)."""
    filed, current = claim.filed, claim.current
    attachments = [
        f"{FILES_URL}/{hashlib.sha256(data).hexdigest()[:32]}" for _, data in filed.attachments
    ]
    return {
        "id": claim.claim_id,
        "object": "Claim",
        "mode": "test",
        "approved_amount": decimal(claim.approved),
        "attachments": attachments,
        "check_delivery_address": None,
        "contact_email": filed.contact_email,
        "created_at": timestamp(claim.created_at),
        "description": filed.description,
        "history": [
            {
                "status": h.status,
                "status_detail": h.status_detail,
                "timestamp": timestamp(h.at),
            }
            for h in reversed(claim.history)
        ],
        "insurance_amount": decimal(claim.insurance.amount),
        "insurance_id": claim.insurance.insurance_id,
        "payment_method": filed.payment_method,
        "recipient_name": filed.recipient_name,
        "reference": filed.reference or None,
        "requested_amount": decimal(filed.amount),
        "salvage_value": None,
        "shipment_id": claim.insurance.shipment_id,
        "status": current.status,
        "status_detail": current.status_detail,
        "status_timestamp": timestamp(current.at),
        "tracking_code": filed.tracking_code,
        "type": filed.claim_type,
        "updated_at": timestamp(current.at),
    }


def error_body(refusal: SimRefusal) -> dict[str, Any]:
    """``{"error": {"code", "message", "errors"}}``."""
    return {"error": {"code": refusal.code, "message": refusal.message, "errors": refusal.errors}}
