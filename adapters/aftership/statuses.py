"""AfterShip's tags and subtags read onto parcelflow's one status set (R10): the table only."""

from __future__ import annotations

from domain.tracking_codes import IncidentReason, Normalised, TrackingStatus, read_code

S = TrackingStatus
R = IncidentReason

# AfterShip tags: the fallback when a subtag is missing or new.
AFTERSHIP_TAG: dict[str, Normalised] = {
    "Pending": (S.PENDING, None),
    "InfoReceived": (S.INFO_RECEIVED, None),
    "InTransit": (S.IN_TRANSIT, None),
    "OutForDelivery": (S.OUT_FOR_DELIVERY, None),
    "AttemptFail": (S.DELIVERY_FAILED, None),
    "Delivered": (S.DELIVERED, None),
    "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, None),
    "Exception": (S.EXCEPTION, None),
    "Expired": (S.EXPIRED, None),
}

# AfterShip subtags ("Delivery Sub-statuses"); unlisted ones fall back to their tag.
AFTERSHIP_SUBTAG: dict[str, Normalised] = {
    "InTransit_002": (S.IN_TRANSIT, None),  # acceptance scan
    "InTransit_005": (S.IN_TRANSIT, None),  # customs clearance completed
    "InTransit_006": (S.CUSTOMS, None),  # customs clearance started
    "Exception_001": (S.EXCEPTION, None),
    "Exception_002": (S.EXCEPTION, R.ADDRESS_PROBLEM),  # customer moved
    "Exception_003": (S.EXCEPTION, R.REFUSED),
    "Exception_004": (S.CUSTOMS, R.CUSTOMS_HOLD),  # delayed (customs clearance)
    "Exception_005": (S.EXCEPTION, R.DELAYED),  # delayed (external factors)
    "Exception_006": (S.EXCEPTION, R.CUSTOMS_HOLD),  # held for payment
    "Exception_007": (S.EXCEPTION, R.ADDRESS_PROBLEM),  # incorrect address
    "Exception_008": (S.EXCEPTION, None),  # pick up missed
    "Exception_009": (S.EXCEPTION, R.REFUSED),  # rejected by carrier
    "Exception_010": (S.EXCEPTION, R.RETURNING),
    "Exception_011": (S.EXCEPTION, R.RETURNED),
    "Exception_012": (S.EXCEPTION, R.DAMAGED),
    "Exception_013": (S.EXCEPTION, R.LOST),
    "AttemptFail_002": (S.DELIVERY_FAILED, None),  # addressee not available
    "AttemptFail_003": (S.DELIVERY_FAILED, None),  # business closed
}


def from_aftership(code: str) -> Normalised:
    """Normalise an AfterShip subtag (or tag) such as ``Exception_013``."""
    return read_code(code, AFTERSHIP_SUBTAG, AFTERSHIP_TAG)
