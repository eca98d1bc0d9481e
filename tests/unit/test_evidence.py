"""The evidence bundle (R15) gathers what the order knows and names what is missing."""

from __future__ import annotations

import json
from datetime import timedelta

from domain.events import (
    CarrierScanned,
    DisputeOpened,
    ParcelDelivered,
    ProofOfDelivery,
    RespondToDispute,
)
from domain.evidence import evidence_bundle
from domain.lifecycle import decide
from tests.unit.builders import NUMBER, U, ok, shipped

H = timedelta(hours=1)


def test_the_bundle_holds_tracking_history_proof_and_the_answer_sent() -> None:
    proof = ProofOfDelivery(signer="Li Wei", photo_url="https://pod.example/1.jpg")
    order = ok(
        decide(
            shipped(),
            CarrierScanned(event_id="pu", at=U + 3 * H, status="in_transit", code="PU"),
            U + 3 * H,
        )
    )
    order = ok(
        decide(
            order,
            ParcelDelivered(event_id="dl", at=U + 200 * H, code="DL", proof=proof),
            U + 200 * H,
        )
    )
    order = ok(
        decide(order, DisputeOpened(event_id="d", at=U + 210 * H, dispute_id="D1"), U + 210 * H)
    )
    order = ok(decide(order, RespondToDispute(message="Delivered."), U + 211 * H))
    bundle = evidence_bundle(order)
    assert [(e.event_id, e.code) for e in bundle.tracking_history] == [("pu", "PU"), ("dl", "DL")]
    assert bundle.proof_of_delivery == proof
    assert [s.tracking_number for s in bundle.shipments] == [NUMBER]
    assert [m.kind for m in bundle.messages_sent] == ["response"]
    assert "signed by Li Wei" in bundle.messages_sent[0].text
    assert "packing video (at least 15 s, SKU and label visible)" in bundle.missing
    assert json.loads(bundle.model_dump_json())["dispute"]["dispute_id"] == "D1"


def test_an_undelivered_parcel_asks_for_the_carriers_statement() -> None:
    order = ok(
        decide(shipped(), DisputeOpened(event_id="d", at=U + 2 * H, dispute_id="D2"), U + 2 * H)
    )
    assert "carrier's statement about the tracking anomaly" in evidence_bundle(order).missing
