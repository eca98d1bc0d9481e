"""Wire helpers shared by the simulator's API methods: parameters, times and amounts."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from adapters.platform_sim.rules import SimRefusal
from adapters.platform_sim.state import SimState
from domain.money import Money


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart call (never part of the signature)."""

    filename: str
    content_type: str
    data: bytes


Params = Mapping[str, str]
Files = Mapping[str, Upload]
Handler = Callable[[SimState, Params, str | None], dict[str, Any]]
UploadHandler = Callable[[SimState, Params, Files, str | None], dict[str, Any]]

KEY_PARAM = "parcelflow_idempotency_key"
_WIRE_TZ = timezone(timedelta(hours=8))


def wire_time(value: datetime | None) -> str:
    """The platform's zone-less GMT+8 time format ('' for none)."""
    return value.astimezone(_WIRE_TZ).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def required(params: Params, name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise SimRefusal("isv.missing-parameter", f"{name} is required")
    return value


def json_param(params: Params, name: str) -> dict[str, Any]:
    try:
        value = json.loads(required(params, name))
    except json.JSONDecodeError as exc:
        raise SimRefusal("isv.invalid-parameter", f"{name} is not JSON") from exc
    if not isinstance(value, dict):
        raise SimRefusal("isv.invalid-parameter", f"{name} must be an object")
    return value


def parse_amount(text: str, currency: str) -> Money:
    """``"12.3"`` in ``currency`` as Money."""
    major, _, minor = text.partition(".")
    return Money(minor=int(major or 0) * 100 + int((minor + "00")[:2]), currency=currency)
