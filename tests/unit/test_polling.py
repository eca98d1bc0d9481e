"""R8, R11, R12 pull ingestion: which parcels are polled when, batched, signalling only changes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from adapters.seventeentrack.statuses import read_scan
from domain.events import CarrierScanned, ParcelDelivered, ProofOfDelivery
from domain.polling import (
    MAX_BATCH,
    Parcel,
    PollingPolicy,
    batches,
    due,
    memo_id,
    new_facts,
    next_wake,
    remembered,
)
from domain.states import OrderState
from domain.tracking import CarrierRecord, RawScan
from workers.codec import data_converter
from workflows.tracking_poller import PollerInput, PollerMemory

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
POLICY = PollingPolicy()
S = OrderState


def parcel(
    state: str = S.SHIPPED,
    *,
    polled_ago: timedelta | None = None,
    uploaded_ago: timedelta = timedelta(hours=1),
    n: int = 0,
) -> Parcel:
    return Parcel(
        workflow_id=f"order-aliexpress-{n}",
        carrier="china_post",
        number=f"RR{n:09d}CN",
        state=state,
        uploaded_at=NOW - uploaded_ago,
        last_polled_at=None if polled_ago is None else NOW - polled_ago,
    )


@pytest.mark.parametrize(
    ("state", "polled_ago", "is_due"),
    [
        (S.SHIPPED, None, True),
        (S.SHIPPED, timedelta(minutes=14), False),
        (S.SHIPPED, timedelta(minutes=15), True),
        (S.LOCKED, None, True),
        (S.LOCKED, timedelta(minutes=15), False),
        (S.LOCKED, timedelta(hours=2, minutes=59), False),
        (S.LOCKED, timedelta(hours=3), True),
        (S.AWAITING_FIRST_RESPONSE, timedelta(hours=3), True),
        (S.AWAITING_SOLUTION, timedelta(hours=1), False),
        (S.SOLUTION_OFFERED, timedelta(hours=3), True),
        (S.AWAITING_SHIPMENT, None, False),
        (S.DELIVERED, None, False),
        (S.COMPLETED, None, False),
        (S.TRACKING_EXPIRED, None, False),
        (S.DISPUTE_RESOLVED, None, False),
    ],
)
def test_a_parcel_is_polled_as_often_as_its_phase_needs(
    state: str, polled_ago: timedelta | None, is_due: bool
) -> None:
    assert (due([parcel(state, polled_ago=polled_ago)], NOW, POLICY) != []) is is_due


def test_a_parcel_past_the_30_day_horizon_is_never_polled_again() -> None:
    inside = parcel(S.LOCKED, uploaded_ago=timedelta(days=29, hours=23), n=1)
    outside = parcel(S.LOCKED, uploaded_ago=timedelta(days=30), n=2)
    assert due([inside, outside], NOW, POLICY) == [inside]


def test_the_horizon_follows_the_policy() -> None:
    short = PollingPolicy(tracking_horizon=timedelta(days=10))
    assert due([parcel(S.LOCKED, uploaded_ago=timedelta(days=11))], NOW, short) == []


def test_the_most_overdue_parcels_are_polled_first() -> None:
    recent = parcel(S.LOCKED, polled_ago=timedelta(hours=3), n=1)
    stale = parcel(S.LOCKED, polled_ago=timedelta(hours=9), n=2)
    never = parcel(S.SHIPPED, n=3)
    assert due([recent, stale, never], NOW, POLICY) == [stale, recent, never]


def test_the_poller_wakes_for_the_next_due_parcel_but_sleeps_at_most_15_minutes() -> None:
    soon = parcel(S.LOCKED, polled_ago=timedelta(hours=2, minutes=55))
    assert next_wake([soon], NOW, POLICY) == NOW + timedelta(minutes=5)
    later = parcel(S.LOCKED, polled_ago=timedelta(minutes=1))
    assert next_wake([later], NOW, POLICY) == NOW + timedelta(minutes=15)
    assert next_wake([], NOW, POLICY) == NOW + timedelta(minutes=15)
    assert next_wake([parcel(S.DELIVERED)], NOW, POLICY) == NOW + timedelta(minutes=15)


def test_batches_hold_at_most_50_numbers_and_lose_none() -> None:
    parcels = [parcel(n=n) for n in range(121)]
    split = batches(parcels)
    assert [len(b) for b in split] == [50, 50, 21]
    assert [p for b in split for p in b] == parcels
    assert [len(b) for b in batches(parcels, 40)] == [40, 40, 40, 1]


@pytest.mark.parametrize("size", [0, MAX_BATCH + 1])
def test_a_batch_size_outside_1_to_50_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 50"):
        batches([parcel()], size)
    with pytest.raises(ValueError, match="batch_size"):
        PollingPolicy(batch_size=size)


def test_1000_shipped_parcels_need_at_most_20_lookups_in_one_cycle() -> None:
    parcels = [parcel(n=n) for n in range(1_000)]
    split = batches(due(parcels, NOW, POLICY), POLICY.batch_size)
    assert len(split) <= 20
    assert sum(len(b) for b in split) == 1_000


def scan(event_id: str, hours: float, code: str, description: str = "") -> RawScan:
    """A 17TRACK scan as its adapter reads it."""
    return read_scan(
        event_id=event_id,
        at=NOW + timedelta(hours=hours),
        code=code,
        description=description,
        location="Shenzhen",
    )


def record(*scans: RawScan) -> CarrierRecord:
    return CarrierRecord(
        carrier="china_post", tracking_number="RR123456785CN", known=bool(scans), events=scans
    )


def test_only_events_not_forwarded_yet_become_facts_with_a_normalised_status() -> None:
    rec = record(
        scan("e1", 0, "InfoReceived"),
        scan("e2", 2, "InTransit_PickedUp", "Picked up"),
        scan("e3", 9, "InTransit_CustomsProcessing"),
    )
    facts = new_facts(rec, {"e1"})
    assert facts == [
        CarrierScanned(
            event_id="e2",
            at=NOW + timedelta(hours=2),
            status="in_transit",
            code="InTransit_PickedUp",
            description="Picked up",
            location="Shenzhen",
            tracking_number="RR123456785CN",
        ),
        CarrierScanned(
            event_id="e3",
            at=NOW + timedelta(hours=9),
            status="customs",
            code="InTransit_CustomsProcessing",
            location="Shenzhen",
            tracking_number="RR123456785CN",
        ),
    ]
    memory = remembered(["e1"], facts)
    assert memory == [memo_id("e1"), memo_id("e2"), memo_id("e3")]
    assert all(len(memo) == 9 for memo in memory)
    assert new_facts(rec, memory) == []  # what is remembered is not sent again
    assert remembered(memory, []) == memory


def test_a_memory_written_before_memos_still_holds_back_what_it_forwarded() -> None:
    rec = record(scan("e1", 0, "InfoReceived"), scan("e2", 2, "InTransit_PickedUp"))
    assert [f.event_id for f in new_facts(rec, ["e1"])] == ["e2"]
    assert remembered(["e1"], []) == [memo_id("e1")]


def test_a_record_with_nothing_new_signals_nothing() -> None:
    rec = record(scan("e1", 0, "InfoReceived"), scan("e2", 2, "InTransit_PickedUp"))
    assert new_facts(rec, ["e1", "e2"]) == []
    assert new_facts(record(), []) == []


def test_a_delivery_scan_becomes_parcel_delivered_with_its_proof() -> None:
    rec = record(
        scan("e2", 2, "InTransit_PickedUp"),
        scan("e9", 200, "Delivered_Other", "Delivered, signed by M. Dupont"),
    )
    assert new_facts(rec, ["e2"]) == [
        ParcelDelivered(
            event_id="e9",
            at=NOW + timedelta(hours=200),
            code="Delivered_Other",
            proof=ProofOfDelivery(signer="M. Dupont"),
            tracking_number="RR123456785CN",
        )
    ]


def test_a_delivery_without_proof_carries_none() -> None:
    facts = new_facts(record(scan("e9", 200, "Delivered_Other", "Delivered")), [])
    assert facts == [
        ParcelDelivered(
            event_id="e9",
            at=NOW + timedelta(hours=200),
            code="Delivered_Other",
            tracking_number="RR123456785CN",
        )
    ]


async def test_the_pollers_memory_of_10000_parcels_of_20_scans_fits_in_one_payload() -> None:
    """Continue-as-new carries the poller's memory in one payload (Temporal refuses over 2 MB):
    10,000 parcels in flight with 20 forwarded scans each fit, compressed, with room to spare."""
    seen: dict[str, list[str]] = {}
    last_polled: dict[str, datetime] = {}
    for i in range(10_000):
        key = f"order-aliexpress-{8_100_000_000_000_000 + i * 7_919_177}:china_post:RR{i:09d}CN"
        scans = [hashlib.sha256(f"{key}|{n}".encode()).hexdigest()[:20] for n in range(20)]
        seen[key] = remembered(scans, [])
        last_polled[key] = NOW + timedelta(seconds=i * 97)
    memory = PollerInput(carried=PollerMemory(seen=seen, last_polled=last_polled))

    converter = data_converter(None)
    [raw] = converter.payload_converter.to_payloads([memory])
    [carried] = await converter.encode([memory])
    assert raw.ByteSize() > 2 * 2**20
    assert carried.ByteSize() < 0.8 * 2 * 2**20
    assert await converter.decode([carried], [PollerInput]) == [memory]
