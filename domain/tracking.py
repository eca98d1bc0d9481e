"""R10 tracking: what a tracking service reports of a number, and the scan events read from it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.tracking_codes import NOT_A_SCAN, NOT_YET_SCANNED, IncidentReason, TrackingStatus

_SIGNER = re.compile(r"signed\s+(?:for\s+)?by[:\s]+([^,;]+)", re.IGNORECASE)
_PHOTO = re.compile(r"photo:?\s*(https?://[^\s,;]+)", re.IGNORECASE)


class RawScan(BaseModel):
    """One scan as the tracking service reported it, read by its adapter: ``code`` is the
    carrier's own code, kept verbatim (T1); ``status`` and ``incident`` are what the adapter's
    status table says it means in the one status set (R10). The domain never reads ``code``."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    at: datetime
    code: str
    status: TrackingStatus
    incident: IncidentReason | None = None
    description: str = ""
    location: str = ""


class CarrierRecord(BaseModel):
    """What a tracking service knows about one number right now (R8, R10)."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    tracking_number: str
    known: bool
    events: tuple[RawScan, ...] = ()


class ProofOfDelivery(BaseModel):
    """The carrier's proof that a parcel was delivered (R13): who signed, when, a photo."""

    model_config = ConfigDict(frozen=True)

    signer: str
    at: AwareDatetime
    photo_url: str = ""


class ScanEvent(BaseModel):
    """One carrier scan, normalised; ``code`` keeps the carrier's own code verbatim (T1)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    at: AwareDatetime
    code: str
    status: TrackingStatus
    incident: IncidentReason | None = None
    description: str = ""
    location: str = ""
    signer: str = ""
    photo_url: str = ""


def scan_event(raw: RawScan) -> ScanEvent:
    """The event of one scan its adapter has read (R10: ``raw.status``, never a carrier's code);
    a delivery's signer and photo come from its text (R13)."""
    signer = photo = ""
    if raw.status is TrackingStatus.DELIVERED:
        if found := _SIGNER.search(raw.description):
            signer = found.group(1).strip()
        if found := _PHOTO.search(raw.description):
            photo = found.group(1)
    return ScanEvent(
        event_id=raw.event_id,
        at=raw.at,
        code=raw.code,
        status=raw.status,
        incident=raw.incident,
        description=raw.description,
        location=raw.location,
        signer=signer,
        photo_url=photo,
    )


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
    """When the current, unbroken stay in customs began (R12); None when not in customs."""
    ordered = _by_time(events)
    if current_status(ordered) is not TrackingStatus.CUSTOMS:
        return None
    since = ordered[-1].at
    for event in reversed(ordered):
        if event.status is not TrackingStatus.CUSTOMS:
            break
        since = event.at
    return since


def customs_hold_exceeded(events: Iterable[ScanEvent], now: datetime, limit: timedelta) -> bool:
    """Whether the parcel has been held in customs for more than ``limit`` at ``now`` (R12)."""
    since = customs_held_since(events)
    return since is not None and now - since > limit


def proof_of_delivery(events: Iterable[ScanEvent]) -> ProofOfDelivery | None:
    """The carrier's proof of delivery (R13), from the latest delivery scan that carries one."""
    for event in reversed(_by_time(events)):
        if event.status is TrackingStatus.DELIVERED and (event.signer or event.photo_url):
            return ProofOfDelivery(signer=event.signer, at=event.at, photo_url=event.photo_url)
    return None
