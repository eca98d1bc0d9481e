"""The ports: what parcelflow needs from a marketplace, a tracking service and a claims desk.

Adapters in ``adapters/`` satisfy these Protocols structurally; in-memory fakes live in
``tests/fakes.py``. Every write carries a deterministic ``idempotency_key``
(``{workflow_id}:{step}``) so that a retried call never repeats a side effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from domain.money import Money
from domain.tracking_codes import IncidentReason, TrackingStatus

if TYPE_CHECKING:
    # domain.claims imports CarrierAnswer from here at run time: the command stays there.
    from domain.claims import FileClaim


class SolutionKind(StrEnum):
    """The valid solutions of a dispute (R14)."""

    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RESHIP = "reship"
    RETURN_AND_REFUND = "return_and_refund"


class Solution(BaseModel):
    """A solution offered to the buyer: ``refund`` for refunds, ``reship_carrier`` for reships."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SolutionKind
    refund: Money | None = None
    reship_carrier: str | None = None
    reship_tracking_number: str | None = None
    """R16: the replacement parcel's number (sent offline; validated like any upload)."""
    note: str = ""


class PlatformOrder(BaseModel):
    """What the marketplace says about an order right now (a listing gives no ETA; a read may
    lack the store, total or payment time)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: str
    estimated_delivery: datetime | None = None
    status_deadline: datetime | None = None
    seller_id: str | None = None
    total: Money | None = None
    paid_at: datetime | None = None
    end_reason: str = ""
    """Why a finished order ended, in the platform's words (e.g. ``buyer_confirm_goods``)."""


class PlatformOrderPage(BaseModel):
    """One page of the seller's order list: ``page`` of ``pages``."""

    model_config = ConfigDict(frozen=True)

    orders: tuple[PlatformOrder, ...] = ()
    page: int = 1
    pages: int = 1


class PlatformDispute(BaseModel):
    """A buyer dispute as the marketplace reports it."""

    model_config = ConfigDict(frozen=True)

    dispute_id: str
    order_id: str
    reason: str
    status: str
    opened_at: datetime
    response_deadline: datetime | None = None
    solution_deadline: datetime | None = None


MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""The largest image a dispute accepts as evidence (5 MB)."""


class EvidenceKind(StrEnum):
    """What a piece of dispute evidence shows."""

    SHIPPING_LABEL = "shipping_label"
    PACKING_VIDEO = "packing_video"
    CARRIER_STATEMENT = "carrier_statement"
    TRACKING_HISTORY = "tracking_history"
    PROOF_OF_DELIVERY = "proof_of_delivery"
    CHAT_RECORD = "chat_record"
    OTHER = "other"


class Evidence(BaseModel):
    """One file the seller submits to a dispute: its kind, name, media type and bytes.

    The name is a bare file name (no directory part); the data is never empty and an image is at
    most ``MAX_IMAGE_BYTES``. Whether a marketplace accepts a media type is the adapter's call.
    """

    # Base64 in JSON: the default (UTF-8) cannot carry binary files through Temporal payloads.
    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    kind: EvidenceKind
    filename: str
    content_type: str
    data: bytes

    @field_validator("filename")
    @classmethod
    def _bare_name(cls, value: str) -> str:
        name = value.strip()
        if not name or name in {".", ".."}:
            raise ValueError("the file name is empty")
        if any(sep in name for sep in ("/", "\\", "\x00")):
            raise ValueError("the file name must not contain a path separator")
        return name

    @field_validator("content_type")
    @classmethod
    def _media_type(cls, value: str) -> str:
        kind, slash, subtype = value.strip().lower().partition("/")
        if not (kind and slash and subtype):
            raise ValueError(f"{value!r} is not a media type (type/subtype)")
        return f"{kind}/{subtype}"

    @field_validator("data")
    @classmethod
    def _not_empty(cls, value: bytes) -> bytes:
        if not value:
            raise ValueError("the evidence file is empty")
        return value

    @model_validator(mode="after")
    def _image_size(self) -> Evidence:
        if self.is_image and len(self.data) > MAX_IMAGE_BYTES:
            raise ValueError(f"an image is at most {MAX_IMAGE_BYTES} bytes, got {len(self.data)}")
        return self

    @property
    def is_image(self) -> bool:
        """Whether the file is an image (``image/*``)."""
        return self.content_type.startswith("image/")

    @property
    def extension(self) -> str:
        """The file name's extension, lower-case without the dot ('' when it has none)."""
        _, dot, ext = self.filename.rpartition(".")
        return ext.lower() if dot else ""


class Platform(Protocol):
    """The marketplace (AliExpress Open Platform or its simulator)."""

    @property
    def supports_withdrawal(self) -> bool:
        """Whether this marketplace lets a seller withdraw a tracking number (R4/R9)."""
        ...

    def may_have_landed(self, idempotency_key: str) -> None:
        """An earlier attempt under this key may have reached the platform (an activity retry,
        perhaps after its worker died): read back before writing under it again."""
        ...

    async def upload_tracking(
        self,
        order_id: str,
        carrier: str,
        tracking_number: str,
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        """Attach a tracking number to an order (R1); ``store_id`` is the seller's, whose own
        settings (the platform's name for the carrier) apply."""
        ...

    async def modify_tracking(
        self,
        order_id: str,
        old: tuple[str, str],
        new: tuple[str, str],
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        """Replace the (carrier, number) pair ``old`` with ``new`` where the platform allows it."""
        ...

    async def list_disputes(self, order_id: str | None = None) -> list[PlatformDispute]:
        """The seller's disputes, optionally one order's (polling fallback for dispute hooks)."""
        ...

    async def withdraw_tracking(
        self, order_id: str, tracking_number: str, idempotency_key: str
    ) -> None:
        """Withdraw the tracking number (R4); raises ``PlatformRefused`` with the reason."""
        ...

    async def get_order(self, order_id: str) -> PlatformOrder:
        """The order's status, estimated delivery date and the platform's own deadline."""
        ...

    async def list_orders(self, statuses: Sequence[str], page: int = 1) -> PlatformOrderPage:
        """One page of the seller's orders in any of ``statuses`` (the platform's words), oldest
        first: the polling fallback for the order-creation hook."""
        ...

    async def get_dispute(self, dispute_id: str) -> PlatformDispute:
        """One dispute with the platform's own deadlines."""
        ...

    async def answer_dispute(self, dispute_id: str, message: str, idempotency_key: str) -> None:
        """The seller's first response to a dispute (R14)."""
        ...

    async def propose_solution(
        self, dispute_id: str, solution: Solution, idempotency_key: str
    ) -> None:
        """Offer a solution: full or partial refund, reship, return and refund (R14)."""
        ...

    async def message_buyer(self, order_id: str, text: str, idempotency_key: str) -> None:
        """Send the buyer a message on the order (R16: a reship's new number)."""
        ...

    async def upload_evidence(
        self, dispute_id: str, evidence: Evidence, idempotency_key: str
    ) -> str:
        """Attach one evidence file to a dispute; returns the platform's id or URL for it.

        Raises ``PlatformRefused`` when the marketplace will not take the file (closed dispute,
        unsupported media type, too large).
        """
        ...


class CarrierRecord(BaseModel):
    """What a tracking service knows about one number right now (R8, R10)."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    tracking_number: str
    known: bool
    events: tuple[RawScan, ...] = ()


class RawScan(BaseModel):
    """One scan as the tracking service reported it, read by its adapter: ``code`` is the
    carrier's own code, kept verbatim (T1); ``status`` and ``incident`` are what the adapter's
    status table says it means in the one status set (R10). The domain never reads ``code``."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    at: datetime
    code: str
    status: TrackingStatus
    incident: IncidentReason | None = None
    description: str = ""
    location: str = ""


class CarrierTracking(Protocol):
    """A tracking service (17TRACK or its simulator): at most 50 numbers a request (R12). Its
    records' scans come already read into the one status set (``RawScan.status``)."""

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        """Start following these (carrier, number) pairs."""
        ...

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        """The current record of each (carrier, number) pair."""
        ...

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        """Stop following these numbers (terminal or past the horizon)."""
        ...


@runtime_checkable
class TaggedRegistration(Protocol):
    """A tracking service that labels each number it follows (17TRACK's ``tag``) and echoes the
    label in the number's pushes and look-ups: parcelflow tags a number with its order's
    workflow id, so that a push finds its order without a look-up of its own."""

    async def register_tagged(self, numbers: list[tuple[str, str]], tags: list[str]) -> None:
        """Start following these (carrier, number) pairs, each labelled with its tag."""
        ...


class CarrierAnswer(BaseModel):
    """A claim's status at the carrier: ``amount`` is what it pays when ``paid`` (R17)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["paid", "rejected", "pending"]
    amount: Money | None = None
    reason: str = ""


class CarrierClaims(Protocol):
    """The carriers' claim desks (EasyPost's Claims API or its simulator), R17."""

    def supports_api(self, carrier: str) -> bool:
        """Whether ``carrier`` takes claims by API; otherwise an operator files them by hand."""
        ...

    async def file_claim(self, claim: FileClaim) -> str:
        """File a claim (once per its ``idempotency_key``); the carrier's claim reference."""
        ...

    async def claim_status(self, carrier: str, claim_ref: str) -> CarrierAnswer:
        """The claim's status: paid (with the amount), rejected or still pending."""
        ...


CarrierRecord.model_rebuild()
