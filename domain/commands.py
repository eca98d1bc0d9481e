"""Commands the domain asks the workflow to run: each is one platform call with its own key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.disputes import Solution
from domain.money import Money


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    idempotency_key: str
    """``{workflow_id}:{step}``: a retry of the same step never repeats the side effect."""


class SendTrackingUpload(_Command):
    """Attach the tracking number on the marketplace."""

    kind: Literal["upload_tracking"] = "upload_tracking"
    order_id: str
    carrier: str
    tracking_number: str
    seller_id: str | None = None
    """The store the order belongs to (its own carrier settings apply); None in commands
    recorded before it was sent."""


class SendWithdrawal(_Command):
    """Withdraw the tracking number on the marketplace."""

    kind: Literal["withdraw_tracking"] = "withdraw_tracking"
    order_id: str
    tracking_number: str


class SendDisputeResponse(_Command):
    """Send the seller's first response to the dispute."""

    kind: Literal["answer_dispute"] = "answer_dispute"
    dispute_id: str
    message: str


class SendSolution(_Command):
    """Offer the seller's solution to the dispute."""

    kind: Literal["propose_solution"] = "propose_solution"
    dispute_id: str
    solution: Solution


class MessageBuyer(_Command):
    """Send the buyer a message on the order (R16: the replacement's tracking number)."""

    kind: Literal["message_buyer"] = "message_buyer"
    order_id: str
    text: str


class StartReship(_Command):
    """R16: follow the replacement parcel as its own order, linked to this one."""

    kind: Literal["start_reship"] = "start_reship"
    seq: int
    carrier: str
    tracking_number: str


class OpenCarrierClaim(_Command):
    """R17: claim the lost parcel's declared value from its carrier."""

    kind: Literal["open_claim"] = "open_claim"
    carrier: str
    tracking_number: str
    declared_value: Money


class CheckCarrier(_Command):
    """Ask the carrier whether it knows the number yet (R8): a read, keyed like the rest."""

    kind: Literal["check_carrier"] = "check_carrier"
    carrier: str
    tracking_number: str


Command = (
    SendTrackingUpload
    | SendWithdrawal
    | SendDisputeResponse
    | SendSolution
    | CheckCarrier
    | MessageBuyer
    | StartReship
    | OpenCarrierClaim
)
