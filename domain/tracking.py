"""R10 tracking: what a tracking service reports of a number, and the scan events read from it."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.tracking_codes import IncidentReason, TrackingStatus

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
