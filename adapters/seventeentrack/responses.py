"""Pure parsers of 17TRACK v2.2 answers into the carrier port's records, scans read by its table."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.seventeentrack.requests import Pair
from adapters.seventeentrack.statuses import read_scan
from adapters.seventeentrack.units import (
    CREDENTIAL_ERRORS,
    RETRYABLE_ERRORS,
    carrier_code,
    carrier_key,
)
from domain.errors import PermanentPortError, TransientPortError
from domain.tracking import CarrierRecord, RawScan

Json = Mapping[str, Any]


@dataclass(frozen=True)
class Rejection:
    """A number 17TRACK refused, with its error code and message."""

    number: str
    code: int
    message: str


def parse_envelope(status_code: int, body: Any) -> Json:
    """The ``data`` of a 17TRACK answer, or the port error its HTTP status and code mean."""
    code = body.get("code") if isinstance(body, Mapping) else None
    message = _envelope_message(body) or f"HTTP {status_code}"
    if status_code == 429 or status_code >= 500 or code in RETRYABLE_ERRORS:
        raise TransientPortError(f"17TRACK: {message} (HTTP {status_code}, code {code})")
    if status_code in {401, 403} or code in CREDENTIAL_ERRORS:
        raise PermanentPortError(f"17TRACK refused the credentials: {message} (code {code})")
    if status_code >= 400 or code != 0 or not isinstance(body, Mapping):
        raise PermanentPortError(f"17TRACK: {message} (HTTP {status_code}, code {code})")
    data = body.get("data")
    return data if isinstance(data, Mapping) else {}


def _envelope_message(body: Any) -> str:
    if not isinstance(body, Mapping):
        return ""
    data = body.get("data")
    errors = data.get("errors") if isinstance(data, Mapping) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("message", ""))
    return str(body.get("message") or body.get("msg") or "")


def parse_rejections(data: Json) -> list[Rejection]:
    """The numbers 17TRACK rejected in a batch."""
    return [
        Rejection(
            number=str(item.get("number", "")),
            code=int((item.get("error") or {}).get("code", 0)),
            message=str((item.get("error") or {}).get("message", "")),
        )
        for item in data.get("rejected") or []
    ]


def event_id(number: str, event: Json) -> str:
    """A stable id for a 17TRACK event (17TRACK gives none): the same scan, the same id."""
    parts = (number, event.get("time_utc") or event.get("time_iso"), event.get("sub_status"))
    text = "|".join(str(p) for p in (*parts, event.get("description"), event.get("location")))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _event_time(event: Json) -> datetime | None:
    text = event.get("time_utc") or event.get("time_iso")
    if not text:
        return None
    at = datetime.fromisoformat(str(text))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def raw_scans(number: str, track_info: Json | None) -> tuple[RawScan, ...]:
    """Every scan of every provider in a ``track_info``, oldest first, each code kept verbatim
    and read with the 17TRACK table (``statuses``)."""
    scans: dict[str, RawScan] = {}
    providers = ((track_info or {}).get("tracking") or {}).get("providers") or []
    for provider in providers:
        for event in provider.get("events") or []:
            at = _event_time(event)
            if at is None:
                continue  # a scan without a time cannot be placed on the timeline
            scan = read_scan(
                event_id=event_id(number, event),
                at=at,
                code=str(event.get("sub_status") or "InTransit_Other"),
                description=str(event.get("description") or ""),
                location=str(event.get("location") or ""),
            )
            scans.setdefault(scan.event_id, scan)
    return tuple(sorted(scans.values(), key=lambda s: s.at))


def track_record(carrier: str, item: Json) -> CarrierRecord:
    """The port's record of one accepted 17TRACK item."""
    number = str(item.get("number", ""))
    track_info = item.get("track_info") or {}
    scans = raw_scans(number, track_info)
    latest = (track_info.get("latest_status") or {}).get("status")
    known = bool(scans) or latest not in {None, "NotFound"}
    return CarrierRecord(carrier=carrier, tracking_number=number, known=known, events=scans)


def item_carrier(item: Json) -> str:
    """Our carrier code for a 17TRACK item (its key as text when we do not name it)."""
    key = item.get("carrier")
    return carrier_code(key) or str(key or "")


def parse_track_info(data: Json, requested: Sequence[Pair]) -> list[CarrierRecord]:
    """One record per requested (carrier, number), in request order; unknown when rejected."""
    accepted: dict[str, list[Json]] = {}
    for item in data.get("accepted") or []:
        accepted.setdefault(str(item.get("number", "")).upper(), []).append(item)
    records = []
    for carrier, number in requested:
        candidates = accepted.get(number.upper(), [])
        wanted = carrier_key(carrier)
        match = next((c for c in candidates if c.get("carrier") == wanted), None)
        item = match or (candidates[0] if candidates else None)
        if item is None:
            records.append(CarrierRecord(carrier=carrier, tracking_number=number, known=False))
        else:
            records.append(track_record(carrier, item))
    return records
