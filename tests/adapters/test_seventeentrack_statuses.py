"""17TRACK's status table (R10): each sub-status read into one status and incident, verbatim code
kept; an unknown code still counts as carrier activity (R4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.seventeentrack.responses import track_record
from adapters.seventeentrack.statuses import from_17track, read_scan
from domain.errors import RefusalReason
from domain.events import CarrierScanned
from domain.lifecycle import decide
from domain.polling import new_facts
from domain.states import OrderState
from domain.tracking_codes import NOT_A_SCAN, IncidentReason, TrackingStatus
from tests.scan_history import current_status, has_scanned, scan_events
from tests.unit.builders import ok, shipped

U = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S = TrackingStatus
R = IncidentReason


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NotFound_Other", (S.PENDING, None)),
        ("InfoReceived", (S.INFO_RECEIVED, None)),
        ("InTransit_PickedUp", (S.IN_TRANSIT, None)),
        ("InTransit_Departure", (S.IN_TRANSIT, None)),
        ("InTransit_CustomsProcessing", (S.CUSTOMS, None)),
        ("InTransit_CustomsReleased", (S.IN_TRANSIT, None)),
        ("InTransit_CustomsRequiringInformation", (S.CUSTOMS, R.CUSTOMS_HOLD)),
        ("Expired_Other", (S.EXPIRED, None)),
        ("AvailableForPickup_Other", (S.AVAILABLE_FOR_PICKUP, None)),
        ("OutForDelivery_Other", (S.OUT_FOR_DELIVERY, None)),
        ("DeliveryFailure_InvalidAddress", (S.DELIVERY_FAILED, R.ADDRESS_PROBLEM)),
        ("DeliveryFailure_Rejected", (S.DELIVERY_FAILED, R.REFUSED)),
        ("Delivered_Other", (S.DELIVERED, None)),
        ("Exception_Returning", (S.EXCEPTION, R.RETURNING)),
        ("Exception_Returned", (S.EXCEPTION, R.RETURNED)),
        ("Exception_Lost", (S.EXCEPTION, R.LOST)),
        ("Exception_Damage", (S.EXCEPTION, R.DAMAGED)),
        ("Exception_Delayed", (S.EXCEPTION, R.DELAYED)),
        ("Exception_Rejected", (S.EXCEPTION, R.REFUSED)),
        ("Exception_NoBody", (S.EXCEPTION, R.ADDRESS_PROBLEM)),
        ("InTransit", (S.IN_TRANSIT, None)),
        ("InTransit_SomethingNew", (S.IN_TRANSIT, None)),
        ("Teleported_Other", (S.EXCEPTION, None)),
    ],
)
def test_a_17track_status_maps_to_one_normalised_status_and_incident(
    code: str, expected: tuple[TrackingStatus, IncidentReason | None]
) -> None:
    assert from_17track(code) == expected


@pytest.mark.parametrize(
    ("code", "lost"),
    [
        ("Exception_Lost", True),
        ("Exception_Destroyed", True),
        ("Exception_Delayed", False),
        ("InTransit_PickedUp", False),
        ("", False),
    ],
)
def test_a_loss_is_read_from_17tracks_raw_code(code: str, lost: bool) -> None:
    assert (read_scan("e1", U, code).incident is R.LOST) is lost


def test_a_scan_keeps_17tracks_code_verbatim_beside_what_it_means() -> None:
    raw = read_scan("e1", U, "Exception_Security", "Held by customs", "Paris")
    assert (raw.code, raw.status, raw.incident) == (
        "Exception_Security",
        S.EXCEPTION,
        R.CUSTOMS_HOLD,
    )
    assert (raw.description, raw.location) == ("Held by customs", "Paris")


def test_an_unknown_17track_code_still_counts_as_carrier_activity() -> None:
    """R4: a code 17TRACK added after our table was written is an exception, and a scan: the
    order locks rather than let a parcel the carrier may hold be withdrawn."""
    item = {
        "number": "RR123456785CN",
        "track_info": {
            "tracking": {
                "providers": [
                    {"events": [{"time_utc": "2026-03-03T09:00:00Z", "sub_status": "Teleported"}]}
                ]
            }
        },
    }
    record = track_record("china_post", item)
    (raw,) = record.events
    assert (raw.code, raw.status, raw.incident) == ("Teleported", S.EXCEPTION, None)
    assert S.EXCEPTION not in NOT_A_SCAN
    assert has_scanned(scan_events(record)) is True
    assert current_status(scan_events(record)) is S.EXCEPTION
    (fact,) = new_facts(record, ())
    assert isinstance(fact, CarrierScanned)
    assert (fact.status, fact.code, fact.incident) == ("exception", "Teleported", "")
    scanned_at = datetime(2026, 3, 3, 9, tzinfo=UTC)
    order = ok(decide(shipped(), fact, scanned_at))
    assert (order.state, order.lock_reason) == (OrderState.LOCKED, RefusalReason.CARRIER_SCANNED)
    assert [(e.code, e.status) for e in order.timeline if e.source == "carrier"] == [
        ("Teleported", "exception")
    ]
