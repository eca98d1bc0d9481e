"""Carrier activities: asking the tracking service whether it knows a number yet (R8)."""

from __future__ import annotations

from temporalio import activity

from activities.errors import translated
from domain.commands import CheckCarrier
from domain.errors import PermanentPortError
from domain.ports import CarrierRecord, CarrierTracking


class UnconfiguredTracking:
    """The tracking port of a worker started without a tracking service: every call says so."""

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        raise PermanentPortError(f"no tracking service configured ({len(numbers)} numbers)")

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        raise PermanentPortError(f"no tracking service configured ({len(numbers)} numbers)")

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        raise PermanentPortError(f"no tracking service configured ({len(numbers)} numbers)")


class CarrierActivities:
    """Thin activities over a ``CarrierTracking`` port."""

    def __init__(self, tracking: CarrierTracking) -> None:
        self._tracking = tracking

    @activity.defn(name="carrier.check")
    async def check(self, command: CheckCarrier) -> bool:
        """Register the number with the tracking service and say whether the carrier knows it."""
        pair = [(command.carrier, command.tracking_number)]
        await translated(self._tracking.register(pair))
        records = await translated(self._tracking.lookup(pair))
        return any(record.known for record in records)
