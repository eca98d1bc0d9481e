"""R10 status set, and the tables mapping 17TRACK and AfterShip codes onto it (data)."""

from __future__ import annotations

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

S = TrackingStatus
R = IncidentReason

# 17TRACK API v2.2 main statuses: the fallback when a sub-status is missing or new.
SEVENTEEN_TRACK_STATUS: dict[str, Normalised] = {
    "NotFound": (S.PENDING, None),
    "InfoReceived": (S.INFO_RECEIVED, None),
    "InTransit": (S.IN_TRANSIT, None),
    "Expired": (S.EXPIRED, None),
    "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, None),
    "OutForDelivery": (S.OUT_FOR_DELIVERY, None),
    "DeliveryFailure": (S.DELIVERY_FAILED, None),
    "Delivered": (S.DELIVERED, None),
    "Exception": (S.EXCEPTION, None),
}

# 17TRACK API v2.2 sub-statuses (``track_info.latest_status.sub_status`` and each event's).
SEVENTEEN_TRACK_SUB_STATUS: dict[str, Normalised] = {
    "NotFound_Other": (S.PENDING, None),
    "NotFound_InvalidCode": (S.PENDING, None),
    "InfoReceived": (S.INFO_RECEIVED, None),
    "InTransit_PickedUp": (S.IN_TRANSIT, None),
    "InTransit_Other": (S.IN_TRANSIT, None),
    "InTransit_Departure": (S.IN_TRANSIT, None),
    "InTransit_Arrival": (S.IN_TRANSIT, None),
    "InTransit_CustomsProcessing": (S.CUSTOMS, None),
    "InTransit_CustomsReleased": (S.IN_TRANSIT, None),
    "InTransit_CustomsRequiringInformation": (S.CUSTOMS, R.CUSTOMS_HOLD),
    "Expired_Other": (S.EXPIRED, None),
    "AvailableForPickup_Other": (S.AVAILABLE_FOR_PICKUP, None),
    "OutForDelivery_Other": (S.OUT_FOR_DELIVERY, None),
    "DeliveryFailure_Other": (S.DELIVERY_FAILED, None),
    "DeliveryFailure_NoBody": (S.DELIVERY_FAILED, None),
    "DeliveryFailure_Security": (S.DELIVERY_FAILED, R.CUSTOMS_HOLD),
    "DeliveryFailure_Rejected": (S.DELIVERY_FAILED, R.REFUSED),
    "DeliveryFailure_InvalidAddress": (S.DELIVERY_FAILED, R.ADDRESS_PROBLEM),
    "Delivered_Other": (S.DELIVERED, None),
    "Exception_Other": (S.EXCEPTION, None),
    "Exception_Returning": (S.EXCEPTION, R.RETURNING),
    "Exception_Returned": (S.EXCEPTION, R.RETURNED),
    "Exception_NoBody": (S.EXCEPTION, R.ADDRESS_PROBLEM),
    "Exception_Security": (S.EXCEPTION, R.CUSTOMS_HOLD),
    "Exception_Damage": (S.EXCEPTION, R.DAMAGED),
    "Exception_Rejected": (S.EXCEPTION, R.REFUSED),
    "Exception_Delayed": (S.EXCEPTION, R.DELAYED),
    "Exception_Lost": (S.EXCEPTION, R.LOST),
    "Exception_Destroyed": (S.EXCEPTION, R.LOST),
    "Exception_Cancel": (S.EXCEPTION, None),
}

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

# A code nobody has mapped yet is shown to a human as an exception. It counts as carrier
# activity (R4): withdrawing a parcel the carrier may hold is worse than locking early.
UNKNOWN: Normalised = (S.EXCEPTION, None)


def _lookup(code: str, detailed: dict[str, Normalised], main: dict[str, Normalised]) -> Normalised:
    if code in detailed:
        return detailed[code]
    return main.get(code, main.get(code.split("_", 1)[0], UNKNOWN))


def from_17track(code: str) -> Normalised:
    """Normalise a 17TRACK sub-status (or main status) such as ``InTransit_PickedUp``."""
    return _lookup(code, SEVENTEEN_TRACK_SUB_STATUS, SEVENTEEN_TRACK_STATUS)


def from_aftership(code: str) -> Normalised:
    """Normalise an AfterShip subtag (or tag) such as ``Exception_013``."""
    return _lookup(code, AFTERSHIP_SUBTAG, AFTERSHIP_TAG)
