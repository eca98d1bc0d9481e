"""R2 valid numbers: per-carrier formats as data, and the one check that reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from domain.carriers import Carrier, parse_carrier

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10_LAYOUT = "2 letters, 8 digits, a check digit, a 2-letter country code"


class NumberRule(StrEnum):
    """Which R2 rule refused a number. The values are part of the public API."""

    EMPTY = "empty"
    WHITESPACE = "whitespace"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    FORMAT = "format"
    CHECK_DIGIT = "check_digit"


@dataclass(frozen=True)
class Layout:
    """One accepted layout of a carrier's numbers; ``s10_digits`` marks UPU S10 check digits."""

    pattern: re.Pattern[str]
    s10_digits: bool = False


@dataclass(frozen=True)
class NumberFormat:
    """What a carrier's numbers look like: length bounds and the layouts tried in order."""

    min_length: int
    max_length: int
    layouts: tuple[Layout, ...]
    description: str


S10 = Layout(re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}"), s10_digits=True)
S10_EMS = Layout(re.compile(r"E[A-Z]\d{9}[A-Z]{2}"), s10_digits=True)

FORMATS: dict[Carrier, NumberFormat] = {
    Carrier.CHINA_POST: NumberFormat(13, 13, (S10,), f"UPU S10 ({S10_LAYOUT})"),
    Carrier.EMS: NumberFormat(13, 13, (S10_EMS,), f"UPU S10 starting with E ({S10_LAYOUT})"),
    Carrier.CAINIAO: NumberFormat(
        13, 16, (Layout(re.compile(r"LP\d{14}")), S10), "LP and 14 digits, or UPU S10"
    ),
    Carrier.YANWEN: NumberFormat(
        13,
        30,
        (Layout(re.compile(r"[A-Z]{2}\d{9}YW")), S10, Layout(re.compile(r"[A-Z0-9]+"))),
        "letters and digits, or UPU S10",
    ),
    Carrier.FOURPX: NumberFormat(
        15, 20, (Layout(re.compile(r"4PX[A-Z0-9]+")),), "4PX followed by letters and digits"
    ),
    Carrier.YUNEXPRESS: NumberFormat(
        18, 18, (Layout(re.compile(r"YT\d{16}")),), "YT followed by 16 digits"
    ),
    Carrier.SF: NumberFormat(14, 15, (Layout(re.compile(r"SF\d{12,13}")),), "SF and 12-13 digits"),
}


@dataclass(frozen=True)
class TrackingNumberOk:
    """An accepted number, normalised; ``validated`` is False for carriers without a format."""

    carrier: str
    number: str
    validated: bool = True


@dataclass(frozen=True)
class TrackingNumberRefused:
    """A refused number: which ``rule`` and a ``detail`` sentence naming the offending part."""

    carrier: str
    raw: str
    rule: NumberRule
    detail: str


TrackingNumberCheck = TrackingNumberOk | TrackingNumberRefused


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number (10 becomes 0, 11 becomes 5)."""
    check = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def _whitespace_at(number: str) -> int | None:
    return next((i for i, ch in enumerate(number) if ch.isspace()), None)


def check_tracking_number(carrier: str, raw: str) -> TrackingNumberCheck:
    """Normalise ``raw`` for ``carrier`` and accept it, or refuse it with the R2 rule it breaks."""
    known = parse_carrier(carrier)
    code = known.value if known else carrier.strip().lower()
    name = known.display_name if known else carrier.strip()
    stripped = raw.strip()

    def refuse(rule: NumberRule, problem: str) -> TrackingNumberRefused:
        return TrackingNumberRefused(code, raw, rule, f"{name}: {problem}")

    if not stripped:
        return refuse(NumberRule.EMPTY, "the tracking number is empty")
    if (gap := _whitespace_at(stripped)) is not None:
        return refuse(NumberRule.WHITESPACE, f"whitespace inside the number at position {gap + 1}")
    if known is None:
        return TrackingNumberOk(code, stripped, validated=False)
    number = stripped.upper()
    fmt = FORMATS[known]
    if len(number) < fmt.min_length:
        return refuse(
            NumberRule.TOO_SHORT, f"too short ({len(number)} characters, at least {fmt.min_length})"
        )
    if len(number) > fmt.max_length:
        return refuse(
            NumberRule.TOO_LONG, f"too long ({len(number)} characters, at most {fmt.max_length})"
        )
    bad = next(
        ((i, ch) for i, ch in enumerate(number) if not ch.isascii() or not ch.isalnum()), None
    )
    if bad is not None:
        return refuse(
            NumberRule.FORMAT, f"unexpected character {bad[1]!r} at position {bad[0] + 1}"
        )
    layout = next((lay for lay in fmt.layouts if lay.pattern.fullmatch(number)), None)
    if layout is None:
        return refuse(NumberRule.FORMAT, f"{number} does not match {fmt.description}")
    if layout.s10_digits:
        expected = s10_check_digit(number[2:10])
        if int(number[10]) != expected:
            return refuse(
                NumberRule.CHECK_DIGIT, f"check digit is {number[10]}, expected {expected}"
            )
    return TrackingNumberOk(known.value, number)
