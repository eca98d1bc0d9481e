"""The simulator's HTTP face: EasyPost's claims under ``/v2/claims``, an admin API under ``/sim``.

Authentication is EasyPost's: HTTP Basic with the API key as the user name and no password.
The 401 codes (APIKEY.REQUIRED, APIKEY.INACTIVE) are UNCONFIRMED.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from adapters.easypost.sim.rules import CLAIM_TYPES, SimRefusal, invalid, read_new_claim, usd
from adapters.easypost.sim.state import Fault, SimClaim, SimState
from adapters.easypost.sim.webhooks import WebhookSender
from adapters.easypost.sim.wire import claim_json, error_body, read_time

MAX_PAGE_SIZE = 100


class NewInsurance(BaseModel):
    """``POST /sim/insurances``: the parcel ``tracking_code`` is insured for ``amount`` USD."""

    model_config = ConfigDict(extra="forbid")

    tracking_code: str
    amount: str


class Settlement(BaseModel):
    """``POST /sim/claims/{id}/settle``: in_review, needs_action, approved, approved_partial
    (with ``amount``) or rejected (with ``detail``, the reason)."""

    model_config = ConfigDict(extra="forbid")

    outcome: str
    amount: str | None = None
    detail: str = ""


class FaultPlan(BaseModel):
    """``POST /sim/faults``: what the next ``count`` calls of ``endpoint`` suffer."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str
    fault: Fault
    count: int = 1


def api_key_of(request: Request) -> str | None:
    """The user name of an HTTP Basic ``Authorization`` header."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, _ = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or None


def page(state: SimState, query: dict[str, str]) -> dict[str, Any]:
    """One page of ``GET /v2/claims``: newest first, filtered by time, type and status."""
    try:
        size = int(query.get("page_size", "20"))
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    if query.get("type") and query["type"] not in CLAIM_TYPES:
        raise invalid("type", f"must be one of {', '.join(CLAIM_TYPES)}")
    start, end = _time(query, "start_datetime"), _time(query, "end_datetime")
    claims = _within_cursors(state.newest_first(), query)

    def kept(claim: SimClaim) -> bool:
        return (
            (start is None or claim.created_at >= start)
            and (end is None or claim.created_at <= end)
            and query.get("type", claim.filed.claim_type) == claim.filed.claim_type
            and query.get("status", claim.current.status) == claim.current.status
        )

    matching = [c for c in claims if kept(c)]
    return {"claims": [claim_json(c) for c in matching[:size]], "has_more": len(matching) > size}


def _time(query: dict[str, str], name: str) -> datetime | None:
    return read_time(name, query[name]) if name in query else None


def _within_cursors(claims: list[SimClaim], query: dict[str, str]) -> list[SimClaim]:
    """The claims older than ``before_id`` and newer than ``after_id`` (an unknown id: none)."""
    ids = [c.claim_id for c in claims]
    first, last = 0, len(claims)
    if (before := query.get("before_id")) is not None:
        first = ids.index(before) + 1 if before in ids else last
    if (after := query.get("after_id")) is not None:
        last = ids.index(after) if after in ids else 0
    return claims[first:last]


def create_app(state: SimState | None = None) -> FastAPI:
    """The simulator app over ``state`` (tests keep ``state`` to drive it from Python)."""
    sim = state or SimState()
    app = FastAPI(title="parcelflow claims simulator (EasyPost Claims API)")
    app.state.sim = sim
    webhooks = app.state.webhooks = WebhookSender(sim.webhook_url, sim.webhook_secret)

    @app.exception_handler(SimRefusal)
    async def refused(_: Request, exc: SimRefusal) -> JSONResponse:
        return JSONResponse(error_body(exc), status_code=exc.status)

    async def guarded(request: Request, endpoint: str) -> Response | None:
        """The answer when the key is wrong or a fault is planned; None to go on."""
        key = api_key_of(request)
        if key is None:
            refusal = SimRefusal(401, "APIKEY.REQUIRED", "An API key is required.")
            return JSONResponse(error_body(refusal), status_code=401)
        if key != sim.api_key:
            refusal = SimRefusal(401, "APIKEY.INACTIVE", "The API key is not valid.")
            return JSONResponse(error_body(refusal), status_code=401)
        fault = sim.take_fault(endpoint)
        if fault is Fault.ERROR_5XX:
            unavailable = SimRefusal(503, "SERVICE.UNAVAILABLE", "injected outage")
            return JSONResponse(error_body(unavailable), status_code=503)
        if fault is Fault.RATE_LIMITED:
            limited = SimRefusal(429, "RATE_LIMITED", "injected rate limit")
            headers = {"Retry-After": f"{sim.retry_after:g}"}
            return JSONResponse(error_body(limited), status_code=429, headers=headers)
        if fault is Fault.STALL:
            await asyncio.sleep(sim.stall_seconds)
            timeout = SimRefusal(504, "GATEWAY.TIMEOUT", "injected stall")
            return JSONResponse(error_body(timeout), status_code=504)
        if fault is Fault.EXECUTE_THEN_DROP:
            request.state.drop_answer = True
        return None

    def answer(request: Request, body: dict[str, Any], status: int = 200) -> Response:
        if getattr(request.state, "drop_answer", False):
            return Response(status_code=500)
        return JSONResponse(body, status_code=status)

    @app.post("/v2/claims")
    async def create(request: Request) -> Response:
        if (early := await guarded(request, "create")) is not None:
            return early
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        claim = await webhooks.claim_changed(sim.file(read_new_claim(body)))
        return answer(request, claim_json(claim), 201)

    @app.get("/v2/claims")
    async def list_claims(request: Request) -> Response:
        if (early := await guarded(request, "list")) is not None:
            return early
        return answer(request, page(sim, dict(request.query_params)))

    @app.get("/v2/claims/{claim_id}")
    async def retrieve(claim_id: str, request: Request) -> Response:
        if (early := await guarded(request, "retrieve")) is not None:
            return early
        return answer(request, claim_json(sim.claim(claim_id)))

    @app.post("/v2/claims/{claim_id}/cancel")
    async def cancel(claim_id: str, request: Request) -> Response:
        if (early := await guarded(request, "cancel")) is not None:
            return early
        return answer(request, claim_json(await webhooks.claim_changed(sim.cancel(claim_id))))

    @app.post("/sim/insurances", status_code=201)
    async def insure(body: NewInsurance) -> dict[str, str]:
        insurance = sim.insure(body.tracking_code, usd("amount", body.amount))
        return {"id": insurance.insurance_id, "tracking_code": insurance.tracking_code}

    @app.post("/sim/claims/{claim_id}/settle")
    async def settle(claim_id: str, body: Settlement) -> dict[str, Any]:
        amount = usd("amount", body.amount) if body.amount is not None else None
        settled = sim.settle(claim_id, body.outcome, amount, body.detail)
        return claim_json(await webhooks.claim_changed(settled, wait=True))

    @app.post("/sim/faults", status_code=204)
    async def faults(body: FaultPlan) -> None:
        sim.inject(body.endpoint, body.fault, body.count)

    @app.get("/sim/webhooks")
    async def deliveries() -> dict[str, list[dict[str, Any]]]:
        return {"deliveries": [delivery.as_json() for delivery in webhooks.deliveries]}

    @app.get("/sim/ledger")
    async def ledger(
        reference: str | None = None, tracking_code: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        entries = sim.ledger(reference=reference, tracking_code=tracking_code)
        return {"entries": [entry.as_json() for entry in entries]}

    return app
