"""Pull ingestion's rules (R8, R11, R12): which parcels to poll when, and what is new."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Final, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.events import CarrierScanned, ParcelDelivered, ProofOfDelivery
from domain.policy import Policy, PositiveDuration
from domain.states import DISPUTE_STATES, OrderState
from domain.tracking import CarrierRecord, ScanEvent, scan_event
from domain.tracking_codes import TrackingStatus

MAX_BATCH: Final = 50
"""R12: a tracking look-up takes at most this many numbers (whatever the service allows: 17TRACK's
adapter sends fewer, never more)."""

TrackedFact = Annotated[CarrierScanned | ParcelDelivered, Field(discriminator="kind")]
"""A fact the poller forwards to an order: a scan, or the delivery."""


class PollingPolicy(BaseModel):
    """How often each phase of an order is polled, and how many numbers go in one look-up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cancel_window_every: PositiveDuration = timedelta(minutes=15)
    """``shipped``: the first scan closes the cancel window (R4.2, R8), so look often."""
    in_transit_every: PositiveDuration = timedelta(hours=3)
    """``locked`` and disputes: carriers update about every 3 h (R12)."""
    max_sleep: PositiveDuration = timedelta(minutes=15)
    """The poller lists orders again at least this often, to find newly shipped ones."""
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH)] = MAX_BATCH
    tracking_horizon: PositiveDuration = Policy().tracking_horizon
    """R11: a number is followed this long after its upload, never longer."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.max_sleep > self.cancel_window_every:
            msg = "max_sleep must not be longer than cancel_window_every"
            raise ValueError(msg)
        return self

    def interval(self, state: str) -> timedelta | None:
        """How often an order in ``state`` is polled; None when it never is."""
        if state == OrderState.SHIPPED:
            return self.cancel_window_every
        if state == OrderState.LOCKED or state in DISPUTE_STATES:
            return self.in_transit_every
        return None  # not shipped yet, delivered, expired or over: nothing to learn


POLLED_STATES: Final = (OrderState.SHIPPED, OrderState.LOCKED, *sorted(DISPUTE_STATES))
"""The order states whose parcels are polled at all."""


class Parcel(BaseModel):
    """One shipped order's parcel as the poller sees it (from visibility, plus its own memory)."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    carrier: str
    number: str
    state: str
    uploaded_at: datetime | None = None
    last_polled_at: datetime | None = None

    @property
    def key(self) -> str:
        """This order's claim on this number: the poller remembers what it forwarded by it."""
        return f"{self.workflow_id}:{self.carrier}:{self.number}"

    @property
    def pair(self) -> tuple[str, str]:
        """The (carrier, number) pair the tracking port takes."""
        return (self.carrier, self.number)


def inside_horizon(parcel: Parcel, now: datetime, policy: PollingPolicy) -> bool:
    """Whether the number is still followed (R11); an unknown upload time counts as inside."""
    return parcel.uploaded_at is None or now < parcel.uploaded_at + policy.tracking_horizon


def next_poll_at(parcel: Parcel, now: datetime, policy: PollingPolicy) -> datetime | None:
    """When ``parcel`` is next due: ``now`` if never polled (R8: ask soon), None if never."""
    every = policy.interval(parcel.state)
    if every is None or not inside_horizon(parcel, now, policy):
        return None
    return now if parcel.last_polled_at is None else parcel.last_polled_at + every


def due(parcels: Iterable[Parcel], now: datetime, policy: PollingPolicy) -> list[Parcel]:
    """The parcels to poll now, most overdue first (ties broken by key, for a stable order)."""
    timed = [(at, p) for p in parcels if (at := next_poll_at(p, now, policy)) is not None]
    return [p for at, p in sorted(timed, key=lambda t: (t[0], t[1].key)) if at <= now]


def next_wake(parcels: Iterable[Parcel], now: datetime, policy: PollingPolicy) -> datetime:
    """When the poller must look again: the next due parcel, and at most ``max_sleep`` away."""
    upcoming = [at for p in parcels if (at := next_poll_at(p, now, policy)) is not None]
    return max(now, min([*upcoming, now + policy.max_sleep]))


_Item = TypeVar("_Item")


def batches(items: Sequence[_Item], size: int = MAX_BATCH) -> list[list[_Item]]:
    """``items`` (parcels, or the tracking port's numbers) in look-up batches of at most ``size``
    (1..50, R12), in their order: first come, first sent."""
    if not 1 <= size <= MAX_BATCH:
        msg = f"batch size must be between 1 and {MAX_BATCH}, got {size}"
        raise ValueError(msg)
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


MEMO: Final = "~"
"""Marks a remembered event id: ``~`` and 8 hex digits of the id's SHA-256."""


def memo_id(event_id: str) -> str:
    """What the poller remembers of a forwarded event id: 9 characters instead of 20 or more,
    so that its memory of thousands of parcels stays within one payload. Two scans of one
    parcel share a memo once in 4 billion pairs (the order de-duplicates by full id anyway)."""
    if event_id.startswith(MEMO):
        return event_id
    return MEMO + hashlib.sha256(event_id.encode()).hexdigest()[:8]


def new_facts(
    record: CarrierRecord, forwarded: Collection[str]
) -> list[CarrierScanned | ParcelDelivered]:
    """The record's scans not forwarded yet, oldest first, as the facts an order takes.

    The one way a carrier's scans become an order's facts: the 17TRACK push hook, the poller
    and the look-up before a withdrawal all call it on the record their adapter read (each
    scan's status already in the one status set, R10), so one scan is one fact, with one event
    id, however it arrives. Only changes are signalled: a scan whose id (or its ``memo_id``;
    memories written before memos hold full ids) is in ``forwarded`` is left out. A delivery
    scan becomes ``ParcelDelivered`` with the carrier's proof when it has one (R13).
    """
    facts: list[CarrierScanned | ParcelDelivered] = []
    for raw in sorted(record.events, key=lambda scan: scan.at):
        if raw.event_id in forwarded or memo_id(raw.event_id) in forwarded:
            continue
        facts.append(scan_fact(scan_event(raw), record.tracking_number))
    return facts


def remembered(
    forwarded: Iterable[str], facts: Iterable[CarrierScanned | ParcelDelivered]
) -> list[str]:
    """The memos of the event ids forwarded once ``facts`` are delivered too (each once)."""
    ids = [*forwarded, *(fact.event_id for fact in facts)]
    return list(dict.fromkeys(memo_id(event_id) for event_id in ids))


def scan_fact(scan: ScanEvent, tracking_number: str) -> CarrierScanned | ParcelDelivered:
    """The fact an order takes from one normalised scan of ``tracking_number`` (R10): a delivery
    carries its proof (R13), a scan the trouble it reports (R12: a customs hold)."""
    if scan.status is TrackingStatus.DELIVERED:
        proof = None
        if scan.signer or scan.photo_url:
            proof = ProofOfDelivery(signer=scan.signer or None, photo_url=scan.photo_url or None)
        return ParcelDelivered(
            event_id=scan.event_id,
            at=scan.at,
            code=scan.code,
            proof=proof,
            tracking_number=tracking_number,
        )
    return CarrierScanned(
        event_id=scan.event_id,
        at=scan.at,
        status=scan.status.value,
        code=scan.code,
        description=scan.description,
        location=scan.location,
        incident=scan.incident.value if scan.incident else "",
        tracking_number=tracking_number,
    )
