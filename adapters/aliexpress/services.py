"""Logistics service keys: the ``service_name`` AliExpress takes for our carrier and its line.

``aliexpress.logistics.sellershipmentfortop`` declares a parcel under the platform's logistics
service key (``CPAM``, ``EMS``, ...: the ``service_name`` values that
``aliexpress.logistics.redefining.listlogisticsservice`` lists), never under our carrier code.

A table entry is ``carrier`` or ``carrier:line``. A line the seller names (``china_post:ems``)
must have its own entry. Otherwise the number may show one (China Post ``E…CN`` is EMS, ``R…CN``
a registered small packet), tried before the carrier's own entry. The store's own table is
read first, then ``*`` (every store), then the defaults below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.carriers import parse_carrier
from domain.errors import InvalidInput

ENV_VARIABLE = "PARCELFLOW_ALIEXPRESS_SERVICE_KEYS"
EVERY_STORE = "*"


@dataclass(frozen=True)
class ServiceKey:
    """A default table entry: the platform's key and where it comes from."""

    key: str
    source: str


_LISTED = "the listlogisticsservice sample (tests/contracts/SOURCES.md)"
_SHIP_SAMPLE = "the sellershipmentfortop request sample (tests/contracts/SOURCES.md)"

DEFAULT_KEYS: Mapping[str, ServiceKey] = {
    "china_post": ServiceKey("CPAM", f"documented: {_LISTED}, 'China Post Registered Air Mail'"),
    "china_post:registered": ServiceKey("CPAM", f"documented: {_LISTED}"),
    "china_post:ems": ServiceKey("EMS", f"documented: {_SHIP_SAMPLE}"),
    "ems": ServiceKey("EMS", f"documented: {_SHIP_SAMPLE}"),
    "china_post_ordinary": ServiceKey("CPAP", "assumption: China Post Air Parcel, no sample found"),
    "yanwen": ServiceKey("YANWEN_JYT", "assumption: the seller centre's Yanwen line, no sample"),
    "cainiao": ServiceKey(
        "CAINIAO_STANDARD",
        "assumption: AliExpress Standard Shipping; only CAINIAO_STANDARD_TS_<id> (online"
        " logistics orders, with a warehouse) is in the docs",
    ),
}
"""Our carriers and lines to keys. 4PX, YunExpress and SF have no key here: no source names
theirs, so a store that ships with them sets its keys (``PARCELFLOW_ALIEXPRESS_SERVICE_KEYS``)."""

_NUMBER_LINES: Mapping[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "china_post": (
        (re.compile(r"E[A-Z]\d{9}CN"), "ems"),
        (re.compile(r"R[A-Z]\d{9}CN"), "registered"),
    ),
}
"""The line a number shows, per carrier (UPU S10 service indicators)."""


def carrier_code(carrier: str) -> str:
    """Our carrier code for a seller's spelling (``CPAM`` is China Post), else folded as is."""
    known = parse_carrier(carrier)
    return known.value if known else carrier.strip().lower()


def entries(carrier: str, tracking_number: str = "") -> tuple[str, ...]:
    """The table entries an upload may match, the most specific first."""
    name, colon, line = carrier.partition(":")
    code = carrier_code(name)
    if colon:  # a line the seller named has its own key or none: never the carrier's default
        return (f"{code}:{line.strip().lower()}",)
    number = tracking_number.strip().upper()
    shown = next((ln for rx, ln in _NUMBER_LINES.get(code, ()) if rx.fullmatch(number)), "")
    return (f"{code}:{shown}", code) if shown else (code,)


@dataclass(frozen=True)
class ServiceKeys:
    """The default table with the per-store overrides (store id or ``*`` → entry → key)."""

    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    defaults: Mapping[str, ServiceKey] = field(default_factory=lambda: DEFAULT_KEYS)

    def key_for(
        self, carrier: str, tracking_number: str = "", store_id: str | None = None
    ) -> str | None:
        """The key to declare this parcel under, or None when no table has one."""
        wanted = entries(carrier, tracking_number)
        tables = [self.overrides.get(store_id or "", {}), self.overrides.get(EVERY_STORE, {})]
        for table in tables:
            for entry in wanted:
                if entry in table:
                    return table[entry]
        return next((self.defaults[e].key for e in wanted if e in self.defaults), None)

    def keys(self) -> frozenset[str]:
        """Every key the tables can send (what the start check compares with the listing)."""
        overridden = {key for table in self.overrides.values() for key in table.values()}
        return frozenset({entry.key for entry in self.defaults.values()} | overridden)

    @classmethod
    def from_json(cls, text: str, variable: str = ENV_VARIABLE) -> ServiceKeys:
        """``{"<store id>" | "*": {"<carrier>[:<line>]": "<KEY>"}}``; empty text: defaults."""
        if not text.strip():
            return cls()
        try:
            raw = json.loads(text)
        except ValueError as error:
            raise InvalidInput(variable, f"is not JSON ({error})") from error
        if not isinstance(raw, dict):
            raise InvalidInput(variable, "must be an object of store id to {carrier: key}")
        overrides: dict[str, dict[str, str]] = {}
        for store, table in raw.items():
            if not isinstance(table, dict):
                raise InvalidInput(variable, f"{store!r} must map carrier[:line] to a key")
            overrides[store] = {}
            for entry, key in table.items():
                if not isinstance(key, str) or not key.strip() or not entry.strip():
                    raise InvalidInput(variable, f"{store!r}: {entry!r} needs a non-empty key")
                name, colon, line = entry.partition(":")
                normal = carrier_code(name) + (f":{line.strip().lower()}" if colon else "")
                overrides[store][normal] = key.strip()
        return cls(overrides=overrides)
