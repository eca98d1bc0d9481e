"""Carrier activities: does the tracking service know a number (R8), which scans does it have
right now (R8, before a withdrawal), and stop following a number the order no longer carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from temporalio import activity

from activities.errors import translated
from domain.commands import CheckCarrier
from domain.errors import PermanentPortError
from domain.polling import TrackedFact, new_facts
from domain.ports import CarrierTracking, TaggedRegistration
from domain.tracking import CarrierRecord


class UnconfiguredTracking:
    """The tracking port of a worker started without a tracking service: every call says so."""

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        raise PermanentPortError(f"no tracking service configured ({len(numbers)} numbers)")

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        raise PermanentPortError(f"no tracking service configured ({len(numbers)} numbers)")

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        raise PermanentPortError(f"no tracking service configured ({len(numbers)} numbers)")


def register(
    tracking: CarrierTracking, numbers: list[tuple[tuple[str, str], str]]
) -> Awaitable[None]:
    """Register each (carrier, number) pair tagged with the workflow id of the order that
    carries it, where the service keeps tags (17TRACK); untagged elsewhere."""
    pairs = [pair for pair, _ in numbers]
    if isinstance(tracking, TaggedRegistration):
        return tracking.register_tagged(pairs, [tag for _, tag in numbers])
    return tracking.register(pairs)


def _order_tag() -> str:
    """The tag of a number registered by an order's activity: the order's workflow id."""
    return activity.info().workflow_id or ""


class CarrierParcel(BaseModel):
    """One parcel at its carrier: what the carrier activities are asked about."""

    carrier: str
    tracking_number: str


class CarrierActivities:
    """Thin activities over a ``CarrierTracking`` port (None: no tracking service configured)."""

    def __init__(self, tracking: CarrierTracking | None) -> None:
        self._tracking = tracking or UnconfiguredTracking()
        self._configured = tracking is not None

    @activity.defn(name="carrier.check")
    async def check(self, command: CheckCarrier) -> bool:
        """Register the number with the tracking service and say whether the carrier knows it."""
        pair = (command.carrier, command.tracking_number)
        await translated(register(self._tracking, [(pair, _order_tag())]))
        records = await translated(self._tracking.lookup([pair]))
        return any(record.known for record in records)

    @activity.defn(name="carrier.scans")
    async def scans(self, parcel: CarrierParcel) -> list[TrackedFact]:
        """Every scan the carrier has for the parcel now, as the facts the order takes ([]
        without a tracking service: nothing can be learnt, nothing is concluded)."""
        if not self._configured:
            return []
        pair = (parcel.carrier, parcel.tracking_number)
        await translated(register(self._tracking, [(pair, _order_tag())]))
        records = await translated(self._tracking.lookup([pair]))
        return [fact for record in records for fact in new_facts(record, ())]

    @activity.defn(name="carrier.follow")
    async def follow(self, parcel: CarrierParcel) -> None:
        """Start following the number, tagged with the order's workflow id (17TRACK echoes
        the tag in the number's pushes); nothing without a service. Registering a number
        17TRACK already follows is no failure (it answers that number rejected)."""
        if self._configured:
            pair = (parcel.carrier, parcel.tracking_number)
            await translated(register(self._tracking, [(pair, _order_tag())]))

    @activity.defn(name="carrier.stop")
    async def stop(self, parcel: CarrierParcel) -> None:
        """Stop following the number (17TRACK ``stoptrack``); nothing without a service."""
        if self._configured:
            await translated(self._tracking.stop([(parcel.carrier, parcel.tracking_number)]))

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every activity of this class, for the worker."""
        return [self.check, self.scans, self.follow, self.stop]
