"""The simulator's HTTP face: 17TRACK v2.2 under ``/track/v2.2``, an admin API under ``/sim``."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel

from adapters.carrier_sim.protocol import gettrackinfo
from adapters.carrier_sim.push import push_due
from adapters.carrier_sim.scripts import Journey
from adapters.carrier_sim.state import PROTOCOL_PATHS, Fault, ParcelScript, SettableClock, SimState
from adapters.seventeentrack.units import (
    ERR_INVALID_DATA,
    ERR_INVALID_TOKEN,
    ERR_TOO_MANY_NUMBERS,
    TOKEN_HEADER,
)


class ClockChange(BaseModel):
    """Set the simulator's clock to ``now``, or move it forward by ``advance_seconds``."""

    now: AwareDatetime | None = None
    advance_seconds: float | None = None


class FaultSpec(BaseModel):
    """Make the next ``count`` requests to ``path`` fail with ``status`` and/or be slow."""

    path: str
    count: int = 1
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0


class WebhookConfig(BaseModel):
    """Where push mode posts signed webhooks."""

    url: str


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"code": code, "data": {"errors": [{"code": code, "message": message}]}}
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(state: SimState | None = None) -> FastAPI:
    """A FastAPI app serving ``state`` (a fresh one with token ``dev-token`` by default)."""
    sim = state or SimState()
    app = FastAPI(title="parcelflow carrier simulator (17TRACK v2.2)")
    app.state.sim = sim

    @app.post("/track/v2.2/{endpoint}")
    async def protocol(endpoint: str, request: Request) -> JSONResponse:
        if endpoint not in PROTOCOL_PATHS:
            raise HTTPException(404, f"unknown endpoint {endpoint}")
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        items = [i for i in body if isinstance(i, dict)] if isinstance(body, list) else []
        sim.count(endpoint, len(items))
        if (fault := sim.take_fault(endpoint)) is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else None
                return _error(fault.status, fault.status, "injected fault", headers)
        if request.headers.get(TOKEN_HEADER) != sim.token:
            return _error(401, ERR_INVALID_TOKEN, "Invalid access key.")
        if (wait := sim.over_rate()) is not None:
            headers = {"Retry-After": f"{max(1, round(wait + 0.5))}"}
            return _error(429, 429, "Request frequency limit exceeded.", headers)
        if not isinstance(body, list) or len(items) != len(body):
            return _error(200, ERR_INVALID_DATA, "The request body must be a JSON array.")
        if len(items) > sim.max_batch:
            message = f"At most {sim.max_batch} numbers a request, got {len(items)}."
            return _error(200, ERR_TOO_MANY_NUMBERS, message)
        if endpoint == "gettrackinfo":
            data = gettrackinfo(sim, items)
        else:
            accepted, rejected = (sim.register if endpoint == "register" else sim.stop)(items)
            data = {"accepted": accepted, "rejected": rejected}
        return JSONResponse({"code": 0, "data": data})

    @app.post("/sim/scripts", status_code=201)
    async def add_script(script: ParcelScript) -> dict[str, str]:
        sim.add_script(script)
        return {"number": script.number.upper()}

    @app.post("/sim/journeys", status_code=201)
    async def add_journey(journey: Journey) -> dict[str, str]:
        sim.add_script(journey.script())
        return {"number": journey.number.upper()}

    @app.get("/sim/clock")
    async def read_clock() -> dict[str, str]:
        return {"now": sim.now().isoformat()}

    @app.post("/sim/clock")
    async def change_clock(change: ClockChange) -> dict[str, str]:
        if not isinstance(sim.clock, SettableClock):
            raise HTTPException(409, "this simulator's clock is injected and cannot be set")
        if change.now is not None:
            sim.clock.set(change.now)
        if change.advance_seconds:
            sim.clock.advance(timedelta(seconds=change.advance_seconds))
        return {"now": sim.now().isoformat()}

    @app.post("/sim/faults", status_code=201)
    async def add_fault(spec: FaultSpec) -> dict[str, str]:
        if spec.path not in PROTOCOL_PATHS:
            raise HTTPException(422, f"path must be one of {', '.join(PROTOCOL_PATHS)}")
        sim.inject_fault(spec.path, Fault(spec.count, spec.status, spec.retry_after, spec.delay))
        return {"path": spec.path}

    @app.get("/sim/requests")
    async def requests_made() -> dict[str, Any]:
        return sim.request_counts()

    @app.post("/sim/webhook")
    async def configure_webhook(config: WebhookConfig) -> dict[str, str]:
        sim.webhook_url = config.url
        return {"url": config.url}

    @app.post("/sim/push")
    async def push() -> dict[str, int]:
        return await push_due(sim)

    return app
