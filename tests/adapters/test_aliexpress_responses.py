"""The pure response parsers on recorded payloads, and the error mapping table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.aliexpress import responses as parse
from domain.errors import (
    PermanentPortError,
    PlatformRefused,
    RefusalReason,
    TransientPortError,
)
from domain.money import Money

PAYLOADS = Path(__file__).parent / "payloads" / "aliexpress"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def test_an_order_read_gives_status_buyer_declared_numbers_and_dates_in_utc() -> None:
    snapshot = parse.parse_order(payload("findorderbyid_shipped.json"))
    assert snapshot.order.order_id == "8194715118461470"
    assert snapshot.order.status == "WAIT_BUYER_ACCEPT_GOODS"
    assert snapshot.buyer_login_id == "mx170775425vyrae"
    assert [(s.carrier, s.tracking_number) for s in snapshot.shipments] == [
        ("CPAM", "RR123456785CN")
    ]
    assert snapshot.shipments[0].sent_at == datetime(2024, 10, 21, 10, 0, tzinfo=UTC)
    assert snapshot.order.estimated_delivery == datetime(2024, 11, 5, 15, 59, 59, tzinfo=UTC)
    assert snapshot.order.status_deadline == datetime(2024, 11, 20, 15, 59, 59, tzinfo=UTC)


def test_an_order_awaiting_shipment_has_no_numbers_and_takes_the_buyer_from_buyer_info() -> None:
    snapshot = parse.parse_order(payload("findorderbyid_awaiting.json"))
    assert snapshot.shipments == ()
    assert snapshot.buyer_login_id == "mx170775425vyrae"
    assert snapshot.order.estimated_delivery is None


def test_a_dispute_read_gives_deadlines_and_both_sides_solutions() -> None:
    snapshot = parse.parse_dispute(payload("issue_detail_processing.json"))
    dispute = snapshot.dispute
    assert (dispute.dispute_id, dispute.order_id) == ("6345753109519425", "8194715118461470")
    assert (dispute.reason, dispute.status) == ("not_received", "processing")
    assert dispute.opened_at == datetime(2024, 10, 27, 20, 23, 19, tzinfo=UTC)
    assert dispute.response_deadline == datetime(2024, 10, 28, 20, 23, 19, tzinfo=UTC)
    assert dispute.solution_deadline == datetime(2024, 10, 29, 20, 23, 19, tzinfo=UTC)
    assert snapshot.buyer_solutions[0].refund == Money(minor=6665)
    assert snapshot.buyer_solutions[0].status == "wait_seller_accept"
    assert snapshot.seller_solutions[0].refund == Money(minor=2050)


def test_a_dispute_list_pairs_each_dispute_with_its_buyer() -> None:
    found = parse.parse_dispute_list(payload("issue_list.json"))
    assert [(d.dispute_id, d.reason, buyer) for d, buyer in found] == [
        ("6345753109519425", "Package not received", "mx170775425vyrae"),
        ("6345753109519426", "货不对版", "br99"),
    ]


def test_a_conversation_read_lists_messages_with_their_text() -> None:
    messages = parse.parse_messages(payload("querymsgdetaillist.json"))
    assert [m.content for m in messages] == ["Your new tracking number is LX123456785CN"]


def test_an_accepted_write_parses_silently() -> None:
    parse.parse_write(
        "aliexpress.logistics.sellershipmentfortop", payload("sellershipmentfortop_ok.json")
    )
    parse.parse_write("aliexpress.issue.solution.save", payload("solution_save_ok.json"))


def test_a_business_failure_inside_a_write_is_a_platform_refusal_with_its_code() -> None:
    with pytest.raises(PlatformRefused) as caught:
        parse.parse_write(
            "aliexpress.logistics.sellershipmentfortop",
            payload("sellershipmentfortop_refused.json"),
        )
    assert caught.value.code == "LOGISTICS_NO_DUPLICATE"
    assert "order 1001" in caught.value.message
    assert parse.refusal_reason(caught.value.code) is RefusalReason.DUPLICATE


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("error_signature.json", PermanentPortError),
        ("error_gop_token.json", PermanentPortError),
        ("error_call_limit.json", TransientPortError),
        ("error_isp_subcode.json", TransientPortError),
        ("error_isv_subcode.json", PlatformRefused),
    ],
)
def test_gateway_errors_map_to_permanent_transient_or_refused(
    name: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse.payload("aliexpress.issue.detail.get", payload(name))


def test_bad_credentials_are_permanent_but_never_a_business_refusal() -> None:
    with pytest.raises(PermanentPortError) as caught:
        parse.payload("aliexpress.issue.detail.get", payload("error_signature.json"))
    assert not isinstance(caught.value, PlatformRefused)


def test_an_isv_sub_code_names_the_refusal_and_its_message() -> None:
    with pytest.raises(PlatformRefused) as caught:
        parse.payload("aliexpress.issue.detail.get", payload("error_isv_subcode.json"))
    assert (caught.value.code, caught.value.message) == (
        "isv.invalid-parameter",
        "issue_id is invalid",
    )


def test_a_body_without_the_method_response_is_transient() -> None:
    with pytest.raises(TransientPortError):
        parse.payload("aliexpress.issue.detail.get", {"something_else": {}})


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("WITHDRAW_WINDOW_CLOSED", RefusalReason.WINDOW_CLOSED),
        ("WITHDRAW_CARRIER_SCANNED", RefusalReason.CARRIER_SCANNED),
        ("WITHDRAW_DISPUTE_OPEN", RefusalReason.DISPUTE_OPEN),
        ("WITHDRAW_ETA_TOO_CLOSE", RefusalReason.ETA_TOO_CLOSE),
        ("REFUND_AMOUNT_INVALID", RefusalReason.INVALID_AMOUNT),
        ("isv.something-new", RefusalReason.PLATFORM_REFUSED),
    ],
)
def test_platform_codes_name_our_refusal_reasons(code: str, reason: RefusalReason) -> None:
    assert parse.refusal_reason(code) is reason


@pytest.mark.parametrize(
    ("text", "minor"), [("66.65", 6665), ("20.5", 2050), ("7", 700), ("0.05", 5)]
)
def test_amounts_become_minor_units_without_floats(text: str, minor: int) -> None:
    assert parse.money(text, "USD") == Money(minor=minor)


UPLOAD = "aliexpress_issue_image_upload_response"


def test_the_documented_image_upload_answer_is_a_bare_success_flag_without_a_url() -> None:
    assert parse.parse_image_upload({UPLOAD: {"result_object": True, "request_id": "r"}}) is None


@pytest.mark.parametrize(
    "result",
    [
        "https://ae01.alicdn.com/kf/evidence.png",
        {"file_path": "https://ae01.alicdn.com/kf/evidence.png"},
        {"image_url": "https://ae01.alicdn.com/kf/evidence.png"},
    ],
)
def test_an_image_upload_answer_that_names_the_image_gives_its_url(result: object) -> None:
    body = {UPLOAD: {"result_object": result}}
    assert parse.parse_image_upload(body) == "https://ae01.alicdn.com/kf/evidence.png"


def test_a_refused_image_upload_is_a_platform_refusal_with_its_code() -> None:
    with pytest.raises(PlatformRefused) as caught:
        parse.parse_image_upload({UPLOAD: {"result_object": False}})
    assert caught.value.code == "REFUSED"
    error = {"error_response": {"code": "15", "sub_code": "isv.IMAGE_TOO_LARGE", "sub_msg": "big"}}
    with pytest.raises(PlatformRefused, match="big"):
        parse.parse_image_upload(error)


def test_a_dispute_read_lists_the_images_each_side_attached_to_its_process_records() -> None:
    body = payload("issue_detail_processing.json")
    result = body["aliexpress_issue_detail_get_response"]["result_object"]
    result["process_dto_list"] = {
        "api_issue_process_dto": [
            {"action_type": "initiate", "submit_member_type": "buyer"},
            {
                "action_type": "seller_create_solution",
                "attachments": {
                    "api_attachment_dto": [
                        {
                            "file_path": "https://ae01.alicdn.com/kf/a.png",
                            "owner": "seller",
                            "gmt_create": "2024-10-28 10:00:00",
                        },
                        {"file_path": "https://ae01.alicdn.com/kf/b.jpg", "owner": "buyer"},
                    ]
                },
            },
        ]
    }
    snapshot = parse.parse_dispute(body)
    assert snapshot.evidence_of("seller") == ("https://ae01.alicdn.com/kf/a.png",)
    assert snapshot.evidence_of("buyer") == ("https://ae01.alicdn.com/kf/b.jpg",)
    assert snapshot.attachments[0].attached_at == datetime(2024, 10, 28, 2, 0, tzinfo=UTC)
