"""R10: a carrier fact is about one parcel, named by its number, never about the order as such."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.seventeentrack.statuses import read_scan
from domain.events import (
    CarrierChecked,
    CarrierScanned,
    ParcelDelivered,
    ProofOfDelivery,
    UploadTracking,
    WithdrawTracking,
)
from domain.lifecycle import advance, decide
from domain.order import DeadlineKind, Order, pending_deadlines
from domain.polling import scan_fact
from domain.states import OrderState
from domain.tracking import RawScan, scan_event
from domain.tracking_codes import TrackingStatus
from tests.unit.builders import NUMBER, U, ok, shipped

H = timedelta(hours=1)
S = OrderState
A = NUMBER  # RR123456785CN, uploaded at U
B = "LX123456785CN"


def reuploaded(**kw: object) -> Order:
    """Upload A at U, withdraw it at U+1h, upload B at U+1h."""
    order = ok(decide(shipped(**kw), WithdrawTracking(), U + H))  # type: ignore[arg-type]
    return ok(decide(order, UploadTracking(carrier="china_post", tracking_number=B), U + H))


def pickup(number: str | None, at: timedelta, event_id: str = "pu") -> CarrierScanned:
    return CarrierScanned(
        event_id=event_id, at=U + at, status="in_transit", code="PU", tracking_number=number
    )


def test_a_pickup_scan_of_a_withdrawn_number_neither_locks_nor_blocks_the_new_one() -> None:
    order = ok(decide(reuploaded(), pickup(A, 2 * H), U + 2 * H))
    assert order.state is S.SHIPPED
    assert order.locked_at is None
    assert order.shipment is not None
    assert order.shipment.tracking_number == B
    assert (order.shipment.first_scan_at, order.shipment.carrier_known) == (None, False)
    kept = [e for e in order.timeline if e.event_id == "pu"]
    assert [(e.kind, e.tracking_number, e.code) for e in kept] == [("scan", A, "PU")]
    withdrawn = decide(order, WithdrawTracking(), U + 3 * H)
    assert withdrawn.refusal is None
    assert withdrawn.order.state is S.AWAITING_SHIPMENT


def test_a_pickup_scan_of_the_current_number_locks_as_before() -> None:
    order = ok(decide(reuploaded(), pickup(B, 2 * H), U + 2 * H))
    assert (order.state, order.locked_at) == (S.LOCKED, U + 2 * H)
    assert order.first_scan_at == U + 2 * H
    refused = decide(order, WithdrawTracking(), U + 3 * H)
    assert refused.refusal is not None
    assert refused.refusal.value == "carrier_scanned"


def test_a_number_is_compared_as_the_platform_sees_it() -> None:
    order = ok(decide(reuploaded(), pickup(" lx123456785cn ", 2 * H), U + 2 * H))
    assert order.state is S.LOCKED


def test_a_delivery_of_a_withdrawn_number_does_not_deliver_the_order() -> None:
    photo = ProofOfDelivery(signer="M. Dupont", photo_url="https://carrier.example/p.jpg")
    delivered = ParcelDelivered(
        event_id="dl", at=U + 5 * H, code="DL", tracking_number=A, proof=photo
    )
    order = ok(decide(reuploaded(), delivered, U + 5 * H))
    assert order.state is S.SHIPPED
    assert (order.delivered_at, order.proof_of_delivery) == (None, None)
    assert [e.tracking_number for e in order.timeline if e.event_id == "dl"] == [A]


def test_a_customs_hold_of_a_withdrawn_number_starts_no_customs_clock() -> None:
    order = ok(decide(reuploaded(), pickup(B, 2 * H, event_id="pu-b"), U + 2 * H))
    held = CarrierScanned(
        event_id="cu-a", at=U + 3 * H, status="customs", code="CU", tracking_number=A
    )
    order = ok(decide(order, held, U + 3 * H))
    assert DeadlineKind.CUSTOMS_HOLD not in {d.kind for d in pending_deadlines(order)}
    later = advance(order, U + timedelta(days=4)).order
    assert not any("customs" in notice for notice in later.notices)


def test_the_carrier_knowing_a_withdrawn_number_says_nothing_about_the_new_one() -> None:
    order = reuploaded()
    order.checks_carrier = True
    known = CarrierChecked(event_id="cc", at=U + 2 * H, known=True, tracking_number=A)
    order = ok(decide(order, known, U + 2 * H))
    assert order.carrier_known is False
    # R8: the carrier is still asked about B after its own silent period (from B's upload).
    checks = [d for d in pending_deadlines(order) if d.kind is DeadlineKind.CARRIER_CHECK]
    assert [(d.at, d.key) for d in checks] == [(U + H + 4 * H, "carrier_check:2")]


def test_a_new_upload_starts_clean_of_what_the_carrier_said_about_the_last() -> None:
    order = shipped()
    order.checks_carrier = True
    order = ok(decide(order, CarrierChecked(event_id="cc", at=U, known=True), U))
    assert order.carrier_known is True
    order = ok(decide(order, WithdrawTracking(), U + H))
    order = ok(decide(order, UploadTracking(carrier="china_post", tracking_number=B), U + H))
    assert order.carrier_known is False
    assert order.past_shipments[-1].carrier_known is True
    assert DeadlineKind.CARRIER_CHECK in {d.kind for d in pending_deadlines(order)}


def test_a_fact_recorded_before_facts_named_their_number_is_about_the_current_parcel() -> None:
    order = ok(decide(reuploaded(), pickup(None, 2 * H), U + 2 * H))
    assert order.state is S.LOCKED
    assert [e.tracking_number for e in order.timeline if e.event_id == "pu"] == [B]


def test_an_order_carried_from_before_keeps_what_the_carrier_said_on_its_parcel() -> None:
    carried = shipped().model_dump(mode="json")
    carried["shipment"] = {
        k: v
        for k, v in carried["shipment"].items()
        if k not in {"carrier_known", "first_scan_at", "delivered_at", "proof_of_delivery"}
    }
    carried |= {"carrier_known": True, "first_scan_at": (U + 2 * H).isoformat()}
    order = Order.model_validate(carried)
    assert order.shipment is not None
    assert (order.shipment.carrier_known, order.shipment.first_scan_at) == (True, U + 2 * H)


@pytest.mark.parametrize(
    "raw",
    [
        read_scan(event_id="e1", at=U, code="InTransit_PickedUp"),  # read by the 17TRACK table
        RawScan(event_id="e1", at=U, code="in_transit", status=TrackingStatus.IN_TRANSIT),
    ],
    ids=["17track", "own_status"],
)
def test_the_poller_and_the_push_hook_name_the_number_of_each_fact(raw: RawScan) -> None:
    fact = scan_fact(scan_event(raw), B)
    assert fact.tracking_number == B


def test_a_scan_sent_from_outside_as_delivered_still_delivers_the_parcel() -> None:
    """Our scans reach the order delivered as ``ParcelDelivered`` (the one conversion); a
    marketplace hook or an operator may still send ``carrier_scanned`` with status delivered."""
    delivered = CarrierScanned(
        event_id="dl", at=U + 5 * H, status="delivered", code="DL", tracking_number=A
    )
    order = ok(decide(shipped(), delivered, U + 5 * H))
    assert (order.state, order.delivered_at) == (S.DELIVERED, U + 5 * H)
    assert order.lock_reason is not None
    assert order.lock_reason.value == "carrier_scanned"
    assert [(e.kind, e.code) for e in order.timeline if e.event_id == "dl"] == [("scan", "DL")]
