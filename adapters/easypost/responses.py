"""Pure parsers of EasyPost answers: claims, pages of claims, errors, and the port's answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.easypost.units import CANCELLED, CURRENCY, STATUSES
from domain.claims import CarrierAnswer
from domain.errors import PermanentPortError, PortError, TransientPortError
from domain.money import Money

Json = Mapping[str, Any]


@dataclass(frozen=True)
class ClaimRecord:
    """The fields of an EasyPost Claim that parcelflow reads."""

    claim_id: str
    tracking_code: str
    status: str
    status_detail: str
    reference: str = ""
    requested: Money | None = None
    approved: Money | None = None

    @property
    def active(self) -> bool:
        """Every claim but a cancelled one blocks a second filing on the same parcel."""
        return self.status != CANCELLED


@dataclass(frozen=True)
class ApiError:
    """An error answer: HTTP status, EasyPost's code and message, and the fields it names."""

    status: int
    code: str
    message: str
    details: tuple[str, ...] = ()
    retry_after: float | None = None

    def port_error(self, what: str) -> PortError:
        """Transient for throttling (429) and server errors (5xx); permanent for the rest."""
        detail = f" ({'; '.join(self.details)})" if self.details else ""
        text = f"EasyPost {what}: HTTP {self.status} {self.code}: {self.message}{detail}"
        if self.status == 429:
            wait = f", retry after {self.retry_after:g} s" if self.retry_after is not None else ""
            return TransientPortError(f"{text}{wait}")
        if self.status >= 500:
            return TransientPortError(text)
        if self.status in {401, 403}:
            return PermanentPortError(f"EasyPost refused the API key: {self.message}")
        return PermanentPortError(text)


def parse_error(status: int, body: Any, retry_after: str | None = None) -> ApiError:
    """The ``{"error": {code, message, errors}}`` body; ``errors`` holds field objects or text."""
    error = body.get("error") if isinstance(body, Mapping) else None
    error = error if isinstance(error, Mapping) else {}
    details = []
    for item in error.get("errors") or []:
        if isinstance(item, Mapping):
            details.append(f"{item.get('field', '?')}: {item.get('message', '')}".strip())
        else:
            details.append(str(item))
    return ApiError(
        status=status,
        code=str(error.get("code") or "UNKNOWN"),
        message=str(error.get("message") or f"HTTP {status}"),
        details=tuple(details),
        retry_after=_seconds(retry_after),
    )


def parse_money(value: Any) -> Money | None:
    """A USD decimal string ("18.50") as Money; None for null or empty."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        msg = f"EasyPost sent an amount that is not a number: {value!r}"
        raise PermanentPortError(msg) from exc
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        msg = f"EasyPost sent an amount parcelflow cannot hold: {value!r}"
        raise PermanentPortError(msg)
    return Money(minor=int(amount * 100), currency=CURRENCY)


def parse_claim(body: Any) -> ClaimRecord:
    """One Claim object."""
    if not isinstance(body, Mapping) or not body.get("id"):
        raise PermanentPortError("EasyPost answered without a claim")
    return ClaimRecord(
        claim_id=str(body["id"]),
        tracking_code=str(body.get("tracking_code") or ""),
        status=str(body.get("status") or ""),
        status_detail=_reason(body),
        reference=str(body.get("reference") or ""),
        requested=parse_money(body.get("requested_amount")),
        approved=parse_money(body.get("approved_amount")),
    )


def parse_claim_page(body: Any) -> tuple[list[ClaimRecord], bool]:
    """A page of ``GET /v2/claims``: its claims (newest first) and whether more follow."""
    if not isinstance(body, Mapping) or not isinstance(body.get("claims"), list):
        raise PermanentPortError("EasyPost answered the claim list without 'claims'")
    return [parse_claim(item) for item in body["claims"]], bool(body.get("has_more"))


def carrier_answer(claim: ClaimRecord) -> CarrierAnswer:
    """The port's answer: approved → paid (the approved amount), rejected or cancelled →
    rejected (EasyPost's reason), the rest → pending."""
    outcome = STATUSES.get(claim.status)
    if outcome == "paid":
        # A full approval pays what was asked when EasyPost leaves approved_amount empty
        # (UNCONFIRMED whether it ever does); a partial one is only known by its amount.
        full = claim.requested if claim.status == "approved" else None
        amount = claim.approved or full
        if amount is None:
            return CarrierAnswer(status="pending", reason=f"{claim.status} without an amount yet")
        return CarrierAnswer(status="paid", amount=amount, reason=claim.status_detail)
    if outcome == "rejected":
        reason = claim.status_detail or f"claim {claim.status} at EasyPost"
        return CarrierAnswer(status="rejected", reason=reason)
    detail = claim.status_detail if outcome else f"unknown EasyPost status {claim.status!r}"
    return CarrierAnswer(status="pending", reason=detail)


def _reason(body: Json) -> str:
    """The claim's ``status_detail``, else the newest history entry's for its status."""
    if detail := str(body.get("status_detail") or ""):
        return detail
    history = [h for h in body.get("history") or [] if isinstance(h, Mapping)]
    current = [h for h in history if h.get("status") == body.get("status")]
    newest = max(current, key=lambda h: str(h.get("timestamp") or ""), default=None)
    return str(newest.get("status_detail") or "") if newest else ""


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the caller's own backoff applies
