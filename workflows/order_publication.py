"""What the order workflow shows outside: search attributes, UI details, health records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.order import Deadline, Order
    from domain.states import OrderState
    from workflows import search_attributes as sa
    from workflows.store_health import (
        HealthRecord,
        ParcelRecord,
        UnfulfilledRecord,
        VoidedRecord,
    )


def search_attribute_values(order: Order, deadlines: list[Deadline]) -> dict[str, Any]:
    """The search attributes of the order (ids, states, dates: never buyer data)."""
    shipment = order.shipment
    return {
        sa.ORDER_STATE.name: order.state.value,
        sa.CARRIER.name: shipment.carrier if shipment else None,
        sa.NEXT_DEADLINE.name: deadlines[0].at if deadlines else None,
        sa.DISPUTE_OPEN.name: order.state.in_dispute,
        sa.SELLER_ID.name: order.facts.seller_id,
        sa.MARKETPLACE.name: order.facts.marketplace,
        sa.TRACKING_NUMBER.name: shipment.tracking_number if shipment else None,
        sa.UPLOADED_AT.name: shipment.uploaded_at if shipment else None,
    }


def details(order: Order, deadlines: list[Deadline]) -> str:
    """The Temporal UI's current details: what is pending and until when."""
    lines = [f"**{order.state.value}**"]
    if order.shipment:
        lines.append(f"tracking: {order.shipment.carrier} {order.shipment.tracking_number}")
    if order.lock_reason and order.locked_at:
        lines.append(f"locked since {order.locked_at.isoformat()} ({order.lock_reason.value})")
    lines.extend(f"pending: {d.label} until {d.at.isoformat()}" for d in deadlines[:3])
    lines.extend(f"notice: {n}" for n in order.notices[-3:])
    if order.resolution:
        lines.append(order.resolution)
    return "\n\n".join(lines)


def health_records(before: Order, after: Order, now: datetime) -> list[HealthRecord]:
    """The seller-health records a transition from ``before`` to ``after`` means (R7, R18)."""
    facts, shipment = after.facts, after.shipment
    ids = {"seller_id": facts.seller_id, "order_id": facts.order_id}  # ids only, no PII
    records: list[HealthRecord] = []
    # A parcel counts on its line once its number can no longer be withdrawn, or delivered.
    locked = after.locked_at is not None and before.locked_at is None
    delivered = after.delivered_at is not None and before.delivered_at is None
    if shipment is not None and after.eta is not None and (locked or delivered):
        records.append(
            ParcelRecord(
                **ids,
                carrier_line=shipment.carrier,
                promised_at=after.eta,
                delivered_at=after.delivered_at,
                seq=shipment.seq,
            )
        )
    # R7: a void (the buyer asked, the seller consented) counts in the void rate; an order
    # closed unfulfilled (R3a) is not a void, it counts in the unfulfilled rate.
    if after.state is OrderState.VOIDED and before.state is not OrderState.VOIDED:
        records.append(VoidedRecord(**ids, at=now))
    closed = OrderState.CLOSED_UNFULFILLED
    if after.state is closed and before.state is not closed:
        records.append(UnfulfilledRecord(**ids, at=now))
    return records
