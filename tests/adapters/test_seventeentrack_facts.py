"""One way in for 17TRACK scans: pushed or polled, a scan becomes one fact (R10, T1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.seventeentrack.responses import parse_envelope, parse_track_info
from adapters.seventeentrack.webhook import parse_push
from domain.events import CarrierScanned, ParcelDelivered
from domain.lifecycle import decide
from domain.order import Order
from domain.polling import new_facts, remembered
from tests.unit.builders import NUMBER, ok, shipped

PAYLOADS = Path(__file__).parent / "payloads" / "seventeentrack"
PUSH = (PAYLOADS / "push_tracking_updated.json").read_bytes()
"""RR123456785CN's label and pickup, pushed."""
LOOKUP = json.loads((PAYLOADS / "gettrackinfo_delivered.json").read_text())
"""RR123456785CN's whole journey, the same label and pickup first, looked up."""
UPLOADED = datetime(2026, 3, 1, 18, tzinfo=UTC)
"""The evening before the label (2026-03-02 02:00 UTC)."""


def pushed() -> list[CarrierScanned | ParcelDelivered]:
    """The facts the push hook makes of the push."""
    return new_facts(parse_push(PUSH).record, ())


def polled(forwarded: list[str]) -> list[CarrierScanned | ParcelDelivered]:
    """The facts the poller makes of its look-up, given what it forwarded already."""
    (record,) = parse_track_info(parse_envelope(200, LOOKUP), [("china_post", NUMBER)])
    return new_facts(record, forwarded)


def fields(fact: CarrierScanned | ParcelDelivered) -> tuple[str, str, str, str]:
    status = fact.status if isinstance(fact, CarrierScanned) else "delivered"
    incident = fact.incident if isinstance(fact, CarrierScanned) else ""
    return (fact.event_id, status, incident, fact.code)


def test_a_pushed_scan_and_the_same_scan_polled_are_the_same_fact() -> None:
    by_push = pushed()
    by_poll = polled([])[: len(by_push)]

    assert [fields(f) for f in by_push] == [
        (by_push[0].event_id, "info_received", "", "InfoReceived"),
        (by_push[1].event_id, "in_transit", "", "InTransit_PickedUp"),
    ]
    assert by_poll == by_push  # same event id, status, incident, code, text, number


def test_a_scan_pushed_then_polled_reaches_the_order_once() -> None:
    order: Order = shipped(UPLOADED, paid_at=UPLOADED - timedelta(hours=10))
    for fact in pushed():
        order = ok(decide(order, fact, fact.at))
    for fact in polled([]):  # a poller that never saw the push: the order drops the repeats
        order = ok(decide(order, fact, fact.at))

    carrier = [e for e in order.timeline if e.source == "carrier"]
    assert [e.code for e in carrier] == [
        "InfoReceived",
        "InTransit_PickedUp",
        "InTransit_Departure",
        "InTransit_CustomsProcessing",
        "OutForDelivery_Other",
        "Delivered_Other",
    ]
    assert len({e.event_id for e in carrier}) == len(carrier)
    assert order.delivered_at is not None
    assert order.proof_of_delivery is not None
    assert order.proof_of_delivery.signer == "Li Wei"


def test_a_poller_that_forwarded_the_scans_sends_only_the_rest() -> None:
    memory = remembered([], pushed())
    assert [f.code for f in polled(memory)] == [
        "InTransit_Departure",
        "InTransit_CustomsProcessing",
        "OutForDelivery_Other",
        "Delivered_Other",
    ]
