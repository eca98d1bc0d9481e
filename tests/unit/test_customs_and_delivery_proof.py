"""R12 customs holds however a carrier reports them; R13 a delivery without proof warns at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.seventeentrack.statuses import read_scan
from domain.events import CarrierScanned, DisputeOpened, ParcelDelivered, ProofOfDelivery
from domain.lifecycle import advance, decide
from domain.order import DeadlineKind, Order, pending_deadlines
from domain.polling import scan_fact
from domain.tracking import scan_event
from tests.unit.builders import NUMBER, U, ok, shipped

H = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def seventeentrack(code: str, at: timedelta, event_id: str) -> CarrierScanned:
    """A 17TRACK scan as the poller and the push hook hand it to the order."""
    fact = scan_fact(scan_event(read_scan(event_id=event_id, at=U + at, code=code)), NUMBER)
    assert isinstance(fact, CarrierScanned)
    return fact


def in_transit() -> Order:
    return ok(decide(shipped(), seventeentrack("InTransit_PickedUp", 3 * H, "pu"), U + 3 * H))


@pytest.mark.parametrize(
    "code",
    [
        "InTransit_CustomsProcessing",
        "InTransit_CustomsRequiringInformation",
        "Exception_Security",
        "DeliveryFailure_Security",
    ],
)
def test_every_way_17track_reports_a_customs_hold_starts_the_customs_clock(code: str) -> None:
    order = ok(decide(in_transit(), seventeentrack(code, 72 * H, "cu"), U + 72 * H))
    clocks = [d for d in pending_deadlines(order) if d.kind is DeadlineKind.CUSTOMS_HOLD]
    assert [d.at for d in clocks] == [U + 72 * H + 48 * H]


def test_the_customs_alert_fires_only_once_the_hold_has_lasted_more_than_48_hours() -> None:
    order = ok(decide(in_transit(), seventeentrack("Exception_Security", 72 * H, "cu"), U + 72 * H))
    exactly = advance(order, U + 72 * H + 48 * H).order
    assert not any("customs" in n for n in exactly.notices)
    past = advance(order, U + 72 * H + 48 * H + SECOND).order
    assert [n for n in past.notices if "customs" in n] == [
        f"{(U + 120 * H).isoformat()} alert: held in customs since {(U + 72 * H).isoformat()}"
    ]
    clock = next(d for d in pending_deadlines(order) if d.kind is DeadlineKind.CUSTOMS_HOLD)
    assert clock.wake_at > clock.at  # the order's timer wakes it just after the 48 h


def test_a_hold_reported_first_as_customs_then_as_an_exception_is_one_hold() -> None:
    order = ok(
        decide(
            in_transit(), seventeentrack("InTransit_CustomsProcessing", 72 * H, "c1"), U + 72 * H
        )
    )
    order = ok(decide(order, seventeentrack("Exception_Security", 100 * H, "c2"), U + 100 * H))
    clocks = [d for d in pending_deadlines(order) if d.kind is DeadlineKind.CUSTOMS_HOLD]
    assert [d.at for d in clocks] == [U + 120 * H]


def test_a_release_from_customs_stops_the_clock() -> None:
    order = ok(decide(in_transit(), seventeentrack("Exception_Security", 72 * H, "cu"), U + 72 * H))
    order = ok(
        decide(order, seventeentrack("InTransit_CustomsReleased", 90 * H, "out"), U + 90 * H)
    )
    assert DeadlineKind.CUSTOMS_HOLD not in {d.kind for d in pending_deadlines(order)}


def delivered(proof: ProofOfDelivery | None) -> Order:
    dl = ParcelDelivered(
        event_id="dl", at=U + 200 * H, code="DL", proof=proof, tracking_number=NUMBER
    )
    return ok(decide(in_transit(), dl, U + 200 * H))


def test_a_not_received_dispute_on_a_parcel_delivered_without_proof_warns_at_once() -> None:
    opened = DisputeOpened(event_id="d", at=U + 220 * H, dispute_id="D9")
    order = ok(decide(delivered(None), opened, U + 220 * H))
    warnings = [n for n in order.notices if "without proof of delivery" in n]
    assert len(warnings) == 1
    warning = warnings[0]
    assert "full refund" in warning
    assert "reship" in warning
    assert f"first response due {(U + 244 * H).isoformat()}" in warning
    assert f"solution due {(U + 268 * H).isoformat()}" in warning


def test_a_not_received_dispute_on_a_parcel_delivered_with_proof_does_not_warn() -> None:
    proof = ProofOfDelivery(signer="J. Smith", photo_url="https://carrier.example/p.jpg")
    opened = DisputeOpened(event_id="d", at=U + 220 * H, dispute_id="D9")
    order = ok(decide(delivered(proof), opened, U + 220 * H))
    assert not any("without proof of delivery" in n for n in order.notices)
    assert order.dispute is not None
    assert order.dispute.proof_of_delivery == proof
