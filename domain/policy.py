"""Every figure DOMAIN.md marks *policy*, in one validated model with the platform's defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.money import Money

PositiveDuration = Annotated[timedelta, Field(gt=timedelta(0))]


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
    """R13: orders above this amount need photo proof of delivery and a packing video."""
    packing_video_within: PositiveDuration = timedelta(hours=2)
    """R13: the packing-video still is due this long after shipping."""
    first_response: PositiveDuration = timedelta(hours=24)
    """R14: a dispute's first response is due this long after it opens."""
    solution: PositiveDuration = timedelta(hours=48)
    """R14: a valid solution is due this long after the dispute opens."""
    reminder_fractions: tuple[float, ...] = (0.5, 0.9)
    """D10 (ours): reminders at these fractions of each dispute window."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if any(not 0 < f < 1 for f in self.reminder_fractions):
            msg = "reminder_fractions must lie strictly between 0 and 1"
            raise ValueError(msg)
        if self.first_response > self.solution:
            msg = "first_response must not be longer than solution"
            raise ValueError(msg)
        return self
