"""Pure request builders for the AliExpress Open Platform (IOP gateway, TOP-style method names).

Every builder returns an ``ApiCall``; ``signed_form`` adds the system parameters and the
signature. Calls go as ``POST {base_url}/sync`` with a form body, as the IOP SDKs send them; a
call with ``files`` goes as ``multipart/form-data`` and its file parts are not signed.

Idempotency: the platform's writes are not idempotent and it has no idempotency header. Each
write carries our key in the extra parameter ``parcelflow_idempotency_key`` (signed like any
other parameter; the gateway ignores parameters an API does not declare). The simulator records
it in its ledger; the client never relies on the platform honouring it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from adapters.aliexpress.signing import SIGN_METHOD, sign
from domain.disputes import Solution, SolutionKind
from domain.errors import InvalidInput
from domain.evidence_files import Evidence
from domain.money import Money

GATEWAY_PATH = "/sync"
IDEMPOTENCY_PARAM = "parcelflow_idempotency_key"

SHIP = "aliexpress.logistics.sellershipmentfortop"
MODIFY_SHIPMENT = "aliexpress.logistics.sellermodifiedshipmentfortop"
LIST_LOGISTICS_SERVICES = "aliexpress.logistics.redefining.listlogisticsservice"
# No public AliExpress API withdraws a tracking number: this name is the simulator's own and
# is only called when the client is built with ``supports_withdrawal=True``.
WITHDRAW_SHIPMENT = "sim.logistics.withdrawshipment"
FIND_ORDER = "aliexpress.trade.new.redefining.findorderbyid"
ISSUE_LIST = "aliexpress.issue.issuelist.get"
ISSUE_DETAIL = "aliexpress.issue.detail.get"
SAVE_SOLUTION = "aliexpress.issue.solution.save"
AGREE_SOLUTION = "aliexpress.issue.solution.agree"
ADD_MESSAGE = "aliexpress.message.redefining.versiontwo.addmsg"
LIST_MESSAGES = "aliexpress.message.redefining.versiontwo.querymsgdetaillist"
ISSUE_IMAGE_UPLOAD = "aliexpress.issue.image.upload"
IMAGE_PART = "image_bytes"
"""The file part of ``aliexpress.issue.image.upload`` (the SDKs' ``getMultipartParas``)."""


@dataclass(frozen=True)
class FilePart:
    """One file of a multipart call: sent as a part, never part of the signature."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ApiCall:
    """One API call before signing: the method name, its business parameters and files."""

    method: str
    params: dict[str, str] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)


def signed_form(
    call: ApiCall, *, app_key: str, app_secret: str, session: str, timestamp_ms: int
) -> dict[str, str]:
    """The complete form body: system parameters, business parameters and ``sign``."""
    form = {
        "app_key": app_key,
        "method": call.method,
        "timestamp": str(timestamp_ms),
        "sign_method": SIGN_METHOD,
        # The IOP Python SDK names the access token ``session`` (its Java twin: access_token).
        "session": session,
        "format": "json",
        "simplify": "false",
        **call.params,
    }
    form["sign"] = sign(app_secret, call.method, form)
    return form


def _with_key(params: dict[str, str], idempotency_key: str) -> dict[str, str]:
    return {**params, IDEMPOTENCY_PARAM: idempotency_key}


def ship(order_id: str, carrier: str, tracking_number: str, idempotency_key: str) -> ApiCall:
    """Declare the whole order shipped with ``carrier`` (a logistics service key) and number."""
    params = {
        "out_ref": order_id,
        "service_name": carrier,
        "logistics_no": tracking_number,
        "send_type": "all",
    }
    return ApiCall(SHIP, _with_key(params, idempotency_key))


def modify_shipment(
    order_id: str,
    old: tuple[str, str],
    new: tuple[str, str],
    idempotency_key: str,
) -> ApiCall:
    """Replace the declared (carrier, number) ``old`` with ``new`` on the order."""
    params = {
        "out_ref": order_id,
        "old_service_name": old[0],
        "old_logistics_no": old[1],
        "new_service_name": new[0],
        "new_logistics_no": new[1],
        "send_type": "all",
    }
    return ApiCall(MODIFY_SHIPMENT, _with_key(params, idempotency_key))


def list_logistics_services() -> ApiCall:
    """List the logistics services the seller may declare shipments under (no parameters)."""
    return ApiCall(LIST_LOGISTICS_SERVICES)


def withdraw_shipment(order_id: str, tracking_number: str, idempotency_key: str) -> ApiCall:
    """Withdraw a declared tracking number (simulator only, see ``WITHDRAW_SHIPMENT``)."""
    params = {"out_ref": order_id, "logistics_no": tracking_number}
    return ApiCall(WITHDRAW_SHIPMENT, _with_key(params, idempotency_key))


def _numeric(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def find_order(order_id: str) -> ApiCall:
    """Read one order (``param1`` is a JSON query object)."""
    return ApiCall(FIND_ORDER, {"param1": json.dumps({"order_id": _numeric(order_id)})})


def issue_list(order_id: str | None = None, page: int = 1, page_size: int = 50) -> ApiCall:
    """List the seller's disputes, optionally those of one order."""
    query: dict[str, object] = {"current_page": page, "page_size": page_size}
    if order_id is not None:
        query["order_no"] = _numeric(order_id)
    return ApiCall(ISSUE_LIST, {"query_dto": json.dumps(query)})


def issue_detail(dispute_id: str, buyer_login_id: str | None) -> ApiCall:
    """Read one dispute; the documented API also wants the buyer's login id."""
    params = {"issue_id": dispute_id}
    if buyer_login_id:
        params["buyer_login_id"] = buyer_login_id
    return ApiCall(ISSUE_DETAIL, params)


_SOLUTION_TYPES = {
    SolutionKind.FULL_REFUND: "refund",
    SolutionKind.PARTIAL_REFUND: "refund",
    SolutionKind.RETURN_AND_REFUND: "return_and_refund",
    # The documented values are refund and return_and_refund; "resend" is not confirmed.
    SolutionKind.RESHIP: "resend",
}


def solution_type(solution: Solution) -> str:
    """The platform's ``add_solution_type`` for one of our solutions."""
    return _SOLUTION_TYPES[solution.kind]


def save_solution(
    dispute_id: str,
    buyer_login_id: str,
    buyer_solution_id: str | None,
    solution: Solution,
    idempotency_key: str,
) -> ApiCall:
    """Add a seller solution (counter-proposal) to a dispute."""
    if solution.kind is not SolutionKind.RESHIP and solution.refund is None:
        raise InvalidInput("refund", f"a {solution.kind.value} solution needs an amount")
    refund = solution.refund or Money(minor=0)
    context = solution.note
    if solution.kind is SolutionKind.RESHIP:
        context = f"Reship via {solution.reship_carrier or 'another carrier'}. {context}".strip()
    dto: dict[str, object] = {
        "issue_id": _numeric(dispute_id),
        "buyer_login_id": buyer_login_id,
        "add_seller_solution": True,
        "add_solution_type": solution_type(solution),
        "refund_amount": refund.decimal_str,
        "refund_amount_currency": refund.currency,
        "solution_context": context,
    }
    if buyer_solution_id is not None:
        dto["buyer_solution_id"] = _numeric(buyer_solution_id)
    return ApiCall(SAVE_SOLUTION, _with_key({"param_dto": json.dumps(dto)}, idempotency_key))


def agree_solution(
    dispute_id: str, buyer_login_id: str, solution_id: str, idempotency_key: str
) -> ApiCall:
    """Accept the buyer's solution (a full refund as the buyer asked)."""
    params = {"issue_id": dispute_id, "buyer_login_id": buyer_login_id, "solution_id": solution_id}
    return ApiCall(AGREE_SOLUTION, _with_key(params, idempotency_key))


def add_message(order_id: str, buyer_login_id: str, text: str, idempotency_key: str) -> ApiCall:
    """Post a message on the order's conversation with the buyer."""
    create = {
        "channel_id": _numeric(order_id),
        "buyer_id": buyer_login_id,
        "content": text,
        "msg_sources": "order_msg",
        "extern_id": _numeric(order_id),
    }
    return ApiCall(ADD_MESSAGE, _with_key({"create_param": json.dumps(create)}, idempotency_key))


def list_messages(order_id: str, page: int = 1, page_size: int = 50) -> ApiCall:
    """Read the messages of the order's conversation (newest first)."""
    params = {
        "channel_id": order_id,
        "msg_sources": "order_msg",
        "current_page": str(page),
        "page_size": str(page_size),
    }
    return ApiCall(LIST_MESSAGES, params)


def issue_image_upload(
    dispute_id: str, buyer_login_id: str, evidence: Evidence, idempotency_key: str
) -> ApiCall:
    """Upload one image as the seller's evidence on a dispute (the API takes images only).

    ``extension`` is the file's suffix without the dot (from its name, else its media type).
    """
    if not evidence.is_image:
        raise InvalidInput("evidence", f"{evidence.content_type} is not an image")
    extension = evidence.extension or evidence.content_type.partition("/")[2]
    params = {
        "issue_id": dispute_id,
        "buyer_login_id": buyer_login_id,
        "extension": "jpg" if extension == "jpeg" else extension,
    }
    image = FilePart(evidence.filename, evidence.content_type, evidence.data)
    return ApiCall(ISSUE_IMAGE_UPLOAD, _with_key(params, idempotency_key), {IMAGE_PART: image})
