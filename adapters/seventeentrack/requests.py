"""Pure builders of 17TRACK v2.2 requests: what to send, never how."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.seventeentrack.units import TOKEN_HEADER, carrier_key

Pair = tuple[str, str]  # (our carrier code, tracking number)


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP call: method, a path relative to the API base URL, JSON body and headers."""

    method: str
    path: str
    json: list[dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)


MAX_TAG = 100
"""The longest ``tag`` 17TRACK keeps with a registered number."""


def number_items(
    numbers: Sequence[Pair], tags: Sequence[str | None] | None = None
) -> list[dict[str, Any]]:
    """The JSON array items 17TRACK expects; unknown carriers are left to auto-detection.
    With ``tags`` (one per number), each item carries its ``tag``: 17TRACK keeps it with the
    number and echoes it in every push and look-up of that number."""
    if tags is not None and len(tags) != len(numbers):
        msg = f"{len(tags)} tags for {len(numbers)} numbers"
        raise ValueError(msg)
    items: list[dict[str, Any]] = []
    for index, (carrier, number) in enumerate(numbers):
        item: dict[str, Any] = {"number": number}
        if (key := carrier_key(carrier)) is not None:
            item["carrier"] = key
        tag = tags[index] if tags is not None else None
        if tag:
            if len(tag) > MAX_TAG:
                msg = f"a 17TRACK tag holds at most {MAX_TAG} characters, got {len(tag)}"
                raise ValueError(msg)
            item["tag"] = tag
        items.append(item)
    return items


def _post(
    path: str, numbers: Sequence[Pair], token: str, tags: Sequence[str | None] | None = None
) -> HttpRequest:
    headers = {TOKEN_HEADER: token, "Content-Type": "application/json"}
    return HttpRequest("POST", path, number_items(numbers, tags), headers)


def build_register(
    numbers: Sequence[Pair], token: str, tags: Sequence[str | None] | None = None
) -> HttpRequest:
    """Start tracking ``numbers`` (one batch), each with its tag when ``tags`` are given."""
    return _post("register", numbers, token, tags)


def build_gettrackinfo(numbers: Sequence[Pair], token: str) -> HttpRequest:
    """Read the current tracking of ``numbers`` (one batch)."""
    return _post("gettrackinfo", numbers, token)


def build_stoptrack(numbers: Sequence[Pair], token: str) -> HttpRequest:
    """Stop tracking ``numbers`` (one batch)."""
    return _post("stoptrack", numbers, token)
