"""The simulated dispute and message methods (R14): solutions, agreement, conversation."""

from __future__ import annotations

import hashlib
from typing import Any

from adapters.platform_sim.rules import (
    ARBITRATION,
    OPEN,
    SOLUTION_PENDING,
    SOLUTION_REACHED,
    SimDispute,
    SimEvidence,
    SimMessage,
    SimRefusal,
    SimSolution,
)
from adapters.platform_sim.state import SimState
from adapters.platform_sim.wire import (
    Files,
    Params,
    json_param,
    parse_amount,
    required,
    wire_time,
)

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "bmp", "webp"})
MAX_IMAGE_BYTES = 5 * 1024 * 1024
_TAKES_EVIDENCE = frozenset({OPEN, ARBITRATION})


def _solution_json(solution: SimSolution, issue_id: str) -> dict[str, Any]:
    return {
        "id": solution.solution_id,
        "issue_id": issue_id,
        "solution_owner": solution.owner,
        "solution_type": solution.solution_type,
        "refund_money": solution.refund.decimal_str,
        "refund_money_currency": solution.refund.currency,
        "status": solution.status,
        "reached_type": solution.reached_type,
        "content": solution.context,
        "gmt_create": wire_time(solution.created_at),
        "gmt_modified": wire_time(solution.answered_at or solution.created_at),
    }


def _evidence_process(evidence: SimEvidence, dispute: SimDispute) -> dict[str, Any]:
    """One upload as the detail's process record with its attachment (the real DTO shape)."""
    attachment = {
        "file_path": evidence.file_path,
        "owner": "seller",
        "gmt_create": wire_time(evidence.at),
        "issue_id": dispute.dispute_id,
        "issue_process_id": evidence.evidence_id,
    }
    return {
        "id": evidence.evidence_id,
        "issue_id": dispute.dispute_id,
        # The real action type of an evidence upload is not documented; this one is ours.
        "action_type": "seller_upload_image",
        "submit_member_type": "seller",
        "content": evidence.filename,
        "gmt_create": wire_time(evidence.at),
        "attachments": {"api_attachment_dto": [attachment]},
    }


def _dispute_json(state: SimState, dispute: SimDispute) -> dict[str, Any]:
    order = state.order(dispute.order_id)
    lists = {
        owner: {
            "solution_api_dto": [
                _solution_json(s, dispute.dispute_id) for s in dispute.solutions if s.owner == owner
            ]
        }
        for owner in ("buyer", "seller", "platform")
    }
    return {
        "id": dispute.dispute_id,
        "issue_id": dispute.dispute_id,
        "order_id": dispute.order_id,
        "buyer_login_id": order.buyer_login_id,
        "issue_reason": dispute.reason,
        "reason_english": dispute.reason,
        "issue_status": dispute.status,
        "gmt_create": wire_time(dispute.opened_at),
        "seller_response_deadline": wire_time(dispute.opened_at + state.rules.first_response),
        "seller_solution_deadline": wire_time(dispute.opened_at + state.rules.solution),
        "buyer_solution_list": lists["buyer"],
        "seller_solution_list": lists["seller"],
        "platform_solution_list": lists["platform"],
        "process_dto_list": {
            "api_issue_process_dto": [_evidence_process(e, dispute) for e in dispute.evidence]
        },
    }


def issue_list(state: SimState, params: Params, _key: str | None) -> dict[str, Any]:
    """aliexpress.issue.issuelist.get."""
    query = json_param(params, "query_dto")
    wanted = str(query.get("order_no", ""))
    found = [
        state.dispute(i)
        for i in list(state.disputes)
        if not wanted or state.disputes[i].order_id == wanted
    ]
    rows = [_dispute_json(state, d) for d in found]
    return {"result_object": {"data_list": {"issue_api_issue_dto": rows}, "total_item": len(rows)}}


def issue_detail(state: SimState, params: Params, _key: str | None) -> dict[str, Any]:
    """aliexpress.issue.detail.get."""
    return {"result_object": _dispute_json(state, state.dispute(required(params, "issue_id")))}


def _open_dispute(
    state: SimState, dispute_id: str, statuses: frozenset[str] = frozenset({OPEN})
) -> SimDispute:
    """The dispute if its status allows the call: ``ISSUE_DEADLINE_PASSED`` once a missed R14
    deadline decided it, else ``ISSUE_STATUS_INVALID`` (ended, or in arbitration: no solution
    can be offered while the platform decides)."""
    dispute = state.dispute(dispute_id)
    if dispute.status not in statuses:
        code = (
            "ISSUE_DEADLINE_PASSED" if dispute.decided_by == "deadline" else "ISSUE_STATUS_INVALID"
        )
        if dispute.status == ARBITRATION:
            message = f"dispute {dispute_id} is in arbitration: the platform decides"
        else:
            message = f"dispute {dispute_id} is {dispute.status} ({dispute.outcome})"
        raise SimRefusal(code, message)
    return dispute


def save_solution(state: SimState, params: Params, key: str | None) -> dict[str, Any]:
    """aliexpress.issue.solution.save (R14: a valid solution, amount within the order total)."""
    dto = json_param(params, "param_dto")
    dispute = _open_dispute(state, str(dto.get("issue_id", "")))
    total = state.order(dispute.order_id).total
    kind = str(dto.get("add_solution_type", ""))
    if kind not in {"refund", "return_and_refund", "resend"}:
        raise SimRefusal("SOLUTION_TYPE_INVALID", f"unknown solution type {kind!r}")
    refund = parse_amount(str(dto.get("refund_amount", "0")), total.currency)
    if kind != "resend" and not 0 < refund.minor <= total.minor:
        raise SimRefusal(
            "REFUND_AMOUNT_INVALID", f"refund {refund.decimal_str} outside (0, {total.decimal_str}]"
        )
    now = state.now()
    solution = SimSolution(
        state.new_id(),
        "seller",
        kind,
        refund,
        SOLUTION_PENDING,
        now,
        str(dto.get("solution_context", "")),
    )
    dispute.solutions.append(solution)
    dispute.responded_at = dispute.responded_at or now
    detail = {"solution_type": kind, "refund_minor": refund.minor}
    state.record(
        "solution_saved",
        key,
        order_id=dispute.order_id,
        dispute_id=dispute.dispute_id,
        detail=detail,
    )
    return {"result_object": True}


def agree_solution(state: SimState, params: Params, key: str | None) -> dict[str, Any]:
    """aliexpress.issue.solution.agree: the seller accepts the buyer's solution."""
    dispute = _open_dispute(state, required(params, "issue_id"))
    wanted = required(params, "solution_id")
    solution = next(
        (s for s in dispute.solutions if s.solution_id == wanted and s.owner == "buyer"), None
    )
    if solution is None:
        raise SimRefusal("SOLUTION_TYPE_INVALID", f"{wanted} is not a buyer solution")
    solution.status, solution.answered_at = SOLUTION_REACHED, state.now()
    solution.reached_type = "negotiation_consensus"
    dispute.responded_at = dispute.responded_at or state.now()
    state.record("solution_agreed", key, order_id=dispute.order_id, dispute_id=dispute.dispute_id)
    state.close_dispute(dispute, "resolved", solution, by="seller")
    return {"result_object": True}


def add_message(state: SimState, params: Params, key: str | None) -> dict[str, Any]:
    """aliexpress.message.redefining.versiontwo.addmsg; answers an unanswered dispute (R14)."""
    create = json_param(params, "create_param")
    order = state.order(str(create.get("extern_id") or create.get("channel_id", "")))
    content = str(create.get("content", ""))
    if not content:
        raise SimRefusal("isv.missing-parameter", "content is required")
    order.messages.append(SimMessage(content, "seller", state.now()))
    answered = [
        d
        for d in state.order_disputes(order.order_id)
        if d.status == OPEN and d.responded_at is None
    ]
    for dispute in answered:
        dispute.responded_at = state.now()
    detail = {"content": content, "answers": [d.dispute_id for d in answered]}
    state.record("message_sent", key, order_id=order.order_id, detail=detail)
    return {"result": {"is_success": True}}


def list_messages(state: SimState, params: Params, _key: str | None) -> dict[str, Any]:
    """aliexpress.message.redefining.versiontwo.querymsgdetaillist (newest first)."""
    order = state.order(required(params, "channel_id"))
    rows = [
        {"content": m.content, "sender_login_id": m.sender, "gmt_create": wire_time(m.at)}
        for m in reversed(order.messages)
    ]
    return {"result": {"is_success": True, "message_detail_list": {"message_detail": rows}}}


def upload_image(state: SimState, params: Params, files: Files, key: str | None) -> dict[str, Any]:
    """aliexpress.issue.image.upload: an image (``image_bytes``) as seller evidence, also while
    the platform's arbitration decides (evidence is what it decides on)."""
    dispute = _open_dispute(state, required(params, "issue_id"), _TAKES_EVIDENCE)
    if required(params, "buyer_login_id") != state.order(dispute.order_id).buyer_login_id:
        raise SimRefusal("isv.invalid-parameter", "buyer_login_id is not the dispute's buyer")
    extension = required(params, "extension").lower().lstrip(".")
    if extension not in IMAGE_EXTENSIONS:
        raise SimRefusal("IMAGE_TYPE_INVALID", f"{extension!r} is not an image extension")
    image = files.get("image_bytes")
    if image is None or not image.data:
        raise SimRefusal("isv.missing-parameter", "image_bytes is required")
    if len(image.data) > MAX_IMAGE_BYTES:
        raise SimRefusal("IMAGE_TOO_LARGE", f"{len(image.data)} bytes > {MAX_IMAGE_BYTES}")
    evidence_id = state.new_id()
    evidence = SimEvidence(
        evidence_id=evidence_id,
        file_path=f"https://ae-sim.invalid/issue/{dispute.dispute_id}/{evidence_id}.{extension}",
        filename=image.filename,
        content_type=image.content_type,
        size=len(image.data),
        sha256=hashlib.sha256(image.data).hexdigest(),
        at=state.now(),
    )
    dispute.evidence.append(evidence)
    state.record(
        "evidence_uploaded",
        key,
        order_id=dispute.order_id,
        dispute_id=dispute.dispute_id,
        detail={
            "evidence_id": evidence_id,
            "file_path": evidence.file_path,
            "filename": evidence.filename,
            "size": evidence.size,
            "sha256": evidence.sha256,
        },
    )
    # The documented answer: a success flag only (the URL shows on the dispute's detail).
    return {"result_object": True}
