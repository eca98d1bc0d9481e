"""The pure request builders: method names, business parameters, the idempotency parameter."""

from __future__ import annotations

import json

import pytest

from adapters.aliexpress import requests as build
from adapters.aliexpress.signing import verify
from domain.disputes import Solution, SolutionKind
from domain.errors import InvalidInput
from domain.evidence_files import Evidence, EvidenceKind
from domain.money import Money


def test_a_shipment_declares_the_whole_order_with_carrier_number_and_key() -> None:
    call = build.ship("1001", "CPAM", "RR123456785CN", "wf-1:upload")
    assert call.method == "aliexpress.logistics.sellershipmentfortop"
    assert call.params == {
        "out_ref": "1001",
        "service_name": "CPAM",
        "logistics_no": "RR123456785CN",
        "send_type": "all",
        "parcelflow_idempotency_key": "wf-1:upload",
    }


def test_a_modification_names_the_old_and_the_new_declaration() -> None:
    call = build.modify_shipment("1001", ("CPAM", "RR1"), ("YANWEN_JYT", "UG2"), "k")
    assert call.method == "aliexpress.logistics.sellermodifiedshipmentfortop"
    assert call.params["old_logistics_no"] == "RR1"
    assert call.params["new_service_name"] == "YANWEN_JYT"
    assert call.params["new_logistics_no"] == "UG2"


def test_an_order_read_sends_a_numeric_order_id_inside_param1() -> None:
    call = build.find_order("8194715118461470")
    assert call.method == "aliexpress.trade.new.redefining.findorderbyid"
    assert json.loads(call.params["param1"]) == {"order_id": 8194715118461470}


def test_the_signed_form_carries_the_system_parameters_and_a_valid_sign() -> None:
    call = build.find_order("1001")
    form = build.signed_form(
        call, app_key="k1", app_secret="s1", session="tok", timestamp_ms=1700000000123
    )
    assert form["app_key"] == "k1"
    assert form["method"] == call.method
    assert form["timestamp"] == "1700000000123"
    assert form["sign_method"] == "sha256"
    assert form["session"] == "tok"
    assert verify("s1", call.method, form)


@pytest.mark.parametrize(
    ("solution", "kind", "amount"),
    [
        (Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=750)), "refund", "7.50"),
        (Solution(kind=SolutionKind.FULL_REFUND, refund=Money(minor=2500)), "refund", "25.00"),
        (
            Solution(kind=SolutionKind.RETURN_AND_REFUND, refund=Money(minor=1205)),
            "return_and_refund",
            "12.05",
        ),
        (Solution(kind=SolutionKind.RESHIP, reship_carrier="YANWEN_JYT"), "resend", "0.00"),
    ],
)
def test_a_solution_becomes_a_seller_counter_proposal_with_its_type_and_amount(
    solution: Solution, kind: str, amount: str
) -> None:
    call = build.save_solution("6345", "buyer-1", "6010", solution, "wf-1:solution")
    dto = json.loads(call.params["param_dto"])
    assert call.method == "aliexpress.issue.solution.save"
    assert dto["add_solution_type"] == kind
    assert dto["refund_amount"] == amount
    assert dto["add_seller_solution"] is True
    assert dto["buyer_solution_id"] == 6010
    assert call.params["parcelflow_idempotency_key"] == "wf-1:solution"


def test_a_reship_names_its_carrier_in_the_solution_text() -> None:
    solution = Solution(kind=SolutionKind.RESHIP, reship_carrier="YANWEN_JYT", note="Sorry!")
    dto = json.loads(build.save_solution("1", "b", None, solution, "k").params["param_dto"])
    assert dto["solution_context"] == "Reship via YANWEN_JYT. Sorry!"
    assert "buyer_solution_id" not in dto


def test_a_partial_refund_without_an_amount_is_refused_before_any_call() -> None:
    with pytest.raises(InvalidInput) as caught:
        build.save_solution("1", "b", None, Solution(kind=SolutionKind.PARTIAL_REFUND), "k")
    assert caught.value.field == "refund"


def test_a_buyer_message_goes_to_the_order_conversation() -> None:
    call = build.add_message("1001", "buyer-1", "New number: LX123456785CN", "wf-1:msg")
    create = json.loads(call.params["create_param"])
    assert call.method == "aliexpress.message.redefining.versiontwo.addmsg"
    assert create == {
        "channel_id": 1001,
        "buyer_id": "buyer-1",
        "content": "New number: LX123456785CN",
        "msg_sources": "order_msg",
        "extern_id": 1001,
    }


def _image(filename: str = "label.png", content_type: str = "image/png") -> Evidence:
    return Evidence(
        kind=EvidenceKind.SHIPPING_LABEL,
        filename=filename,
        content_type=content_type,
        data=b"\x89PNG-label",
    )


def test_an_evidence_image_is_a_file_part_beside_the_dispute_buyer_and_extension() -> None:
    call = build.issue_image_upload("9001", "buyer-1", _image(), "wf:evidence")
    assert call.method == "aliexpress.issue.image.upload"
    assert call.params == {
        "issue_id": "9001",
        "buyer_login_id": "buyer-1",
        "extension": "png",
        "parcelflow_idempotency_key": "wf:evidence",
    }
    assert call.files == {"image_bytes": build.FilePart("label.png", "image/png", b"\x89PNG-label")}


def test_the_signature_covers_the_parameters_but_never_the_image() -> None:
    call = build.issue_image_upload("9001", "buyer-1", _image(), "wf:evidence")
    form = build.signed_form(
        call, app_key="key", app_secret="secret", session="tok", timestamp_ms=1_700_000_000_000
    )
    assert "image_bytes" not in form
    assert verify("secret", call.method, form)
    assert not verify("secret", call.method, {**form, "extension": "gif"})


def test_an_evidence_without_a_suffix_takes_its_extension_from_the_media_type() -> None:
    call = build.issue_image_upload("9001", "b", _image("label", "image/jpeg"), "k")
    assert call.params["extension"] == "jpg"


def test_a_file_that_is_not_an_image_cannot_be_built_into_an_image_upload() -> None:
    with pytest.raises(InvalidInput, match="not an image"):
        build.issue_image_upload("9001", "b", _image("statement.pdf", "application/pdf"), "k")
