"""What the simulator says in 17TRACK v2.2's words: track_info bodies and push payloads."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from adapters.carrier_sim.state import ScriptedEvent, SimState
from adapters.seventeentrack.units import ERR_NOT_REGISTERED
from adapters.seventeentrack.webhook import TRACKING_UPDATED


def _event(event: ScriptedEvent) -> dict[str, Any]:
    return {
        "time_iso": event.at.isoformat(),
        "time_utc": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "description": event.description,
        "description_translation": None,
        "location": event.location,
        "stage": None,
        "sub_status": event.sub_status,
    }


def _main_status(sub_status: str) -> str:
    return sub_status.split("_", 1)[0]


def track_info(state: SimState, number: str) -> dict[str, Any]:
    """The ``track_info`` of one number as 17TRACK would show it now (events newest first)."""
    events = state.visible_events(number)
    latest = events[-1] if events else None
    sub_status = latest.sub_status if latest else "NotFound_Other"
    key = state.carrier_of(number)
    return {
        "latest_status": {
            "status": _main_status(sub_status),
            "sub_status": sub_status,
            "sub_status_descr": None,
        },
        "latest_event": _event(latest) if latest else None,
        "tracking": {
            "providers_hash": len(events),
            "providers": [
                {
                    "provider": {"key": key, "name": "Simulated carrier"},
                    "events_hash": len(events),
                    "events": [_event(e) for e in reversed(events)],
                }
            ],
        },
    }


def gettrackinfo(state: SimState, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``data`` of a ``gettrackinfo`` answer: registered numbers accepted, others rejected."""
    accepted, rejected = [], []
    for item in items:
        number = str(item.get("number", "")).upper()
        if not state.is_registered(number):
            error = {"code": ERR_NOT_REGISTERED, "message": f"'{number}' is not registered."}
            rejected.append({"number": number, "error": error})
            continue
        accepted.append(
            {
                "number": number,
                "carrier": state.carrier_of(number),
                "param": None,
                "tag": state.tag_of(number),
                "track_info": track_info(state, number),
            }
        )
    return {"accepted": accepted, "rejected": rejected}


def due_pushes(state: SimState) -> list[tuple[str, int, bytes]]:
    """(number, visible event count, body) of each followed number with events not yet pushed."""
    due = []
    for number in sorted(state.registered):
        if number in state.stopped:
            continue
        seen = len(state.visible_events(number))
        if seen > state.pushed.get(number, 0):
            data = {
                "number": number,
                "carrier": state.carrier_of(number),
                "param": None,
                "tag": state.tag_of(number),
                "track_info": track_info(state, number),
            }
            body = json.dumps({"event": TRACKING_UPDATED, "data": data}).encode()
            due.append((number, seen, body))
    return due
