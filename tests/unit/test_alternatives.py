"""R9: once a number cannot be withdrawn, the order names the sanctioned ways left."""

from __future__ import annotations

from datetime import timedelta

from domain.alternatives import withdrawal_alternatives
from domain.errors import RefusalReason
from domain.events import CarrierScanned, ParcelDelivered, UploadTracking, WithdrawTracking
from domain.lifecycle import decide
from domain.order import Order
from tests.unit.builders import U, new_order, ok, shipped

H = timedelta(hours=1)


def cainiao(**kw: object) -> Order:
    order = new_order(**kw)
    upload = UploadTracking(carrier="cainiao", tracking_number="LP00123456789012")
    return ok(decide(order, upload, U))


def test_an_unscanned_cainiao_number_can_be_voided_free_inside_two_hours() -> None:
    order = cainiao(platform_supports_withdrawal=False)
    refused = decide(order, WithdrawTracking(), U + H)
    assert refused.refusal is RefusalReason.WITHDRAWAL_UNSUPPORTED
    assert "ask cainiao to void LP00123456789012 (free until" in refused.detail


def test_after_the_void_window_the_void_needs_its_confirmation_kept() -> None:
    ways = withdrawal_alternatives(cainiao(), U + 3 * H)
    assert len(ways) == 1
    assert "keep its void confirmation" in ways[0]


def test_a_scanned_parcel_points_to_a_logistics_exception_negotiation() -> None:
    order = ok(
        decide(shipped(), CarrierScanned(event_id="s", at=U + H, status="in_transit"), U + H)
    )
    refused = decide(order, WithdrawTracking(), U + 2 * H)
    assert refused.refusal is RefusalReason.CARRIER_SCANNED
    assert "logistics-exception negotiation" in refused.detail


def test_a_delivered_parcel_has_no_alternatives() -> None:
    order = ok(decide(shipped(), ParcelDelivered(event_id="d", at=U + 9 * H), U + 9 * H))
    assert withdrawal_alternatives(order, U + 10 * H) == []
