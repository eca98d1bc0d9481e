"""AfterShip's status table (R10): each subtag read into one status and incident."""

from __future__ import annotations

import pytest

from adapters.aftership.statuses import from_aftership
from domain.tracking_codes import IncidentReason, TrackingStatus

S = TrackingStatus
R = IncidentReason


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("Pending_001", (S.PENDING, None)),
        ("InfoReceived_001", (S.INFO_RECEIVED, None)),
        ("InTransit_002", (S.IN_TRANSIT, None)),
        ("InTransit_006", (S.CUSTOMS, None)),
        ("OutForDelivery_001", (S.OUT_FOR_DELIVERY, None)),
        ("AttemptFail_001", (S.DELIVERY_FAILED, None)),
        ("AvailableForPickup_001", (S.AVAILABLE_FOR_PICKUP, None)),
        ("Delivered_003", (S.DELIVERED, None)),
        ("Exception_003", (S.EXCEPTION, R.REFUSED)),
        ("Exception_004", (S.CUSTOMS, R.CUSTOMS_HOLD)),
        ("Exception_010", (S.EXCEPTION, R.RETURNING)),
        ("Exception_011", (S.EXCEPTION, R.RETURNED)),
        ("Exception_012", (S.EXCEPTION, R.DAMAGED)),
        ("Exception_013", (S.EXCEPTION, R.LOST)),
        ("Expired_001", (S.EXPIRED, None)),
    ],
)
def test_an_aftership_subtag_maps_to_one_normalised_status_and_incident(
    code: str, expected: tuple[TrackingStatus, IncidentReason | None]
) -> None:
    assert from_aftership(code) == expected


@pytest.mark.parametrize(
    ("code", "lost"), [("Exception_013", True), ("Exception_005", False), ("", False)]
)
def test_a_loss_is_read_from_afterships_raw_code(code: str, lost: bool) -> None:
    assert (from_aftership(code)[1] is R.LOST) is lost
