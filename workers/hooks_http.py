"""The hook server's HTTP plumbing: JSON answers and refusals, the 503 guard, OpenAPI bodies."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workers import hooks_wire as wire
from workers.orders import Delivery
from workers.webhook_signatures import ID_HEADER

log = structlog.get_logger("parcelflow.hooks")


def refuse(status: int, error: str, detail: str | None = None) -> JSONResponse:
    """A JSON refusal: ``error`` names the problem."""
    refusal = wire.Refusal(error=error, detail=detail)
    return JSONResponse(refusal.model_dump(exclude_none=True), status_code=status)


def refused_body(refused: wire.BodyError) -> JSONResponse:
    """The 400 or 422 refusal of an unreadable body."""
    return JSONResponse(refused.refusal.model_dump(exclude_none=True), refused.status)


def answer(status: int, hook_answer: wire.HookAnswer) -> JSONResponse:
    """A 2xx answer to a delivery."""
    return JSONResponse(hook_answer.model_dump(exclude_none=True), status_code=status)


def delivered(delivery: Delivery, workflow_id: str) -> JSONResponse:
    """202 when the order's workflow took the hook, 200 when it had already ended (H2)."""
    if delivery is Delivery.ACCEPTED:
        return answer(202, wire.HookAnswer(status="accepted", workflow_id=workflow_id))
    return answer(200, wire.HookAnswer(status="already_processed", workflow_id=workflow_id))


class Unavailable:
    """Turn any unexpected error (Temporal unreachable, a bug) into a 503, never a 500.

    A plain ASGI wrapper rather than an ``Exception`` handler: Starlette re-raises after such a
    handler, and the server would then log a traceback whose frames hold the request body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            if scope["type"] != "http" or started:
                raise
            headers = dict(scope.get("headers") or [])
            # No traceback: its frames' locals hold the request body (buyer data).
            log.error(  # noqa: TRY400
                "hook_failed",
                path=scope.get("path"),
                webhook_id=headers.get(ID_HEADER.encode(), b"").decode(errors="replace"),
                error_type=type(error).__name__,
                error=str(error),
            )
            await refuse(503, "unavailable", "try again later")(scope, receive, send)


async def http_refusal(_request: Request, error: Exception) -> JSONResponse:
    """Unknown path or method, as a JSON refusal."""
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for HTTPException only
    name = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "refused")
    return refuse(error.status_code, name, str(error.detail))


async def request_refusal(_request: Request, error: Exception) -> JSONResponse:
    """A malformed path parameter, named like a body field."""
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for it only
    problems = [
        wire.FieldProblem(field=".".join(str(p) for p in e["loc"]), problem=e["msg"])
        for e in error.errors()
    ]
    return refused_body(wire.invalid(problems))


REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": wire.Refusal, "description": text}
    for code, text in (
        (400, "The body is not JSON."),
        (401, "Missing headers, bad signature, or a timestamp more than 5 minutes off."),
        (413, "The body is too big."),
        (422, "The body is malformed: each field named."),
        (503, "Temporal is unreachable: redeliver later."),
    )
}

_REF = "#/components/schemas/{model}"
_BODY_DEFS: dict[str, Any] = {}


def request_body(model: type[BaseModel] | TypeAdapter[Any]) -> dict[str, Any]:
    """OpenAPI for a body read raw (its signature is checked on the bytes, before parsing)."""
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    schema = adapter.json_schema(ref_template=_REF)
    _BODY_DEFS.update(schema.pop("$defs", {}))
    if isinstance(model, type):
        _BODY_DEFS[model.__name__] = schema
        schema = {"$ref": _REF.format(model=model.__name__)}
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


ORDER_HOOK_BODY = request_body(wire.OrderCreatedHook)
FACT_BODY = request_body(wire.FACT)


def document_bodies(app: FastAPI) -> None:
    """Add the raw bodies' schemas to ``app``'s OpenAPI components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_BODY_DEFS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
