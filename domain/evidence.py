"""R15: the evidence bundle of an order's dispute, gathered from what the order already knows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.events import ProofOfDelivery
from domain.order import Dispute, Order, Shipment, TimelineEntry


class SentMessage(BaseModel):
    """Something the seller told the buyer or the platform about the dispute."""

    at: datetime
    kind: str
    text: str


class EvidenceBundle(BaseModel):
    """One JSON document per dispute: what the seller can show, and what is still missing."""

    workflow_id: str
    order_id: str
    dispute: Dispute | None
    shipments: list[Shipment]
    """Every tracking number the order carried (labels), withdrawn ones included."""
    tracking_history: list[TimelineEntry]
    """Every carrier event with its raw code, in event-time order."""
    proof_of_delivery: ProofOfDelivery | None
    packing_video: str | None
    messages_sent: list[SentMessage]
    missing: list[str]
    """R15 evidence the seller still has to provide by hand (original files only)."""


def evidence_bundle(order: Order) -> EvidenceBundle:
    """The bundle for the order's current (or last) dispute."""
    dispute = order.dispute
    shipments = [*order.past_shipments, *([order.shipment] if order.shipment else [])]
    messages: list[SentMessage] = []
    if dispute is not None and dispute.responded_at and dispute.response_message:
        messages.append(
            SentMessage(at=dispute.responded_at, kind="response", text=dispute.response_message)
        )
    if dispute is not None and dispute.solution_at and dispute.solution:
        solution = dispute.solution
        text = solution.kind.value + (f" {solution.refund}" if solution.refund else "")
        messages.append(SentMessage(at=dispute.solution_at, kind="solution", text=text))
    missing = ["shipping label file (original)", "chat records"]
    if order.packing_video is None:
        missing.append("packing video (at least 15 s, SKU and label visible)")
    if order.proof_of_delivery is None and order.delivered_at is None:
        missing.append("carrier's statement about the tracking anomaly")
    return EvidenceBundle(
        workflow_id=order.facts.workflow_id,
        order_id=order.facts.order_id,
        dispute=dispute,
        shipments=shipments,
        tracking_history=[e for e in order.timeline if e.source == "carrier"],
        proof_of_delivery=order.proof_of_delivery,
        packing_video=order.packing_video,
        messages_sent=messages,
        missing=missing,
    )
