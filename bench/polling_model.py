"""Tracking-API requests for 1,000 parcels over 30 days, from the poller's own rules.

The model runs ``domain.polling`` (``due``, ``batches``, ``next_wake``) on a simulated clock,
as the poller does each cycle: one look-up per batch, plus one registration per batch holding
numbers never polled. Parcels (seeded): uploaded over the first day; ``shipped`` until the first
scan (2-48 h later) or the 24 h cancel window, whichever is first, then ``locked``; 90 % are
delivered 6-20 days after upload (then no longer polled), 10 % never are (polled to R11's
horizon). The baseline asks the API once per parcel per poll.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.polling import Parcel, PollingPolicy, batches, due, next_wake
from domain.states import OrderState

DAYS = 30
CANCEL_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Journey:
    """One parcel's simulated life."""

    number: str
    uploaded_at: datetime
    locked_at: datetime
    delivered_at: datetime | None

    def state(self, now: datetime) -> str | None:
        """Its order's state at ``now`` (None before the upload)."""
        if now < self.uploaded_at:
            return None
        if self.delivered_at is not None and now >= self.delivered_at:
            return OrderState.DELIVERED
        return OrderState.LOCKED if now >= self.locked_at else OrderState.SHIPPED


@dataclass(frozen=True)
class Requests:
    """Tracking-API requests made, and what one request per parcel poll would have cost."""

    lookups: int
    registrations: int
    parcel_polls: int
    cycles: int

    @property
    def total(self) -> int:
        """Every request the poller makes."""
        return self.lookups + self.registrations

    @property
    def ratio(self) -> float:
        """Requests per request of the one-per-parcel-poll baseline."""
        return self.total / self.parcel_polls


def journeys(parcels: int, start: datetime, seed: int = 20) -> list[Journey]:
    """``parcels`` seeded journeys starting on the first day after ``start``."""
    rng = random.Random(seed)
    out: list[Journey] = []
    for n in range(parcels):
        uploaded = start + timedelta(seconds=rng.uniform(0, 86_400))
        scanned = uploaded + timedelta(hours=rng.uniform(2, 48))
        delivered = uploaded + timedelta(days=rng.uniform(6, 20)) if rng.random() < 0.9 else None
        locked = min(scanned, uploaded + CANCEL_WINDOW)
        out.append(Journey(f"LP{n:09d}CN", uploaded, locked, delivered))
    return out


def simulate(
    trips: list[Journey], start: datetime, policy: PollingPolicy, days: int = DAYS
) -> Requests:
    """Run the poller's schedule from ``start`` for ``days``."""
    end = start + timedelta(days=days)
    last_polled: dict[str, datetime] = {}
    lookups = registrations = polls = cycles = 0
    now = start
    while now < end:
        listed: list[Parcel] = []
        for trip in trips:
            state = trip.state(now)
            if state is None or policy.interval(state) is None:
                continue
            listed.append(
                Parcel.model_construct(
                    workflow_id=f"order-{trip.number}",
                    carrier="china_post",
                    number=trip.number,
                    state=state,
                    uploaded_at=trip.uploaded_at,
                    last_polled_at=last_polled.get(trip.number),
                )
            )
        for batch in batches(due(listed, now, policy), policy.batch_size):
            lookups += 1
            registrations += any(p.number not in last_polled for p in batch)
            polls += len(batch)
            last_polled.update((p.number, now) for p in batch)
        cycles += 1
        remembered = [p.model_copy(update={"last_polled_at": last_polled[p.number]})
                      if p.number in last_polled else p for p in listed]  # fmt: skip
        now = max(next_wake(remembered, now, policy), now + timedelta(seconds=1))
    return Requests(lookups, registrations, polls, cycles)


def first_cycle(parcels: int, policy: PollingPolicy) -> int:
    """Requests of one cycle over ``parcels`` new shipped numbers: a look-up and a registration
    per batch."""
    return 2 * math.ceil(parcels / policy.batch_size)


def thirty_days(parcels: int = 1_000) -> Requests:
    """The model's figure: ``parcels`` parcels, default polling policy, 30 simulated days."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return simulate(journeys(parcels, start), start, PollingPolicy())
