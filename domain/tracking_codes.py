"""The R10 status set every carrier's scans are read into; the carriers' tables live in adapters."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class TrackingStatus(StrEnum):
    """The one status set every carrier's scans are normalised into (R10)."""

    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    CUSTOMS = "customs"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    EXPIRED = "expired"


class IncidentReason(StrEnum):
    """Why a parcel is in trouble, when the carrier says so (feeds R9, R12, R16)."""

    LOST = "lost"
    DAMAGED = "damaged"
    RETURNING = "returning"
    RETURNED = "returned"
    REFUSED = "refused"
    CUSTOMS_HOLD = "customs_hold"
    ADDRESS_PROBLEM = "address_problem"
    DELAYED = "delayed"


Normalised = tuple[TrackingStatus, IncidentReason | None]

NOT_YET_SCANNED = frozenset({TrackingStatus.PENDING, TrackingStatus.INFO_RECEIVED})
"""Statuses that say the carrier has not got the parcel yet (R8: a label is not a pickup)."""
NOT_A_SCAN = NOT_YET_SCANNED | {TrackingStatus.EXPIRED}
"""Statuses that do not prove the carrier has (or had) the parcel (R4.2, R8)."""

# A code nobody has mapped yet is shown to a human as an exception. It counts as carrier
# activity (R4): withdrawing a parcel the carrier may hold is worse than locking early.
UNKNOWN: Normalised = (TrackingStatus.EXCEPTION, None)


def read_code(
    code: str, detailed: Mapping[str, Normalised], main: Mapping[str, Normalised]
) -> Normalised:
    """A carrier's ``Main_Detail`` code read with its adapter's tables: the detailed entry, else
    the main status's (a detail added since the table was written), else ``UNKNOWN``."""
    if code in detailed:
        return detailed[code]
    return main.get(code, main.get(code.split("_", 1)[0], UNKNOWN))
