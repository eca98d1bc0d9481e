"""The hook server: signed marketplace and 17TRACK webhooks in, order workflows started and fed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.exceptions import HTTPException
from temporalio.service import RPCError

from adapters.seventeentrack.webhook import PushNotification, parse_push, verify_signature
from domain.errors import InvalidInput
from domain.polling import new_facts
from workers import hooks_http as http
from workers import hooks_wire as wire
from workers.config import TemporalSettings
from workers.exits import EXIT_BAD_CONFIG, EXIT_UNREACHABLE, exit_process
from workers.hooks_easypost import EasyPostHook
from workers.logging import configure_logging
from workers.orders import Delivery, Orders
from workers.temporal_client import connect
from workers.webhook_signatures import ID_HEADER, SignatureError, decode_secret, verify

log = structlog.get_logger("parcelflow.hooks")

MAX_BODY = 256 * 1024
"""Hooks are small; a bigger body is refused before it is read into a model."""
SEVENTEENTRACK_SIGN_HEADER = "sign"


def now_utc() -> datetime:
    """The current time, timezone-aware (the default clock of signature checks)."""
    return datetime.now(UTC)


class HookSettings(BaseModel):
    """The hook server's configuration, from ``PARCELFLOW_*`` environment variables."""

    model_config = ConfigDict(frozen=True)

    secrets: tuple[str, ...] = ()
    seventeentrack_token: str | None = None
    easypost_webhook_secret: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HookSettings:
        """Read ``PARCELFLOW_WEBHOOK_SECRETS`` (comma-separated), ``PARCELFLOW_17TRACK_TOKEN``,
        ``PARCELFLOW_EASYPOST_WEBHOOK_SECRET``, ``PARCELFLOW_HOOKS_HOST`` and
        ``PARCELFLOW_HOOKS_PORT``."""
        env = os.environ if env is None else env
        secrets = tuple(s.strip() for s in env.get("PARCELFLOW_WEBHOOK_SECRETS", "").split(","))
        pairs = {
            "secrets": tuple(s for s in secrets if s),
            "seventeentrack_token": env.get("PARCELFLOW_17TRACK_TOKEN"),
            "easypost_webhook_secret": env.get("PARCELFLOW_EASYPOST_WEBHOOK_SECRET"),
            "host": env.get("PARCELFLOW_HOOKS_HOST"),
            "port": env.get("PARCELFLOW_HOOKS_PORT"),
        }
        return cls.model_validate({k: v for k, v in pairs.items() if v})


_Handler = Callable[[bytes, str, Any], Awaitable[JSONResponse]]
"""Reads a verified body (raw bytes, webhook id, logger bound to both) into the answer."""


class _Hooks:
    """The endpoints, over one ``Orders`` seam and the secrets they trust."""

    def __init__(
        self,
        orders: Orders,
        secrets: Sequence[str],
        seventeentrack_key: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        for secret in secrets:
            decode_secret(secret)  # a malformed secret is the operator's mistake: fail at start
        self.orders = orders
        self.secrets = tuple(secrets)
        self.seventeentrack_key = seventeentrack_key
        self.clock = clock
        # Redeliveries are answered from memory. An optimisation only: creation is idempotent
        # (signal-with-start) and the workflow de-duplicates facts by event id, so a restart
        # that forgets these ids, or two copies racing past this check, change no outcome.
        self.recent = wire.RecentIds()

    async def healthz(self) -> dict[str, str]:
        """Liveness: the server answers."""
        return {"status": "ok"}

    async def order_created(self, request: Request) -> JSONResponse:
        """An order was paid: start its workflow once, however often this is delivered."""

        async def handle(body: bytes, _webhook_id: str, hook_log: Any) -> JSONResponse:
            facts = wire.order_facts(body)
            delivery = await self.orders.create(facts)
            hook_log.info("order_hook", workflow_id=facts.workflow_id, delivery=delivery.value)
            return http.delivered(delivery, facts.workflow_id)

        return await self._signed(request, handle)

    async def marketplace_event(
        self, request: Request, marketplace: str, order_id: str
    ) -> JSONResponse:
        """A marketplace event for an order, kept until the order exists (``event_id``
        defaults to the ``webhook-id`` header)."""

        async def handle(body: bytes, webhook_id: str, hook_log: Any) -> JSONResponse:
            workflow_id = wire.workflow_id(marketplace, order_id)
            fact = wire.fact(body, webhook_id)
            delivery = await self.orders.send_fact(marketplace, order_id, fact)
            hook_log.info(
                "event_hook", workflow_id=workflow_id, kind=fact.kind.value, delivery=delivery.value
            )
            return http.delivered(delivery, workflow_id)

        return await self._signed(request, handle)

    async def seventeentrack_push(self, request: Request) -> JSONResponse:
        """A 17TRACK push (``sign`` header): its scans go to the order its ``tag`` names."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return http.refuse(413, "body_too_large", f"at most {MAX_BODY} bytes")
        if not self.seventeentrack_key:
            return http.refuse(401, "no_secret", "17TRACK pushes are not configured")
        signature = request.headers.get(SEVENTEENTRACK_SIGN_HEADER)
        if not verify_signature(body, signature, self.seventeentrack_key):
            log.warning("hook_refused", path=request.url.path, reason="bad_signature")
            return http.refuse(401, "bad_signature", "the sign header does not match the body")
        try:
            push = wire.parsed(body, parse_push)
        except wire.BodyError as refused:
            return http.refused_body(refused)
        except (ValueError, TypeError, AttributeError):
            # A scan the parser cannot read (a bad time, a list that is not one): refused, so
            # that 17TRACK's retries are not spent on a body that will never parse.
            problem = wire.FieldProblem(field="data.track_info", problem="not 17TRACK's shape")
            return http.refused_body(wire.invalid([problem]))
        order = await self._push_order(push)
        if order is None:
            reason = "neither the push's tag nor the number's hold names an order"
            return http.answer(202, wire.HookAnswer(status="ignored", reason=reason))
        workflow_id = wire.workflow_id(*order)
        facts = new_facts(push.record, ())  # the poller's conversion: one scan, one fact
        delivery = Delivery.ACCEPTED
        for fact in facts:
            delivery = await self.orders.send_fact(*order, fact)
        log.info("17track_push", workflow_id=workflow_id, facts=len(facts), delivery=delivery.value)
        if delivery is Delivery.ALREADY_PROCESSED:
            return http.delivered(delivery, workflow_id)
        answer = wire.HookAnswer(status="accepted", workflow_id=workflow_id, facts=len(facts))
        return http.answer(202, answer)

    async def _push_order(self, push: PushNotification) -> tuple[str, str] | None:
        """The order a push is about. A push is about a number: the order that holds the number
        now (R2) is its order; the tag (the order the number was registered for) serves when
        no order holds it, e.g. the number was withdrawn since, or the hold cannot be read. A
        tag naming another order than the holder is stale (the number changed hands)."""
        tagged = wire.order_of_tag(push.tag)
        record = push.record
        try:
            holder = await self.orders.holder_of(record.carrier, record.tracking_number)
        except RPCError as unreadable:
            log.warning("17track_push_holder_unknown", error=unreadable.message)
            holder = None
        held = wire.order_of_tag(holder) if holder else None
        if held is not None and held != tagged:
            log.info("17track_push_by_holder", workflow_id=holder, tagged=tagged is not None)
            return held
        return tagged

    async def _signed(self, request: Request, handle: _Handler) -> JSONResponse:
        """Verify the raw bytes (Standard Webhooks), answer a redelivery, else ``handle``."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return http.refuse(413, "body_too_large", f"at most {MAX_BODY} bytes")
        try:
            verify(request.headers, body, self.secrets, self.clock())
        except SignatureError as refused:
            log.warning("hook_refused", path=request.url.path, reason=refused.reason.value)
            return http.refuse(401, refused.reason.value, refused.detail)
        webhook_id = request.headers[ID_HEADER]
        seen = f"{request.url.path}|{webhook_id}"
        if seen in self.recent:
            return http.answer(200, wire.HookAnswer(status="duplicate"))
        hook_log = log.bind(webhook_id=webhook_id, path=request.url.path)
        try:
            answer = await handle(body, webhook_id, hook_log)
        except wire.BodyError as refused:
            hook_log.warning("hook_invalid", error=refused.refusal.error)
            return http.refused_body(refused)
        self.recent.add(seen)
        return answer


def create_app(
    orders: Orders,
    secrets: Sequence[str],
    *,
    seventeentrack_key: str | None,
    easypost_secret: str | None = None,
    clock: Callable[[], datetime] = now_utc,
) -> FastAPI:
    """The hook server over ``orders``, trusting hooks signed with any of ``secrets`` (rotation);
    EasyPost's claim events are taken when ``easypost_secret`` (its webhook secret) is given."""
    hooks = _Hooks(orders, secrets, seventeentrack_key, clock)
    easypost = EasyPostHook(orders, easypost_secret, MAX_BODY)
    app = FastAPI(
        title="parcelflow hooks",
        version="1",
        description="Signed webhooks (Standard Webhooks; 17TRACK's sign header; EasyPost's "
        "X-Hmac-Signature) that start and feed order and claim workflows. Every refusal is a "
        "JSON 4xx naming the problem, and a refused hook starts or changes nothing.",
    )
    app.add_api_route("/healthz", hooks.healthz, methods=["GET"], tags=["ops"])
    ended = "Already processed: the order's workflow has ended, nothing changed."
    _post(app, "/hooks/orders", hooks.order_created, ended, http.ORDER_HOOK_BODY)
    events = "/hooks/marketplace/{marketplace}/orders/{order_id}/events"
    _post(app, events, hooks.marketplace_event, ended, http.FACT_BODY)
    _post(app, "/hooks/17track", hooks.seventeentrack_push, ended, None)
    claim_ended = "Already processed: the claim's workflow has ended, nothing changed."
    _post(app, "/hooks/easypost", easypost.claim_event, claim_ended, None)
    app.add_exception_handler(HTTPException, http.http_refusal)
    app.add_exception_handler(RequestValidationError, http.request_refusal)
    app.add_middleware(http.Unavailable)
    http.document_bodies(app)
    return app


def _post(
    app: FastAPI,
    path: str,
    endpoint: Callable[..., Awaitable[JSONResponse]],
    already: str,
    body: dict[str, Any] | None,
) -> None:
    app.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        tags=["hooks"],
        status_code=202,
        response_model=wire.HookAnswer,
        responses={200: {"model": wire.HookAnswer, "description": already}, **http.REFUSALS},
        openapi_extra=body,
    )


async def _serve(settings: HookSettings, temporal: TemporalSettings) -> int:
    try:
        client = await connect(temporal)
    except Exception as error:  # noqa: BLE001 - any failure to connect means "unreachable".
        log.error("temporal unreachable", address=temporal.address, error=str(error))  # noqa: TRY400
        return EXIT_UNREACHABLE
    app = create_app(
        Orders(client, temporal.task_queue),
        settings.secrets,
        seventeentrack_key=settings.seventeentrack_token,
        easypost_secret=settings.easypost_webhook_secret,
    )
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning")
    log.info("hooks listening", host=settings.host, port=settings.port)
    await uvicorn.Server(config).serve()  # returns on SIGINT or SIGTERM
    return 0


def _settings_from_env() -> HookSettings:
    settings = HookSettings.from_env()
    if not settings.secrets:
        raise InvalidInput("PARCELFLOW_WEBHOOK_SECRETS", "must name at least one secret")
    for secret in settings.secrets:
        decode_secret(secret)
    return settings


def main() -> None:
    """``python -m workers.hooks``: serve the hooks until SIGINT or SIGTERM."""
    configure_logging()
    try:
        settings = _settings_from_env()
    except (InvalidInput, ValidationError) as error:
        # The operator needs the message, not a traceback.
        log.error("bad configuration", problem=str(error))  # noqa: TRY400
        exit_process(EXIT_BAD_CONFIG)
    exit_process(asyncio.run(_serve(settings, TemporalSettings.from_env())))


if __name__ == "__main__":
    main()
