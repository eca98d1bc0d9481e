"""What the simulated claims desk accepts, checked on its own (never with the client's code).

Error codes: PARAMETER.REQUIRED with "cannot be blank" and NOT_FOUND with "No eligible
insurance found with provided tracking code." are EasyPost's, seen in recorded answers; the
wording of PARAMETER.INVALID, CLAIM.DUPLICATE and the amount ceiling is UNCONFIRMED.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.money import Money

CLAIM_TYPES = ("damage", "loss", "theft")
PAYMENT_METHODS = ("easypost_wallet", "mailed_check")
ATTACHMENT_FIELDS = (
    "email_evidence_attachments",
    "invoice_attachments",
    "supporting_documentation_attachments",
)
REQUIRED = ("tracking_code", "type", "amount", "description", "contact_email")
FINAL = frozenset({"approved", "approved_partial", "rejected", "cancelled"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")


class SimRefusal(Exception):
    """An EasyPost error answer: HTTP status, code, message and per-field errors (or text)."""

    def __init__(
        self, status: int, code: str, message: str, errors: list[Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors: list[Any] = errors or []


def invalid(field: str, message: str) -> SimRefusal:
    """A 422 naming the field that is wrong."""
    errors = [{"field": field, "message": message}]
    return SimRefusal(422, "PARAMETER.INVALID", "Invalid parameter.", errors)


@dataclass(frozen=True)
class NewClaim:
    """A filing that passed the shape checks (insurance and duplicates are checked later)."""

    tracking_code: str
    claim_type: str
    amount: Money
    description: str
    contact_email: str
    reference: str
    attachments: tuple[tuple[str, bytes], ...]
    payment_method: str
    recipient_name: str | None


def read_new_claim(body: Any) -> NewClaim:
    """The filing in ``body``, or the 422 naming every missing field, then the first bad one."""
    if not isinstance(body, Mapping):
        raise SimRefusal(400, "BAD_REQUEST", "The request body must be a JSON object.")
    missing = [name for name in REQUIRED if not str(body.get(name) or "").strip()]
    if missing:
        errors = [{"field": name, "message": "cannot be blank"} for name in missing]
        raise SimRefusal(422, "PARAMETER.REQUIRED", "Missing required parameter.", errors)
    claim_type = str(body["type"])
    if claim_type not in CLAIM_TYPES:
        raise invalid("type", f"must be one of {', '.join(CLAIM_TYPES)}")
    if not _EMAIL.match(str(body["contact_email"]).strip()):
        raise invalid("contact_email", "is not an email address")
    attachments = tuple(
        (name, data) for name in ATTACHMENT_FIELDS for data in _files(name, body.get(name))
    )
    if claim_type in {"damage", "theft"} and not attachments:
        message = (
            "At least one supporting documentation attachment is required for theft or "
            "damage claims."
        )
        raise invalid("supporting_documentation_attachments", message)
    payment_method = str(body.get("payment_method") or "easypost_wallet")
    if payment_method not in PAYMENT_METHODS:
        raise invalid("payment_method", f"must be one of {', '.join(PAYMENT_METHODS)}")
    if payment_method == "mailed_check" and not body.get("check_delivery_address"):
        raise invalid("check_delivery_address", "is required for a mailed check")
    recipient = body.get("recipient_name")
    return NewClaim(
        tracking_code=str(body["tracking_code"]).strip(),
        claim_type=claim_type,
        amount=usd("amount", body["amount"]),
        description=str(body["description"]).strip(),
        contact_email=str(body["contact_email"]).strip(),
        reference=str(body.get("reference") or ""),
        attachments=attachments,
        payment_method=payment_method,
        recipient_name=str(recipient) if recipient else None,
    )


def usd(field: str, value: Any) -> Money:
    """A positive USD amount with at most two decimals, as text or a JSON number."""
    text = str(value).strip()
    if isinstance(value, bool) or not _AMOUNT.match(text):
        raise invalid(field, "must be a positive amount with at most two decimals")
    try:
        cents = int(Decimal(text) * 100)
    except InvalidOperation as exc:
        raise invalid(field, "is not a number") from exc
    if cents <= 0:
        raise invalid(field, "must be greater than 0")
    return Money(minor=cents, currency="USD")


def within_insurance(claim: NewClaim, insured: Money) -> None:
    """A claim asks at most the insured value of its parcel."""
    if claim.amount.minor > insured.minor:
        raise invalid("amount", f"cannot exceed the insured amount of {insured.decimal_str}")


def _files(field: str, value: Any) -> list[bytes]:
    """Attachments are lists of base64 files (a ``data:`` URI prefix is tolerated)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(field, "must be a list of base64-encoded files")
    files = []
    for item in value:
        payload = item.partition(",")[2] if item.startswith("data:") else item
        try:
            data = base64.b64decode(payload, validate=True)
        except binascii.Error as exc:
            raise invalid(field, "each file must be base64-encoded, not a link") from exc
        if not data:
            raise invalid(field, "an attachment is empty")
        files.append(data)
    return files
