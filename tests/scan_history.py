"""What a parcel's scans say, read the way an order reads them: the tests' view of a tracking
record (the order itself keeps its scans on its timeline, ``domain.order``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import order
from domain.tracking import CarrierRecord, ScanEvent, scan_event
from domain.tracking_codes import NOT_A_SCAN, NOT_YET_SCANNED, IncidentReason, TrackingStatus


@dataclass(frozen=True)
class DeliveryProof:
    """The carrier's proof that a parcel was delivered (R13): who signed, when, a photo."""

    signer: str
    at: datetime
    photo_url: str = ""


def scan_events(record: CarrierRecord) -> tuple[ScanEvent, ...]:
    """A record's scans as timeline events (R10)."""
    return tuple(scan_event(scan) for scan in record.events)


def merge(events: Iterable[ScanEvent], new: Iterable[ScanEvent]) -> tuple[ScanEvent, ...]:
    """The timeline with ``new`` added: duplicates dropped, every event placed by its time (T2)."""
    ids: set[str] = set()
    keys: set[tuple[datetime, str]] = set()
    kept: list[ScanEvent] = []
    for event in (*events, *new):
        key = (event.at, event.code)
        if event.event_id in ids or key in keys:
            continue
        ids.add(event.event_id)
        keys.add(key)
        kept.append(event)
    # sorted() is stable: events at the same instant keep the order they arrived in.
    return tuple(sorted(kept, key=lambda e: e.at))


def _by_time(events: Iterable[ScanEvent]) -> list[ScanEvent]:
    return sorted(events, key=lambda e: e.at)


def has_scanned(events: Iterable[ScanEvent]) -> bool:
    """Whether the carrier has ever had the parcel, over the whole history (R4, R8)."""
    return any(e.status not in NOT_A_SCAN for e in events)


def first_scan_at(events: Iterable[ScanEvent]) -> datetime | None:
    """When the carrier first scanned the parcel, if it has."""
    return min((e.at for e in events if e.status not in NOT_A_SCAN), default=None)


def current_status(events: Iterable[ScanEvent]) -> TrackingStatus:
    """The status now: never back from delivered, nor from scanned to not yet scanned."""
    ordered = _by_time(events)
    if not ordered:
        return TrackingStatus.PENDING
    if any(e.status is TrackingStatus.DELIVERED for e in ordered):
        return TrackingStatus.DELIVERED
    scanned = [e for e in ordered if e.status not in NOT_YET_SCANNED]
    return (scanned or ordered)[-1].status


def current_incident(events: Iterable[ScanEvent]) -> IncidentReason | None:
    """The trouble the latest scan reports (lost, damaged, returned...), if any."""
    ordered = _by_time(events)
    if not ordered or current_status(ordered) is TrackingStatus.DELIVERED:
        return None
    return ordered[-1].incident


def customs_held_since(events: Iterable[ScanEvent]) -> datetime | None:
    """When the current, unbroken stay in customs began (R12), by the order's own rule
    (``domain.order.customs_held_since`` over the scans as timeline entries)."""
    timeline = [
        order.TimelineEntry(
            at=e.at,
            source="carrier",
            kind="scan",
            code=e.code,
            status=e.status.value,
            incident=e.incident.value if e.incident else "",
        )
        for e in _by_time(events)
    ]
    return order.customs_held_since(timeline)


def customs_hold_exceeded(events: Iterable[ScanEvent], now: datetime, limit: timedelta) -> bool:
    """Whether the parcel has been held in customs for more than ``limit`` at ``now`` (R12)."""
    since = customs_held_since(events)
    return since is not None and now - since > limit


def proof_of_delivery(events: Iterable[ScanEvent]) -> DeliveryProof | None:
    """The carrier's proof of delivery (R13), from the latest delivery scan that carries one."""
    for event in reversed(_by_time(events)):
        if event.status is TrackingStatus.DELIVERED and (event.signer or event.photo_url):
            return DeliveryProof(signer=event.signer, at=event.at, photo_url=event.photo_url)
    return None
