"""R9: what a seller can still do when a tracking number can no longer be withdrawn."""

from __future__ import annotations

from datetime import datetime

from domain.carriers import Carrier
from domain.order import Order

VOIDS_FREE: frozenset[str] = frozenset({Carrier.CAINIAO.value})
"""Carriers that void an unused number free of charge inside the policy's void window."""


def withdrawal_alternatives(order: Order, now: datetime) -> list[str]:
    """The sanctioned ways left (R9), in the order a seller should try them."""
    shipment = order.shipment
    if shipment is None or order.delivered_at is not None:
        return []
    ways: list[str] = []
    void_until = shipment.uploaded_at + order.policy.carrier_void_window
    if order.first_scan_at is None:
        if shipment.carrier in VOIDS_FREE and now < void_until:
            ways.append(
                f"goods not handed over: ask {shipment.carrier} to void {shipment.tracking_number}"
                f" (free until {void_until.isoformat()})"
            )
        else:
            ways.append(
                f"goods not handed over: ask {shipment.carrier} to void"
                f" {shipment.tracking_number}, keep its void confirmation, note the new number"
                " on the order by hand (R3)"
            )
    else:
        ways.append(
            "goods handed over but not delivered: open a logistics-exception negotiation with"
            " the carrier's proof of non-delivery; after platform review reship without penalty"
        )
    return ways
