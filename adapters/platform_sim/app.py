"""The simulator's HTTP face: the signed gateway at ``/sync``, the token refresh at
``/rest/auth/token/refresh``, and the admin API under ``/sim``."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict

from adapters.platform_sim import orders
from adapters.platform_sim.gateway import (
    WRITES,
    dispatch,
    error_body,
    rejection,
    request_parts,
    rest_call,
)
from adapters.platform_sim.rules import SimDispute, SimOrder, SimRefusal
from adapters.platform_sim.state import Fault, SimState
from adapters.platform_sim.wire import wire_time
from domain.money import Money


class NewOrder(BaseModel):
    """``POST /sim/orders``."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    eta: datetime
    buyer_login_id: str = "buyer-1"
    seller_id: str = "store-1"
    total: Money = Money(minor=25_00)
    paid_at: AwareDatetime | None = None
    """When the buyer paid (default: now); an earlier time is an order whose hook is overdue."""


class NewEta(BaseModel):
    """``POST /sim/orders/{id}/eta``."""

    eta: datetime


class NewDispute(BaseModel):
    """``POST /sim/orders/{id}/disputes``."""

    reason: str = "not_received"


class ScanReport(BaseModel):
    """``POST /sim/orders/{id}/scan``: the number the carrier scanned (default: the order's)."""

    model_config = ConfigDict(extra="forbid")

    number: str | None = None


class Verdict(BaseModel):
    """``POST /sim/disputes/{id}/arbitration``: the platform's arbitration decides."""

    model_config = ConfigDict(extra="forbid")

    for_seller: bool
    refund_minor: int | None = None
    """Against the seller: what they refund (default: the order's total)."""


class TokenExpiry(BaseModel):
    """``POST /sim/tokens/expire``: which of the tokens issued so far stop working now."""

    model_config = ConfigDict(extra="forbid")

    access: bool = True
    refresh: bool = True


class ClockChange(BaseModel):
    """``POST /sim/clock``: freeze at ``now`` and/or move on by ``advance_seconds``."""

    now: datetime | None = None
    advance_seconds: float = 0.0


class FaultPlan(BaseModel):
    """``POST /sim/faults``: what the next ``count`` calls of ``method`` suffer."""

    method: str
    fault: Fault
    count: int = 1


_INVALID_VALUES = frozenset({"isv.invalid-parameter", "REFUND_AMOUNT_INVALID"})


def _status_of(code: str) -> int:
    """An admin call's refusal: 404 for what does not exist, 422 for a value the platform
    would not take, 409 for a call the thing's state forbids (e.g. ``ISSUE_STATUS_INVALID``)."""
    if code.endswith("NOT_FOUND"):
        return 404
    return 422 if code in _INVALID_VALUES else 409


def _refund(minor: int, currency: str) -> Money:
    if minor < 0:
        raise SimRefusal("REFUND_AMOUNT_INVALID", f"refund_minor {minor} is negative")
    return Money(minor=minor, currency=currency)


def _order_json(order: SimOrder) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "status": order.status,
        "end_reason": order.end_reason,
        "seller_id": order.seller_id,
        "eta": order.eta.isoformat(),
        "scanned": order.scanned,
        "withdrawal_refusals": order.withdrawal_refusals,
        "shipments": [
            {
                "carrier": s.carrier,
                "number": s.number,
                "uploaded_at": s.uploaded_at.isoformat(),
                "locked": s.locked,
                "scanned": s.scanned,
            }
            for s in order.shipments
        ],
    }


def _dispute_json(dispute: SimDispute) -> dict[str, Any]:
    return {
        "dispute_id": dispute.dispute_id,
        "order_id": dispute.order_id,
        "status": dispute.status,
        "outcome": dispute.outcome,
        "decided_by": dispute.decided_by,
        "arbitration_since": (
            dispute.arbitration_since.isoformat() if dispute.arbitration_since else None
        ),
        "solutions": [
            {
                "solution_id": s.solution_id,
                "owner": s.owner,
                "solution_type": s.solution_type,
                "refund_minor": s.refund.minor,
                "status": s.status,
                "reached_type": s.reached_type,
                "created_at": s.created_at.isoformat(),
            }
            for s in dispute.solutions
        ],
    }


async def _suffered(state: SimState, fault: Fault | None) -> Response | None:
    """The answer of a call whose fault stops it before it runs (None: it runs)."""
    if fault is Fault.ERROR_5XX:
        return JSONResponse(error_body("ServiceUnavailable", "injected", "ISP"), status_code=503)
    if fault is Fault.RATE_LIMITED:
        return JSONResponse(
            error_body("ApiCallLimit", "injected rate limit", "ISP"),
            status_code=429,
            headers={"Retry-After": "1"},
        )
    if fault is Fault.TIMEOUT:
        await asyncio.sleep(state.fault_sleep)
        return JSONResponse(
            error_body("ServiceUnavailable", "injected timeout", "ISP"), status_code=504
        )
    return None


def _serve_rest(app: FastAPI, state: SimState) -> None:
    @app.api_route("/rest/{api:path}", methods=["GET", "POST"])
    async def rest(api: str, request: Request) -> Response:
        """REST-style APIs (the token refresh); faults are planned under the path."""
        params, _ = await request_parts(request)
        path = "/" + api
        fault = state.take_fault(path)
        stopped = await _suffered(state, fault)
        if stopped is not None:
            return stopped
        body = rest_call(state, path, params)
        if fault is Fault.EXECUTE_THEN_DROP:
            return Response(status_code=500)
        return JSONResponse(body)


def create_app(state: SimState) -> FastAPI:
    """The simulator app over ``state`` (tests keep ``state`` to drive it from Python)."""
    app = FastAPI(title="parcelflow marketplace simulator")

    @app.api_route("/sync", methods=["GET", "POST"])
    async def gateway(request: Request) -> Response:
        params, files = await request_parts(request)
        error = rejection(state, params)
        if error is not None:
            return JSONResponse(error)
        method = params["method"]
        fault = state.take_fault(method)
        stopped = await _suffered(state, fault)
        if stopped is not None:
            return stopped
        body = dispatch(state, method, params, files)
        if fault is Fault.EXECUTE_THEN_DROP and method in WRITES:
            return Response(status_code=500)
        return JSONResponse(body)

    _serve_rest(app, state)

    @app.exception_handler(SimRefusal)
    async def refused(_: Request, exc: SimRefusal) -> JSONResponse:
        return JSONResponse(
            {"code": exc.code, "message": exc.message}, status_code=_status_of(exc.code)
        )

    @app.post("/sim/orders", status_code=201)
    async def add_order(body: NewOrder) -> dict[str, Any]:
        order = state.add_order(
            body.order_id,
            eta=body.eta,
            buyer_login_id=body.buyer_login_id,
            total=body.total,
            seller_id=body.seller_id,
            paid_at=body.paid_at,
        )
        return _order_json(order)

    @app.get("/sim/orders/{order_id}")
    async def get_order(order_id: str) -> dict[str, Any]:
        with state.lock:
            return _order_json(orders.settle(state, state.order(order_id)))

    @app.post("/sim/orders/{order_id}/confirm")
    async def confirm(order_id: str) -> dict[str, Any]:
        return _order_json(orders.buyer_confirms(state, order_id))

    @app.post("/sim/orders/{order_id}/scan")
    async def scan(order_id: str, body: ScanReport | None = None) -> dict[str, Any]:
        state.mark_scan(order_id, body.number if body else None)
        return await get_order(order_id)

    @app.post("/sim/orders/{order_id}/eta")
    async def eta(order_id: str, body: NewEta) -> dict[str, Any]:
        state.set_eta(order_id, body.eta)
        return await get_order(order_id)

    @app.post("/sim/orders/{order_id}/disputes", status_code=201)
    async def open_dispute(order_id: str, body: NewDispute) -> dict[str, str]:
        return {"dispute_id": state.open_dispute(order_id, body.reason).dispute_id}

    @app.get("/sim/disputes/{dispute_id}")
    async def get_dispute(dispute_id: str) -> dict[str, Any]:
        with state.lock:
            return _dispute_json(state.dispute(dispute_id))

    @app.post("/sim/disputes/{dispute_id}/accept")
    async def accept(dispute_id: str) -> dict[str, Any]:
        state.buyer_accepts(dispute_id)
        return await get_dispute(dispute_id)

    @app.post("/sim/disputes/{dispute_id}/reject")
    async def reject(dispute_id: str) -> dict[str, Any]:
        state.buyer_rejects(dispute_id)
        return await get_dispute(dispute_id)

    @app.post("/sim/disputes/{dispute_id}/arbitration")
    async def arbitration(dispute_id: str, body: Verdict) -> dict[str, Any]:
        with state.lock:
            refund = None
            if body.refund_minor is not None:
                total = state.order(state.dispute(dispute_id).order_id).total
                refund = _refund(body.refund_minor, total.currency)
            state.arbitrate(dispute_id, for_seller=body.for_seller, refund=refund)
        return await get_dispute(dispute_id)

    @app.get("/sim/clock")
    async def clock() -> dict[str, str]:
        return {"now": state.now().isoformat(), "wire": wire_time(state.now())}

    @app.post("/sim/clock")
    async def set_clock(body: ClockChange) -> dict[str, str]:
        if body.now is not None:
            state.set_now(body.now)
        if body.advance_seconds:
            state.advance(timedelta(seconds=body.advance_seconds))
        return await clock()

    @app.post("/sim/faults", status_code=204)
    async def faults(body: FaultPlan) -> None:
        state.inject(body.method, body.fault, body.count)

    @app.get("/sim/tokens")
    async def token_counts() -> dict[str, int]:
        return {"refreshes": state.tokens.refreshes}

    @app.post("/sim/tokens/expire")
    async def expire_tokens(body: TokenExpiry) -> dict[str, int]:
        expired = state.tokens.expire(access=body.access, refresh=body.refresh)
        return {"expired": expired, "refreshes": state.tokens.refreshes}

    @app.get("/sim/ledger")
    async def ledger(idempotency_key: str | None = None) -> dict[str, list[dict[str, Any]]]:
        entries = state.ledger() if idempotency_key is None else state.effects(idempotency_key)
        return {"entries": [entry.as_json() for entry in entries]}

    return app
