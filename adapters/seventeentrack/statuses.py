"""17TRACK's status vocabulary read onto parcelflow's one status set (R10): the adapter's table."""

from __future__ import annotations

from datetime import datetime

from domain.tracking import RawScan
from domain.tracking_codes import IncidentReason, Normalised, TrackingStatus, read_code

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


def from_17track(code: str) -> Normalised:
    """Normalise a 17TRACK sub-status (or main status) such as ``InTransit_PickedUp``."""
    return read_code(code, SEVENTEEN_TRACK_SUB_STATUS, SEVENTEEN_TRACK_STATUS)


def read_scan(
    event_id: str, at: datetime, code: str, description: str = "", location: str = ""
) -> RawScan:
    """The port's scan of one 17TRACK event: its sub-status kept verbatim as ``code`` (T1), and
    read with the table above into the status and incident the domain takes (R10)."""
    status, incident = from_17track(code)
    return RawScan(
        event_id=event_id,
        at=at,
        code=code,
        status=status,
        incident=incident,
        description=description,
        location=location,
    )
