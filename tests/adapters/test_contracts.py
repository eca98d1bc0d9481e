"""Contract tests: the public samples of tests/contracts/ (sources in SOURCES.md) against our code.

Each response sample goes through our parser and the test asserts what a user would notice (the
parsed status, number, buyer, refund, error reason); each builder's request is checked against
the documented request (endpoint, field names, nesting, required fields). Where our code and a
sample disagree there is no test here: the disagreement is reported instead (see SOURCES.md).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.aliexpress import order_list as ae_orders
from adapters.aliexpress import requests as ae_build
from adapters.aliexpress import responses as ae_parse
from adapters.aliexpress.services import ServiceKeys
from adapters.easypost import requests as ep_build
from adapters.easypost import responses as ep_parse
from adapters.easypost.units import API_ROOT
from adapters.seventeentrack import requests as st_build
from adapters.seventeentrack import responses as st_parse
from adapters.seventeentrack.units import API_MAX_BATCH, BASE_URL, TOKEN_HEADER
from domain.claims import CarrierAnswer, FileClaim
from domain.disputes import Solution, SolutionKind
from domain.errors import PermanentPortError, PlatformRefused, RefusalReason, TransientPortError
from domain.money import Money
from domain.polling import batches
from domain.tracking import CarrierRecord

CONTRACTS = Path(__file__).parent.parent / "contracts"


def sample(service: str, name: str) -> Any:
    """One contract sample, parsed."""
    return json.loads((CONTRACTS / service / name).read_text(encoding="utf-8"))


def business_params(call: ae_build.ApiCall) -> dict[str, str]:
    """A call's parameters without our own idempotency key (not an AliExpress parameter)."""
    return {k: v for k, v in call.params.items() if k != ae_build.IDEMPOTENCY_PARAM}


# --- AliExpress (TOP documentation centre) --------------------------------------------------


def test_ship_sends_the_documented_parameters_of_sellershipmentfortop() -> None:
    documented = sample("aliexpress", "sellershipmentfortop_request.json")
    call = ae_build.ship("888877779999", "EMS", "LA88887777CN", "key-1")

    params = business_params(call)
    assert call.method == "aliexpress.logistics.sellershipmentfortop"
    assert {"logistics_no", "send_type", "out_ref", "service_name"} <= params.keys()
    assert params.keys() <= documented.keys()
    assert params["out_ref"] == documented["out_ref"]
    assert params["service_name"] == documented["service_name"]
    assert params["logistics_no"] == documented["logistics_no"]
    assert params["send_type"] in {"all", "part"}


def test_the_documented_shipment_answer_is_accepted() -> None:
    body = sample("aliexpress", "sellershipmentfortop_response.json")

    ae_parse.parse_write(ae_build.SHIP, body)  # raises on a refusal or a gateway error


def test_the_documented_logistics_service_listing_gives_each_service_key() -> None:
    body = sample("aliexpress", "listlogisticsservice_response.json")

    services = ae_parse.parse_logistics_services(body)

    assert [(s.service_name, s.display_name) for s in services] == [
        ("CPAM", "China Post Registered Air Mail")
    ]
    assert re.fullmatch(services[0].tracking_no_regex, "RR123456785CN")


def test_the_logistics_service_listing_is_called_without_business_parameters() -> None:
    call = ae_build.list_logistics_services()

    assert call.method == "aliexpress.logistics.redefining.listlogisticsservice"
    assert call.params == {}


def test_the_default_keys_of_china_post_and_ems_are_the_documented_ones() -> None:
    listed = sample("aliexpress", "listlogisticsservice_response.json")
    inner = listed["aliexpress_logistics_redefining_listlogisticsservice_response"]
    [cpam] = inner["result_list"]["aeop_logistics_service_result"]
    shipped = sample("aliexpress", "sellershipmentfortop_request.json")

    keys = ServiceKeys()

    assert keys.key_for("china_post", "RR123456785CN") == cpam["service_name"]
    assert keys.key_for("ems", "EE123456785CN") == shipped["service_name"]


def test_modify_shipment_sends_the_documented_parameters() -> None:
    documented = sample("aliexpress", "sellermodifiedshipmentfortop_request_qimen.json")
    documented.pop("id")  # the seller login id of the Qimen variant; TOP takes the session
    call = ae_build.modify_shipment(
        "60769040695804", ("EMS", "LA111166611CN"), ("EMS", "LA11111111CN"), "key-2"
    )

    params = business_params(call)
    required = {
        "new_logistics_no",
        "send_type",
        "out_ref",
        "old_service_name",
        "new_service_name",
        "old_logistics_no",
    }
    assert call.method == "aliexpress.logistics.sellermodifiedshipmentfortop"
    assert required <= params.keys() <= documented.keys()
    assert {k: params[k] for k in required} == {k: documented[k] for k in required}


def test_the_documented_gateway_error_is_a_refusal_naming_the_sub_code() -> None:
    body = sample("aliexpress", "error_response_invalid_parameter.json")

    with pytest.raises(PlatformRefused) as refused:
        ae_parse.payload(ae_build.ISSUE_DETAIL, body)

    assert refused.value.code == "isv.invalid-parameter"
    assert refused.value.message == "非法参数"
    assert refused.value.reason is RefusalReason.PLATFORM_REFUSED


def test_find_order_sends_param1_with_a_numeric_order_id() -> None:
    documented = sample("aliexpress", "findorderbyid_request.json")["param1"]
    call = ae_build.find_order("12345678")

    param1 = json.loads(call.params["param1"])
    assert call.method == "aliexpress.trade.new.redefining.findorderbyid"
    assert param1.keys() <= documented.keys()
    assert param1 == {"order_id": documented["order_id"]}


def test_the_documented_order_names_its_buyer() -> None:
    body = sample("aliexpress", "findorderbyid_response_excerpt.json")

    snapshot = ae_parse.parse_order(body)

    assert snapshot.buyer_login_id == "us100001"
    assert snapshot.shipments == ()


def test_the_order_list_sends_the_documented_query_with_its_required_paging() -> None:
    documented = sample("aliexpress", "solution_order_get_request.json")["param0"]
    call = ae_orders.order_list(["WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS"], page=3)

    param0 = json.loads(call.params["param0"])
    assert call.method == "aliexpress.solution.order.get"
    assert call.params.keys() == {"param0"}
    assert param0.keys() <= documented.keys()
    assert {"page_size", "current_page"} <= param0.keys()
    assert param0["current_page"] == 3
    assert param0["order_status_list"] == ["WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS"]
    assert isinstance(documented["order_status_list"], list)


def test_the_documented_order_list_gives_each_orders_store_total_payment_and_end() -> None:
    body = sample("aliexpress", "solution_order_get_response.json")

    page = ae_orders.parse_order_list(body)

    (order,) = page.orders
    assert (order.order_id, order.status) == ("1160045860056286", "PLACE_ORDER_SUCCESS")
    assert (order.seller_id, order.total) == ("cn1234", Money(minor=101, currency="USD"))
    assert order.paid_at == datetime(2017, 10, 12, 4, 12, 12, tzinfo=UTC)  # GMT+8 on the wire
    assert order.end_reason == "buyer_confirm_goods"
    assert order.estimated_delivery is None  # the list carries no ETA: read per order
    assert (page.page, page.pages) == (1, 1)


def test_issue_detail_sends_the_documented_parameters() -> None:
    documented = sample("aliexpress", "issue_detail_get_request.json")
    call = ae_build.issue_detail("1122339900", "tom")

    assert call.method == "aliexpress.issue.detail.get"
    assert call.params == {key: str(value) for key, value in documented.items()}


def test_the_documented_dispute_shows_the_buyer_and_the_buyers_refund() -> None:
    body = sample("aliexpress", "issue_detail_get_response_excerpt.json")

    snapshot = ae_parse.parse_dispute(body)

    assert snapshot.buyer_login_id == "tom"
    [solution] = snapshot.buyer_solutions
    assert solution.solution_id == "445566"
    assert solution.solution_type == "refund"
    assert solution.refund == Money(minor=101, currency="USD")
    assert solution.status == "wait_buyer_and_seller_accept"
    assert snapshot.seller_solutions == ()


@pytest.mark.parametrize(
    ("solution", "solution_type"),
    [
        (Solution(kind=SolutionKind.FULL_REFUND, refund=Money(minor=101)), "refund"),
        (Solution(kind=SolutionKind.PARTIAL_REFUND, refund=Money(minor=101)), "refund"),
    ],
)
def test_save_solution_sends_a_documented_param_dto(solution: Solution, solution_type: str) -> None:
    documented = sample("aliexpress", "issue_solution_save_request.json")["param_dto"]
    call = ae_build.save_solution("22222", "tomcs", "1111", solution, "key-3")

    dto = json.loads(business_params(call)["param_dto"])
    required = {
        "add_seller_solution",
        "buyer_login_id",
        "issue_id",
        "refund_amount",
        "refund_amount_currency",
        "solution_context",
    }
    assert call.method == "aliexpress.issue.solution.save"
    assert business_params(call).keys() == {"param_dto"}
    assert required <= dto.keys() <= documented.keys()
    assert dto["add_solution_type"] == solution_type
    assert dto["refund_amount"] == documented["refund_amount"]
    assert dto["refund_amount_currency"] == documented["refund_amount_currency"]
    assert dto["issue_id"] == documented["issue_id"]
    assert dto["buyer_solution_id"] == documented["buyer_solution_id"]
    assert dto["add_seller_solution"] is True


# --- 17TRACK v2.2 ---------------------------------------------------------------------------


def test_register_sends_the_documented_body_and_token_header() -> None:
    documented = sample("seventeentrack", "register_request.json")
    numbers = [("", item["number"]) for item in documented]

    request = st_build.build_register(numbers, "YourKey")

    assert f"{BASE_URL}/{request.path}" == "https://api.17track.net/track/v2.2/register"
    assert request.method == "POST"
    assert request.json == documented
    assert request.headers == {TOKEN_HEADER: "YourKey", "Content-Type": "application/json"}
    assert TOKEN_HEADER == "17token"


def test_a_named_carrier_is_sent_as_its_numeric_key_beside_the_number() -> None:
    request = st_build.build_gettrackinfo([("china_post", "RR123456789CN")], "YourKey")

    assert request.json == [{"number": "RR123456789CN", "carrier": 3011}]


def test_batches_stay_within_the_documented_40_numbers() -> None:
    numbers = [("", f"RR{n:09d}CN") for n in range(81)]

    sizes = [len(batch) for batch in batches(numbers, API_MAX_BATCH)]

    assert API_MAX_BATCH == 40
    assert sizes == [40, 40, 1]


def test_the_documented_empty_envelope_is_no_rejection_and_an_unknown_number() -> None:
    body = sample("seventeentrack", "envelope_empty.json")

    data = st_parse.parse_envelope(200, body)

    assert data == {"accepted": [], "rejected": []}
    assert st_parse.parse_rejections(data) == []
    assert st_parse.parse_track_info(data, [("china_post", "RR123456789CN")]) == [
        CarrierRecord(carrier="china_post", tracking_number="RR123456789CN", known=False)
    ]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (429, None),  # "Access frequency exceeds limit."
        (500, None),
        (503, None),
        (200, {"code": -18010003, "data": {}}),  # "Internal service error. Please try again later."
    ],
)
def test_documented_throttling_and_outages_are_retried(status: int, body: Any) -> None:
    with pytest.raises(TransientPortError):
        st_parse.parse_envelope(status, body)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, None),
        (200, {"code": -18010001, "data": {}}),  # IP not in the whitelist
        (200, {"code": -18010002, "data": {}}),  # invalid security key
        (200, {"code": -18010004, "data": {}}),  # account disabled
        (200, {"code": -18010005, "data": {}}),  # unauthorized access
    ],
)
def test_documented_credential_failures_are_permanent(status: int, body: Any) -> None:
    with pytest.raises(PermanentPortError, match="credentials"):
        st_parse.parse_envelope(status, body)


# --- EasyPost claims ------------------------------------------------------------------------

PROOF_PNG = "data:image/png;base64,iVBORw0KGgo="


def loss_claim(number: str, proof: str = PROOF_PNG) -> FileClaim:
    return FileClaim(
        idempotency_key=f"claim-usps-{number}:file",
        carrier="usps",
        tracking_number=number,
        proof=proof,
        declared_value=Money(minor=100_00),
    )


def test_create_posts_a_flat_claim_body_with_the_documented_fields() -> None:
    documented = sample("easypost", "claim_create_request.json")
    request = ep_build.build_create(loss_claim("9405500208303109888319"), "test@example.com")

    assert request.method == "POST"
    assert f"{API_ROOT}{request.path}" == "https://api.easypost.com/v2/claims"
    body = request.json or {}
    assert {"tracking_code", "type", "amount", "description", "contact_email"} <= body.keys()
    # ``reference`` is ours and undocumented for claims: reported as a disagreement.
    assert body.keys() - {"reference"} <= documented.keys()
    assert body["amount"] == documented["amount"]
    assert body["contact_email"] == documented["contact_email"]
    assert body["tracking_code"] == "9405500208303109888319"
    assert body["type"] in {"damage", "loss", "theft"}
    assert all(isinstance(a, str) for a in body["supporting_documentation_attachments"])


@pytest.mark.parametrize("name", ["claim_create_response.json", "claim_retrieve_response.json"])
def test_a_documented_new_claim_reads_as_submitted_and_pending(name: str) -> None:
    body = sample("easypost", name)

    record = ep_parse.parse_claim(body)

    assert record.claim_id == body["id"]
    assert record.claim_id.startswith("clm_")
    assert record.tracking_code == body["tracking_code"]
    assert record.status == "submitted"
    assert record.status_detail == "Claim was created."
    assert record.requested == Money(minor=100_00)
    assert record.approved is None
    assert record.active
    assert ep_parse.carrier_answer(record) == CarrierAnswer(
        status="pending", reason="Claim was created."
    )


def test_retrieve_gets_the_documented_claim_path() -> None:
    documented = sample("easypost", "claim_retrieve_request.json")
    request = ep_build.build_retrieve("clm_09d891bf4d9045b48cb64e0319338f1c")

    template = urlsplit(documented["url"]).path.removesuffix("clm_...")
    assert request.method == documented["method"]
    assert f"{API_ROOT}{request.path}".startswith(f"{API_ROOT}{template}")
    assert request.path == "/v2/claims/clm_09d891bf4d9045b48cb64e0319338f1c"


def test_list_gets_the_documented_path_with_a_page_size() -> None:
    documented = sample("easypost", "claim_list_request.json")
    request = ep_build.build_list(datetime(2025, 5, 12, tzinfo=UTC))

    url = urlsplit(documented["url"])
    assert request.method == documented["method"]
    assert request.path == url.path
    assert parse_qs(url.query).keys() <= (request.params or {}).keys()
    assert int((request.params or {})["page_size"]) > 0


def test_the_documented_claim_page_has_one_claim_and_more_to_follow() -> None:
    body = sample("easypost", "claim_list_response.json")

    claims, has_more = ep_parse.parse_claim_page(body)

    assert [c.claim_id for c in claims] == ["clm_09d891bf4d9045b48cb64e0319338f1c"]
    assert claims[0].tracking_code == "9405500208303109888326"
    assert has_more is True


def test_a_documented_cancelled_claim_is_rejected_with_easyposts_reason() -> None:
    record = ep_parse.parse_claim(sample("easypost", "claim_cancel_response.json"))

    assert record.status == "cancelled"
    assert not record.active
    assert ep_parse.carrier_answer(record) == CarrierAnswer(
        status="rejected", reason="Claim cancellation was requested."
    )


def test_the_claims_error_format_names_the_reason() -> None:
    error = ep_parse.parse_error(404, sample("easypost", "error_claim_not_found.json"))

    assert error.code == "NOT_FOUND"
    assert error.message == "The requested resource could not be found."
    assert error.details == ("No eligible insurance found with provided tracking code.",)
    failure = error.port_error("filing")
    assert isinstance(failure, PermanentPortError)
    assert not isinstance(failure, TransientPortError)
    assert "No eligible insurance found" in str(failure)


def test_the_field_error_format_names_the_field() -> None:
    error = ep_parse.parse_error(422, sample("easypost", "error_parameter_required.json"))

    assert error.code == "PARAMETER.REQUIRED"
    assert error.details == ("shipment: cannot be blank",)
    assert isinstance(error.port_error("filing"), PermanentPortError)
