"""The pure parsers on EasyPost's own recorded shapes (easypost-python test cassettes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.easypost import requests as build
from adapters.easypost import responses as parse
from domain.claims import CarrierAnswer, FileClaim
from domain.errors import PermanentPortError, TransientPortError
from domain.money import Money

# A cancelled claim as EasyPost answered it (trimmed): history newest first.
CANCELLED = {
    "approved_amount": None,
    "history": [
        {
            "status": "cancelled",
            "status_detail": "Claim cancellation was requested.",
            "timestamp": "2025-03-06T19:48:04Z",
        },
        {
            "status": "submitted",
            "status_detail": "Claim was created.",
            "timestamp": "2025-03-06T19:48:03Z",
        },
    ],
    "id": "clm_09cea7c6461a4182a7e05bed24b83717",
    "insurance_amount": "100.00",
    "object": "Claim",
    "recipient_name": None,
    "requested_amount": "100.00",
    "status": "cancelled",
    "status_detail": None,
    "tracking_code": "9400100208303109500683",
    "type": "damage",
}


def test_a_rejection_without_status_detail_takes_the_reason_from_the_history() -> None:
    record = parse.parse_claim(CANCELLED)

    assert (record.claim_id, record.requested, record.active) == (
        "clm_09cea7c6461a4182a7e05bed24b83717",
        Money(minor=100_00),
        False,
    )
    assert parse.carrier_answer(record) == CarrierAnswer(
        status="rejected", reason="Claim cancellation was requested."
    )


def test_an_approval_without_an_amount_pays_what_was_asked_a_partial_one_waits() -> None:
    approved = parse.parse_claim({**CANCELLED, "status": "approved", "status_detail": "ok"})
    partial = parse.parse_claim({**CANCELLED, "status": "approved_partial"})

    assert parse.carrier_answer(approved).amount == Money(minor=100_00)
    assert parse.carrier_answer(partial).status == "pending"


def test_an_unknown_status_stays_pending_and_says_so() -> None:
    answer = parse.carrier_answer(parse.parse_claim({**CANCELLED, "status": "escalated"}))

    assert answer == CarrierAnswer(status="pending", reason="unknown EasyPost status 'escalated'")


@pytest.mark.parametrize("amount", ["abc", "-1.00", "1.005", "NaN"])
def test_an_amount_parcelflow_cannot_hold_is_refused(amount: str) -> None:
    with pytest.raises(PermanentPortError, match="amount"):
        parse.parse_money(amount)


def test_errors_read_field_objects_and_plain_strings() -> None:
    fields = parse.parse_error(
        422,
        {
            "error": {
                "code": "PARAMETER.REQUIRED",
                "message": "Missing required parameter.",
                "errors": [{"field": "shipment", "message": "cannot be blank"}],
            }
        },
    )
    strings = parse.parse_error(
        404,
        {
            "error": {
                "code": "NOT_FOUND",
                "errors": ["No eligible insurance found with provided tracking code."],
                "message": "The requested resource could not be found.",
            }
        },
    )

    assert str(fields.port_error("filing")).endswith("(shipment: cannot be blank)")
    assert "No eligible insurance" in str(strings.port_error("filing"))


def test_throttling_and_outages_are_transient_refusals_permanent() -> None:
    assert isinstance(parse.parse_error(429, None, "3").port_error("x"), TransientPortError)
    assert isinstance(parse.parse_error(502, "<html>").port_error("x"), TransientPortError)
    assert not isinstance(parse.parse_error(422, {}).port_error("x"), TransientPortError)


def test_the_filing_is_a_loss_claim_without_recipient_name() -> None:
    claim = FileClaim(
        idempotency_key="claim-yanwen-UG1CN:file",
        carrier="yanwen",
        tracking_number="UG1CN",
        proof="doc://proof",
        declared_value=Money(minor=12_05),
    )

    body = build.build_create(claim, "claims@seller.example").json

    assert body is not None
    assert (body["type"], body["amount"], body["reference"]) == (
        "loss",
        "12.05",
        "claim-yanwen-UG1CN:file",
    )
    assert "recipient_name" not in body
    assert "Yanwen" in body["description"]


def test_the_list_asks_for_claims_since_a_moment_in_utc() -> None:
    request = build.build_list(datetime(2025, 3, 6, 19, 48, 3, 500, tzinfo=UTC), "clm_9")

    assert request.params == {
        "page_size": "100",
        "start_datetime": "2025-03-06T19:48:03Z",
        "before_id": "clm_9",
    }
