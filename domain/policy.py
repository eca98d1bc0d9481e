"""Every figure DOMAIN.md marks *policy*, in one validated model with the platform's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.money import Money

PositiveDuration = Annotated[timedelta, Field(gt=timedelta(0))]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Rate = Annotated[Decimal, Field(gt=0)]

RATES_IN_USD: Final[Mapping[str, Decimal]] = {
    code: Decimal(rate)
    for code, rate in {
        "USD": "1", "EUR": "1.08", "GBP": "1.27", "CHF": "1.13", "CNY": "0.14", "HKD": "0.128",
        "JPY": "0.0067", "KRW": "0.00072", "SGD": "0.74", "AUD": "0.66", "NZD": "0.60",
        "CAD": "0.73", "MXN": "0.055", "BRL": "0.18", "CLP": "0.00105", "COP": "0.00025",
        "PEN": "0.27", "PLN": "0.25", "CZK": "0.043", "HUF": "0.0027", "SEK": "0.095",
        "NOK": "0.093", "DKK": "0.145", "RUB": "0.011", "UAH": "0.024", "KZT": "0.0020",
        "TRY": "0.029", "ILS": "0.27", "SAR": "0.27", "AED": "0.27", "INR": "0.012",
        "IDR": "0.000063", "THB": "0.028", "VND": "0.00004", "PHP": "0.017", "MYR": "0.22",
        "ZAR": "0.054",
    }.items()
}  # fmt: skip
"""Default ``Policy.currency_rates`` (USD per unit, rounded, 2026): an operator sets today's."""


class Policy(BaseModel):
    """Durations and limits of the platform rules. Tests and operators pass their own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    handling_time: PositiveDuration = timedelta(hours=72)
    """R3a: an order not shipped this long after payment is closed as unfulfilled."""
    cancel_window: PositiveDuration = timedelta(hours=24)
    """R4.1: a tracking number can be withdrawn this long after its upload."""
    eta_guard: PositiveDuration = timedelta(days=5)
    """R4.4: no withdrawal once the estimated delivery is this close (confirm-receipt countdown)."""
    reupload_grace: PositiveDuration = timedelta(hours=24)
    """S10 (ours): after a withdrawal past the handling deadline, time left to upload again."""
    carrier_silent_period: PositiveDuration = timedelta(hours=4)
    """R8: how long a carrier may take to create the tracking record after the upload."""
    carrier_void_window: PositiveDuration = timedelta(hours=2)
    """R9a: Cainiao voids a number free of charge this long after the label is made."""
    tracking_horizon: PositiveDuration = timedelta(days=30)
    """R11: the platform follows a number this long after shipping."""
    customs_hold_alert: PositiveDuration = timedelta(hours=48)
    """R12: a parcel held in customs longer than this raises an alert."""
    high_value: Money = Money(minor=50_00, currency="USD")
    """R13: orders above this amount (in any currency, converted with ``currency_rates``) need
    photo proof of delivery and a packing video."""
    currency_rates: dict[CurrencyCode, Rate] = Field(default_factory=lambda: dict(RATES_IN_USD))
    """R13: what one unit of each currency is worth in ``high_value``'s currency. An order in a
    currency missing here is treated as high-value (with a notice saying why)."""
    dispute_prone_categories: frozenset[str] = frozenset(
        {"jewellery", "jewelry", "watches", "phone_accessories"}
    )
    """R13: categories that need the photo-proof line and the packing video whatever the value
    (compared lower-case, with spaces and dashes read as underscores)."""
    packing_video_within: PositiveDuration = timedelta(hours=2)
    """R13: the packing-video still is due this long after shipping."""
    first_response: PositiveDuration = timedelta(hours=24)
    """R14: a dispute's first response is due this long after it opens."""
    solution: PositiveDuration = timedelta(hours=48)
    """R14: a valid solution is due this long after the dispute opens."""
    reminder_fractions: tuple[float, ...] = (0.5, 0.9)
    """D10 (ours): reminders at these fractions of each dispute window."""
    arbitration_reminder_after: PositiveDuration = timedelta(days=7)
    """R14 (ours): a dispute in the platform's arbitration with no verdict this long after the
    buyer's late rejection is brought back to the seller's attention."""
    number_reuse_after: PositiveDuration = timedelta(days=180)
    """R2: a number once used on an order stays a duplicate this long after that order ends."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if any(not 0 < f < 1 for f in self.reminder_fractions):
            msg = "reminder_fractions must lie strictly between 0 and 1"
            raise ValueError(msg)
        if self.first_response > self.solution:
            msg = "first_response must not be longer than solution"
            raise ValueError(msg)
        if self.currency_rates.get(self.high_value.currency, Decimal(1)) != 1:
            msg = f"currency_rates must rate {self.high_value.currency} (high_value's) at 1"
            raise ValueError(msg)
        return self
