"""R10-R13: scans read into one status set, and what the merged timeline says about a parcel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.seventeentrack.statuses import read_scan
from domain.tracking import ScanEvent, scan_event
from domain.tracking_codes import IncidentReason, TrackingStatus
from tests.scan_history import (
    DeliveryProof,
    current_incident,
    current_status,
    customs_held_since,
    customs_hold_exceeded,
    first_scan_at,
    has_scanned,
    merge,
    proof_of_delivery,
)

U = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S = TrackingStatus
R = IncidentReason


def scan(hours: float, code: str, description: str = "", event_id: str | None = None) -> ScanEvent:
    """A 17TRACK scan as its adapter reads it (``code`` a 17TRACK sub-status)."""
    raw = read_scan(
        event_id=event_id or f"{code}@{hours}",
        at=U + timedelta(hours=hours),
        code=code,
        description=description,
        location="Shenzhen",
    )
    return scan_event(raw)


def t1_timeline() -> tuple[ScanEvent, ...]:
    return merge(
        (),
        [
            scan(3, "InTransit_PickedUp", "Picked up"),
            scan(20, "InTransit_Departure", "Departed from Shenzhen"),
            scan(72, "InTransit_CustomsProcessing", "Customs clearance"),
            scan(200, "OutForDelivery_Other", "Out for delivery"),
            scan(
                205,
                "Delivered_Other",
                "Delivered, signed by Li Wei, photo: https://pod.example/1.jpg",
            ),
        ],
    )


def test_a_delivered_parcel_keeps_every_raw_code_and_its_proof_of_delivery() -> None:
    timeline = t1_timeline()

    assert current_status(timeline) is S.DELIVERED
    assert [e.code for e in timeline] == [
        "InTransit_PickedUp",
        "InTransit_Departure",
        "InTransit_CustomsProcessing",
        "OutForDelivery_Other",
        "Delivered_Other",
    ]
    assert proof_of_delivery(timeline) == DeliveryProof(
        signer="Li Wei", at=U + timedelta(hours=205), photo_url="https://pod.example/1.jpg"
    )


def test_a_delivery_without_signer_or_photo_gives_no_proof() -> None:
    assert proof_of_delivery([scan(205, "Delivered_Other", "Delivered to mailbox")]) is None


def test_the_same_scan_delivered_twice_leaves_the_timeline_unchanged() -> None:
    timeline = t1_timeline()

    again = merge(timeline, [scan(205, "Delivered_Other", "Delivered", event_id="other-id")])
    again = merge(again, [timeline[1]])

    assert again == timeline


def test_a_late_scan_is_placed_by_its_event_time_and_never_moves_the_status_back() -> None:
    timeline = t1_timeline()

    late = merge(timeline, [scan(100, "InTransit_Arrival", "Arrived in destination country")])
    glitch = merge(late, [scan(300, "InTransit_Other", "Sorting centre")])

    assert [e.code for e in late].index("InTransit_Arrival") == 3
    assert current_status(glitch) is S.DELIVERED


def test_a_pickup_anywhere_in_the_history_counts_as_scanned_even_if_the_latest_is_info() -> None:
    history = merge((), [scan(3, "InTransit_PickedUp"), scan(4, "InfoReceived")])

    assert has_scanned(history) is True
    assert current_status(history) is S.IN_TRANSIT
    assert first_scan_at(history) == U + timedelta(hours=3)


def test_information_received_alone_is_not_a_scan() -> None:
    history = [scan(1, "InfoReceived", "Electronic information submitted")]

    assert has_scanned(history) is False
    assert first_scan_at(history) is None
    assert current_status(history) is S.INFO_RECEIVED
    assert current_status([]) is S.PENDING


def test_a_parcel_held_in_customs_over_48_hours_is_flagged() -> None:
    history = merge(
        (),
        [
            scan(3, "InTransit_PickedUp"),
            scan(72, "InTransit_CustomsProcessing"),
            scan(80, "InTransit_CustomsRequiringInformation"),
        ],
    )
    limit = timedelta(hours=48)

    assert customs_held_since(history) == U + timedelta(hours=72)
    assert customs_hold_exceeded(history, U + timedelta(hours=120), limit) is False
    assert customs_hold_exceeded(history, U + timedelta(days=5, minutes=1), limit) is True


def test_a_parcel_released_from_customs_is_no_longer_held() -> None:
    history = [scan(72, "InTransit_CustomsProcessing"), scan(90, "InTransit_CustomsReleased")]

    assert customs_held_since(history) is None
    assert customs_hold_exceeded(history, U + timedelta(days=30), timedelta(hours=48)) is False


def test_a_lost_parcel_reports_the_incident_until_it_is_found() -> None:
    lost = [scan(3, "InTransit_PickedUp"), scan(100, "Exception_Lost", "Item lost")]

    assert current_status(lost) is S.EXCEPTION
    assert current_incident(lost) is R.LOST
    assert current_incident([*lost, scan(120, "InTransit_Other")]) is None
