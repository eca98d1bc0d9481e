"""Typed events an order reacts to: seller commands and outside facts (a closed union)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from domain.disputes import Solution
from domain.money import Money
from domain.states import EventKind

EventId = Annotated[str, Field(min_length=1, max_length=200)]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UploadTracking(_Event):
    """The seller attaches a carrier and tracking number (R1)."""

    kind: Literal[EventKind.TRACKING_UPLOADED] = EventKind.TRACKING_UPLOADED
    carrier: Annotated[str, Field(min_length=1, max_length=40)]
    tracking_number: Annotated[str, Field(min_length=1, max_length=60)]


class WithdrawTracking(_Event):
    """The seller withdraws the tracking number inside the cancel window (R4)."""

    kind: Literal[EventKind.WITHDRAWAL_REQUESTED] = EventKind.WITHDRAWAL_REQUESTED


class RespondToDispute(_Event):
    """The seller's first response to the open dispute (R14)."""

    kind: Literal[EventKind.SELLER_RESPONDED] = EventKind.SELLER_RESPONDED
    message: Annotated[str, Field(min_length=1, max_length=2000)]


class ProposeSolution(_Event):
    """The seller offers a solution to the open dispute (R14)."""

    kind: Literal[EventKind.SOLUTION_PROPOSED] = EventKind.SOLUTION_PROPOSED
    solution: Solution


class AttachPackingVideo(_Event):
    """The seller attaches the packing-video still of a high-value order (R13)."""

    kind: Literal[EventKind.PACKING_VIDEO_ATTACHED] = EventKind.PACKING_VIDEO_ATTACHED
    reference: Annotated[str, Field(min_length=1, max_length=500)]


class _Fact(_Event):
    """An outside fact: ``event_id`` de-duplicates redeliveries, ``at`` is when it happened."""

    event_id: EventId
    at: AwareDatetime


def parcel_number(number: str) -> str:
    """A tracking number as the platform sees it (R2): trimmed, letters upper-cased. Facts and
    number holds compare numbers in this form, whatever carrier they came under."""
    return number.strip().upper()


class _CarrierFact(_Fact):
    """A fact from a carrier: it is about one parcel, named by its ``tracking_number`` (R10)."""

    tracking_number: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    """The parcel the fact is about. A fact about a number the order no longer carries is kept
    on the timeline under that number and changes nothing else. None only in facts recorded
    before facts named their number (committed histories): those were about the current parcel.
    """

    @field_validator("tracking_number")
    @classmethod
    def _normalised(cls, value: str | None) -> str | None:
        return None if value is None else parcel_number(value)


class CarrierScanned(_CarrierFact):
    """The carrier reported a scan (R10): any status past info-received means it has the parcel.

    ``incident`` is the trouble the scan reports (``domain.tracking_codes.IncidentReason``),
    e.g. ``customs_hold`` for a 17TRACK ``Exception_Security`` (R12)."""

    kind: Literal[EventKind.CARRIER_SCANNED] = EventKind.CARRIER_SCANNED
    status: str
    code: str = ""
    description: str = ""
    location: str = ""
    incident: str = ""


class ProofOfDelivery(BaseModel):
    """The carrier's proof of delivery (R13)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signer: str | None = None
    photo_url: str | None = None


class ParcelDelivered(_CarrierFact):
    """The carrier reported the parcel delivered, with its proof when it has one."""

    kind: Literal[EventKind.PARCEL_DELIVERED] = EventKind.PARCEL_DELIVERED
    code: str = ""
    proof: ProofOfDelivery | None = None


class EtaChanged(_Fact):
    """The platform moved the estimated delivery date (R4.4)."""

    kind: Literal[EventKind.ETA_CHANGED] = EventKind.ETA_CHANGED
    eta: AwareDatetime


class BuyerConfirmed(_Fact):
    """The buyer confirmed receipt, or the platform auto-confirmed (T5)."""

    kind: Literal[EventKind.BUYER_CONFIRMED] = EventKind.BUYER_CONFIRMED
    auto: bool = False
    """The platform confirmed for the buyer when the confirmation period ended (the buyer did
    nothing): the timeline says so, a seller reads it differently from a buyer's word."""


class DisputeReason(StrEnum):
    """Why the buyer opened a dispute."""

    NOT_RECEIVED = "not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"
    OTHER = "other"


class DisputeOpened(_Fact):
    """The buyer opened a dispute; the platform may set its own, earlier, deadlines (D9)."""

    kind: Literal[EventKind.DISPUTE_OPENED] = EventKind.DISPUTE_OPENED
    dispute_id: Annotated[str, Field(min_length=1, max_length=100)]
    reason: DisputeReason = DisputeReason.NOT_RECEIVED
    platform_response_deadline: AwareDatetime | None = None
    platform_solution_deadline: AwareDatetime | None = None


class BuyerAnsweredSolution(_Fact):
    """The buyer accepted or rejected the offered solution."""

    kind: Literal[EventKind.BUYER_ACCEPTED_SOLUTION, EventKind.BUYER_REJECTED_SOLUTION]


class CarrierChecked(_CarrierFact):
    """What the carrier said when asked after the silent period (R8): does it know the number?"""

    kind: Literal[EventKind.CARRIER_CHECKED] = EventKind.CARRIER_CHECKED
    known: bool


class DisputeClosed(_Fact):
    """The dispute ended outside the seller's hands: the buyer withdrew it, or the platform's
    arbitration decided (``refund`` is what the seller pays when it decided against them)."""

    kind: Literal[
        EventKind.DISPUTE_WITHDRAWN,
        EventKind.ARBITRATION_FOR_SELLER,
        EventKind.ARBITRATION_AGAINST_SELLER,
    ]
    dispute_id: Annotated[str, Field(min_length=1, max_length=100)]
    refund: Money | None = None


class OrderVoided(_Fact):
    """The platform voided the order: the buyer asked to cancel it and the seller consented
    (R7: it counts toward the store's void rate; an order closed unfulfilled does not)."""

    kind: Literal[EventKind.ORDER_VOIDED] = EventKind.ORDER_VOIDED
    reason: Annotated[str, Field(max_length=500)] = ""


class OrderClosedByPlatform(_Fact):
    """The marketplace ended the order for a reason that is not the buyer's receipt (the order
    list's ``end_reason``: closed by its risk control, refunded, …); ``reason`` is its code,
    kept verbatim. Nothing is counted for R7: the platform did not say who caused it."""

    kind: Literal[EventKind.ORDER_CLOSED_BY_PLATFORM] = EventKind.ORDER_CLOSED_BY_PLATFORM
    reason: Annotated[str, Field(max_length=200)] = ""


class RefusedByPlatform(_Fact):
    """The marketplace refused an upload or a withdrawal we had sent (R5: final)."""

    kind: Literal[EventKind.PLATFORM_REFUSED_UPLOAD, EventKind.PLATFORM_REFUSED_WITHDRAWAL]
    code: str
    message: str = ""


SellerCommand = (
    UploadTracking | WithdrawTracking | RespondToDispute | ProposeSolution | AttachPackingVideo
)
Fact = (
    CarrierScanned
    | ParcelDelivered
    | EtaChanged
    | BuyerConfirmed
    | DisputeOpened
    | BuyerAnsweredSolution
    | DisputeClosed
    | CarrierChecked
    | RefusedByPlatform
    | OrderVoided
    | OrderClosedByPlatform
)
CarrierFact = CarrierScanned | ParcelDelivered | CarrierChecked
"""The facts a carrier reports about one parcel (each names its tracking number)."""
Event = SellerCommand | Fact
AnyFact = Annotated[Fact, Field(discriminator="kind")]
"""A fact as it arrives over the wire (signals, hooks): validated by its ``kind``."""
