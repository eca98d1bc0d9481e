"""The evidence bundle (R15) gathers what the order knows and names what is missing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.seventeentrack.statuses import read_scan
from domain.claims import (
    CarrierAnswer,
    Claim,
    ClaimFacts,
    ClaimState,
    FiledByApi,
    FilingRoute,
    StatusReported,
    open_claim,
)
from domain.claims import decide as decide_claim
from domain.disputes import Solution, SolutionKind
from domain.events import (
    CarrierScanned,
    DisputeOpened,
    ParcelDelivered,
    ProofOfDelivery,
    ProposeSolution,
    RespondToDispute,
    UploadTracking,
)
from domain.evidence import (
    MissingLink,
    evidence_bundle,
    loss_proof,
    missing_loss_proof,
)
from domain.lifecycle import decide
from domain.money import Money
from domain.order import Order, replacement_order_id
from domain.polling import new_facts
from domain.tracking import CarrierRecord
from tests.unit.builders import NUMBER, U, ok, shipped

H, DAY = timedelta(hours=1), timedelta(days=1)
PU, LOST, D = U + 3 * H, U + 10 * DAY, U + 20 * DAY
"""Picked up, reported lost, disputed (D6)."""
UG = "UG123456789YW"
RESHIP = Solution(kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=UG)


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


@pytest.mark.parametrize(("incident", "lost"), [("lost", True), ("delayed", False), ("", False)])
def test_a_loss_is_read_from_the_incident_the_carriers_table_gave_the_scan(
    incident: str, lost: bool
) -> None:
    """The domain reads what the scan means, never the carrier's code (its adapter's table did,
    tests/adapters/test_*_statuses.py): any carrier's loss is a loss."""
    scan = CarrierScanned(
        event_id="x", at=LOST, status="exception", code="Exception_013", incident=incident
    )
    assert (loss_proof(ok(decide(shipped(), scan, LOST))) is not None) is lost


def lost_in_transit() -> Order:
    """S1's parcel picked up, then reported lost by the carrier: 17TRACK ``Exception_Lost``, read
    by its adapter and made a fact by the one conversion, as a push or a poll delivers it."""
    order = ok(decide(shipped(), CarrierScanned(event_id="pu", at=PU, status="in_transit"), PU))
    scans = (read_scan(event_id="lost", at=LOST, code="Exception_Lost"),)
    record = CarrierRecord(carrier="china_post", tracking_number=NUMBER, known=True, events=scans)
    (scan,) = new_facts(record, ())
    return ok(decide(order, scan, LOST))


def test_the_loss_proof_names_the_carrier_statement_by_code_time_and_number() -> None:
    proof = loss_proof(lost_in_transit())
    assert proof is not None
    assert (proof.carrier, proof.tracking_number, proof.code, proof.at) == (
        "china_post",
        NUMBER,
        "Exception_Lost",
        LOST,
    )
    assert proof.reference == (
        f"carrier statement: china_post {NUMBER} reported Exception_Lost"
        f" at {LOST.isoformat()} (scan lost)"
    )
    assert loss_proof(shipped()) is None
    assert NUMBER in missing_loss_proof(NUMBER)


def test_a_loss_reported_for_a_number_the_order_no_longer_carries_is_not_its_parcels_proof() -> (
    None
):
    """A withdrawn number's late "lost" scan goes on the timeline; it proves nothing about the
    parcel the order ships now (a claim on that would be filed with another parcel's proof)."""
    stray = CarrierScanned(
        event_id="old-lost",
        at=LOST,
        status="exception",
        code="Exception_Lost",
        incident="lost",
        tracking_number="RR000000000CN",
    )
    order = ok(decide(shipped(), stray, LOST))
    assert [e.event_id for e in order.timeline if e.kind == "scan"] == ["old-lost"]
    assert loss_proof(order) is None
    assert "carrier's statement about the tracking anomaly" in evidence_bundle(order).missing


def reshipped() -> Order:
    """D6: the lost parcel's dispute answered, then solved by a Yanwen reship."""
    order = ok(decide(lost_in_transit(), DisputeOpened(event_id="d", at=D, dispute_id="D6"), D))
    order = ok(decide(order, RespondToDispute(message="The carrier lost it."), D + H))
    return ok(decide(order, ProposeSolution(solution=RESHIP), D + 2 * H))


def replacement(original: Order) -> Order:
    """The reship's own order: shipped offline, scanned, delivered with a signature."""
    facts = original.facts.model_copy(
        update={
            "order_id": replacement_order_id(original.facts.order_id, 1),
            "reship_of": original.facts.workflow_id,
            "paid_at": D + 2 * H,
            "eta": None,
        }
    )
    order = Order.new(facts)
    order = ok(decide(order, UploadTracking(carrier="yanwen", tracking_number=UG), D + 2 * H))
    scan = CarrierScanned(event_id="r-pu", at=D + 5 * H, status="in_transit", code="PU")
    order = ok(decide(order, scan, D + 5 * H))
    proof = ProofOfDelivery(signer="Li Wei")
    delivered = ParcelDelivered(
        event_id="r-dl", at=D + 200 * H, code="Delivered_Other", proof=proof
    )
    return ok(decide(order, delivered, D + 200 * H))


def paid_claim(proof: str) -> Claim:
    """The claim on the lost parcel, filed by API and paid in full."""
    facts = ClaimFacts(
        order_workflow_id="order-aliexpress-42",
        carrier="china_post",
        tracking_number=NUMBER,
        proof=proof,
        declared_value=Money(minor=20_00),
        loss_confirmed_at=LOST,
    )
    claim = open_claim(facts, f"claim-china_post-{NUMBER}", D + 2 * H).claim
    claim = decide_claim(claim, FilingRoute(by_api=True), D + 2 * H).claim
    claim = decide_claim(claim, FiledByApi(claim_ref="CP-9"), D + 2 * H).claim
    answer = CarrierAnswer(status="paid", amount=Money(minor=20_00))
    return decide_claim(claim, StatusReported(answer=answer), D + 5 * DAY).claim


def test_d7_the_bundle_spans_the_loss_proof_the_messages_both_parcels_and_the_paid_claim() -> None:
    order = reshipped()
    proof = loss_proof(order)
    assert proof is not None
    bundle = evidence_bundle(order, [replacement(order)], [paid_claim(proof.reference)])
    assert bundle.loss_proof == proof
    assert [(m.kind, m.at) for m in bundle.messages_sent] == [
        ("response", D + H),
        ("solution", D + 2 * H),
        ("buyer_message", D + 2 * H),
    ]
    assert UG in bundle.messages_sent[2].text
    assert [(e.event_id, e.code) for e in bundle.tracking_history] == [
        ("pu", ""),
        ("lost", "Exception_Lost"),
    ]
    assert [s.tracking_number for s in bundle.shipments] == [NUMBER]  # the original is kept
    (again,) = bundle.replacements
    assert again.shipment is not None
    assert (again.shipment.carrier, again.shipment.tracking_number) == ("yanwen", UG)
    assert [(e.event_id, e.code) for e in again.tracking_history] == [
        ("r-pu", "PU"),
        ("r-dl", "Delivered_Other"),
    ]
    assert again.delivered_at == D + 200 * H
    (claim,) = bundle.claims
    assert (claim.carrier, claim.tracking_number, claim.claim_ref) == ("china_post", NUMBER, "CP-9")
    assert (claim.state, claim.paid_amount, claim.declared_value) == (
        ClaimState.PAID,
        Money(minor=20_00),
        Money(minor=20_00),
    )
    assert claim.proof == proof.reference
    assert "carrier's statement about the tracking anomaly" not in bundle.missing
    document = json.loads(bundle.model_dump_json())
    assert document["loss_proof"]["reference"] == proof.reference
    assert document["claims"][0]["outcome"] == "paid 20.00 USD"


def test_the_order_remembers_the_parcels_it_reshipped_and_claimed() -> None:
    order = reshipped()
    assert [(s.carrier, s.tracking_number) for s in order.reships] == [("yanwen", UG)]
    assert [(s.carrier, s.tracking_number) for s in order.claimed] == [("china_post", NUMBER)]


def test_a_linked_workflow_that_cannot_be_read_is_named_missing_not_fatal() -> None:
    gone = MissingLink(workflow_id="claim-china_post-X", reason="not readable: not found")
    bundle = evidence_bundle(reshipped(), unreadable=[gone])
    assert bundle.replacements == []
    assert bundle.claims == []
    assert "claim-china_post-X: not readable: not found" in bundle.missing
