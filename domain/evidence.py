"""R15: the evidence bundle of an order's dispute, across the order and the workflows it started."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, computed_field

from domain.claims import Claim, ClaimState
from domain.events import ProofOfDelivery
from domain.lifecycle import BUYER_MESSAGED
from domain.money import Money
from domain.order import Dispute, Order, Shipment, TimelineEntry
from domain.states import OrderState
from domain.tracking_codes import IncidentReason


class SentMessage(BaseModel):
    """Something the seller told the buyer or the platform about the dispute."""

    at: datetime
    kind: str
    """``response``, ``solution`` or ``buyer_message``."""
    text: str


class LossProof(BaseModel):
    """R16: the carrier's own statement that the parcel is lost, as its tracking reported it."""

    carrier: str
    tracking_number: str
    code: str
    """The carrier's raw code, verbatim (e.g. 17TRACK ``Exception_Lost``)."""
    at: datetime
    event_id: str
    detail: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reference(self) -> str:
        """The document reference a carrier claim carries as its proof (R17)."""
        return (
            f"carrier statement: {self.carrier} {self.tracking_number} reported {self.code}"
            f" at {self.at.isoformat()} (scan {self.event_id})"
        )


class ReplacementEvidence(BaseModel):
    """A replacement parcel (R16), followed by its own order workflow."""

    workflow_id: str
    order_id: str
    state: OrderState
    shipment: Shipment | None
    tracking_history: list[TimelineEntry]
    """Its carrier events with their raw codes, in event-time order."""
    delivered_at: datetime | None
    proof_of_delivery: ProofOfDelivery | None


class ClaimDocument(BaseModel):
    """A carrier claim (R17) on a parcel of the order, as its own workflow last knew it."""

    workflow_id: str
    carrier: str
    tracking_number: str
    proof: str
    declared_value: Money
    claim_ref: str | None
    state: ClaimState
    filed_at: datetime | None
    paid_amount: Money | None
    outcome: str
    closed_at: datetime | None


class MissingLink(BaseModel):
    """A workflow the order started that could not be read whole (not found, stopped early)."""

    workflow_id: str
    reason: str


class EvidenceBundle(BaseModel):
    """One JSON document per dispute: what the seller can show, and what is still missing."""

    workflow_id: str
    order_id: str
    dispute: Dispute | None
    shipments: list[Shipment]
    """Every tracking number the order carried (labels), withdrawn ones included."""
    tracking_history: list[TimelineEntry]
    """Every carrier event of the order's own parcel with its raw code, in event-time order."""
    proof_of_delivery: ProofOfDelivery | None
    loss_proof: LossProof | None
    """The carrier's statement that the parcel is lost, when its tracking said so."""
    packing_video: str | None
    messages_sent: list[SentMessage]
    replacements: list[ReplacementEvidence]
    """Each replacement parcel's shipment and tracking history (R16)."""
    claims: list[ClaimDocument]
    """Each carrier claim opened on a parcel of the order (R17)."""
    missing: list[str]
    """R15 evidence the seller still has to provide by hand (original files only), and linked
    workflows that could not be read."""


def reports_loss(entry: TimelineEntry) -> bool:
    """Whether a carrier event says the parcel is lost: its incident, as the carrier's adapter
    read the raw code when the scan became a fact (R10); the code itself is only shown."""
    return entry.incident == IncidentReason.LOST


def loss_proof(order: Order) -> LossProof | None:
    """The latest scan in which the carrier reported the order's current parcel lost."""
    shipment = order.shipment
    if shipment is None:
        return None
    number = shipment.tracking_number
    scans = [
        e
        for e in _carrier_events(order)
        if reports_loss(e) and e.tracking_number in ("", number)  # "": before facts named it
    ]
    if not scans:
        return None
    scan = scans[-1]
    return LossProof(
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        code=scan.code,
        at=scan.at,
        event_id=scan.event_id,
        detail=scan.detail,
    )


def missing_loss_proof(tracking_number: str) -> str:
    """The honest proof line of a claim opened before the carrier wrote that it lost the parcel."""
    return (
        f"missing: the carrier's written loss proof for {tracking_number} (no loss scan yet);"
        " to be attached when received (R16)"
    )


def evidence_bundle(
    order: Order,
    replacements: Sequence[Order] = (),
    claims: Sequence[Claim] = (),
    unreadable: Sequence[MissingLink] = (),
) -> EvidenceBundle:
    """The bundle for the order's current (or last) dispute, with the replacement parcels and
    carrier claims the order started, as their own workflows returned them."""
    dispute = order.dispute
    proof = loss_proof(order)
    missing = ["shipping label file (original)", "chat records"]
    if order.packing_video is None:
        missing.append("packing video (at least 15 s, SKU and label visible)")
    if order.proof_of_delivery is None and order.delivered_at is None and proof is None:
        missing.append("carrier's statement about the tracking anomaly")
    missing.extend(f"{link.workflow_id}: {link.reason}" for link in unreadable)
    return EvidenceBundle(
        workflow_id=order.facts.workflow_id,
        order_id=order.facts.order_id,
        dispute=dispute,
        shipments=[*order.past_shipments, *([order.shipment] if order.shipment else [])],
        tracking_history=_carrier_events(order),
        proof_of_delivery=order.proof_of_delivery,
        loss_proof=proof,
        packing_video=order.packing_video,
        messages_sent=_messages(order),
        replacements=[_replacement(r) for r in replacements],
        claims=[_claim_document(c) for c in claims],
        missing=missing,
    )


def _carrier_events(order: Order) -> list[TimelineEntry]:
    return [e for e in order.timeline if e.source == "carrier"]


def _messages(order: Order) -> list[SentMessage]:
    dispute, messages = order.dispute, list[SentMessage]()
    if dispute is not None and dispute.responded_at and dispute.response_message:
        messages.append(
            SentMessage(at=dispute.responded_at, kind="response", text=dispute.response_message)
        )
    if dispute is not None and dispute.solution_at and dispute.solution:
        solution = dispute.solution
        text = solution.kind.value + (f" {solution.refund}" if solution.refund else "")
        messages.append(SentMessage(at=dispute.solution_at, kind="solution", text=text))
    messages.extend(
        SentMessage(at=e.at, kind="buyer_message", text=e.detail)
        for e in order.timeline
        if e.kind == BUYER_MESSAGED
    )
    return messages


def _replacement(order: Order) -> ReplacementEvidence:
    return ReplacementEvidence(
        workflow_id=order.facts.workflow_id,
        order_id=order.facts.order_id,
        state=order.state,
        shipment=order.shipment,
        tracking_history=_carrier_events(order),
        delivered_at=order.delivered_at,
        proof_of_delivery=order.proof_of_delivery,
    )


def _claim_document(claim: Claim) -> ClaimDocument:
    facts = claim.facts
    return ClaimDocument(
        workflow_id=claim.workflow_id,
        carrier=facts.carrier,
        tracking_number=facts.tracking_number,
        proof=facts.proof,
        declared_value=facts.declared_value,
        claim_ref=claim.claim_ref,
        state=claim.state,
        filed_at=claim.filed_at,
        paid_amount=claim.paid_amount,
        outcome=claim.outcome,
        closed_at=claim.closed_at,
    )
