"""The simulated IOP gateway: signature and token checks, method dispatch, the error shapes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.datastructures import UploadFile

from adapters.aliexpress.signing import verify
from adapters.platform_sim import issues, logistics, orders
from adapters.platform_sim.rules import SimRefusal
from adapters.platform_sim.state import SimState
from adapters.platform_sim.wire import KEY_PARAM, Files, Handler, Upload, UploadHandler, required

HANDLERS: Mapping[str, Handler] = {
    "aliexpress.logistics.sellershipmentfortop": logistics.ship,
    "aliexpress.logistics.sellermodifiedshipmentfortop": logistics.modify,
    "sim.logistics.withdrawshipment": logistics.withdraw,
    "aliexpress.trade.new.redefining.findorderbyid": logistics.find_order,
    "aliexpress.solution.order.get": orders.order_list,
    "aliexpress.logistics.redefining.listlogisticsservice": logistics.list_services,
    "aliexpress.issue.issuelist.get": issues.issue_list,
    "aliexpress.issue.detail.get": issues.issue_detail,
    "aliexpress.issue.solution.save": issues.save_solution,
    "aliexpress.issue.solution.agree": issues.agree_solution,
    "aliexpress.message.redefining.versiontwo.addmsg": issues.add_message,
    "aliexpress.message.redefining.versiontwo.querymsgdetaillist": issues.list_messages,
}
# Methods that take file parts (multipart/form-data); their files are never signed.
UPLOADS: Mapping[str, UploadHandler] = {"aliexpress.issue.image.upload": issues.upload_image}
METHODS = frozenset(HANDLERS) | frozenset(UPLOADS)
WRITES = METHODS - {
    "aliexpress.trade.new.redefining.findorderbyid",
    "aliexpress.solution.order.get",
    "aliexpress.logistics.redefining.listlogisticsservice",
    "aliexpress.issue.issuelist.get",
    "aliexpress.issue.detail.get",
    "aliexpress.message.redefining.versiontwo.querymsgdetaillist",
}
# Logistics writes report business failures inside their payload; the rest as error_response.
IN_PAYLOAD_FAILURES = frozenset(m for m in HANDLERS if ".logistics." in m)
REFRESH_PATH = "/auth/token/refresh"
"""The one REST-style API (``POST /rest{path}``; the path prefixes the signed text)."""


def error_body(code: str, message: str, kind: str = "ISV") -> dict[str, Any]:
    """The platform's ``error_response``; ``isv.*`` codes travel as TOP's code 15 + sub_code."""
    error = {"type": kind, "code": code, "msg": message, "request_id": uuid.uuid4().hex}
    if code.startswith("isv."):
        error |= {"code": "15", "msg": "Remote service error", "sub_code": code, "sub_msg": message}
    return {"error_response": error}


async def request_parts(request: Request) -> tuple[dict[str, str], dict[str, Upload]]:
    """Query and form parameters together (the gateway accepts either), and any file parts."""
    params = dict(request.query_params)
    files: dict[str, Upload] = {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        async with request.form() as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    kind = value.content_type or "application/octet-stream"
                    files[name] = Upload(value.filename or name, kind, data)
                else:
                    params[name] = value
    return params, files


def rejection(state: SimState, params: Mapping[str, str]) -> dict[str, Any] | None:
    """The gateway's answer to a call it will not dispatch (key, signature, token, method)."""
    method = params.get("method", "")
    if params.get("app_key") != state.app_key:
        return error_body("InvalidAppKey", "app_key is not registered")
    if params.get("sign_method") != "sha256" or not verify(state.app_secret, method, params):
        return error_body(
            "IncompleteSignature", "The request signature does not conform to platform standards"
        )
    token = params.get("session") or params.get("access_token")
    if not token:
        return error_body("IllegalAccessToken", "the access token is missing")
    if not state.tokens.accepts(token):
        return error_body("IllegalAccessToken", "The specified access token is invalid or expired")
    if method not in METHODS:
        return error_body("InvalidApiPath", f"unknown method {method!r}")
    return None


def dispatch(
    state: SimState, method: str, params: Mapping[str, str], files: Files | None = None
) -> dict[str, Any]:
    """Run one verified call and wrap its result or refusal in the platform's shape."""
    key = params.get(KEY_PARAM)
    response_key = method.replace(".", "_") + "_response"
    request_id = uuid.uuid4().hex
    try:
        with state.lock:
            if method in UPLOADS:
                inner = UPLOADS[method](state, params, files or {}, key)
            else:
                inner = HANDLERS[method](state, params, key)
    except SimRefusal as refusal:
        if method not in IN_PAYLOAD_FAILURES:
            return error_body(refusal.code, refusal.message)
        inner = {
            "result_success": False,
            "result_error_code": refusal.code,
            "result_error_desc": refusal.message,
        }
    return {response_key: {**inner, "request_id": request_id}}


def rest_error(code: str, message: str, kind: str = "ISV") -> dict[str, Any]:
    """The REST endpoints' error shape: ``{"type", "code", "message", "request_id"}``."""
    return {"type": kind, "code": code, "message": message, "request_id": uuid.uuid4().hex}


def rest_call(state: SimState, api: str, params: Mapping[str, str]) -> dict[str, Any]:
    """One REST-style call (``/auth/token/refresh`` only): checked, signed with its path."""
    if params.get("app_key") != state.app_key:
        return rest_error("InvalidAppKey", "app_key is not registered")
    if params.get("sign_method") != "sha256" or not verify(state.app_secret, api, params):
        return rest_error(
            "IncompleteSignature", "The request signature does not conform to platform standards"
        )
    if api != REFRESH_PATH:
        return rest_error("InvalidApiPath", f"unknown API path {api!r}")
    try:
        grant = state.tokens.refresh(required(params, "refresh_token"))
    except SimRefusal as refusal:
        return rest_error(refusal.code, refusal.message)
    return grant.as_json(state.now(), uuid.uuid4().hex)
