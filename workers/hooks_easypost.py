"""The hook server's EasyPost endpoint: signed claim Events in, claim workflows told."""

from __future__ import annotations

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from adapters.easypost.responses import carrier_answer
from adapters.easypost.webhook import SIGNATURE_HEADER, parse_event, verify_signature
from workers import hooks_http as http
from workers import hooks_wire as wire
from workers.orders import Orders
from workflows.carrier_claim import ClaimStatusPush

log = structlog.get_logger("parcelflow.hooks")


class EasyPostHook:
    """``POST /hooks/easypost``: an EasyPost Event signed with the webhook ``secret``."""

    def __init__(self, orders: Orders, secret: str | None, max_body: int) -> None:
        self.orders = orders
        self.secret = secret
        self.max_body = max_body
        # Redeliveries answered from memory; an optimisation only: the claim workflow takes the
        # same status twice as once, so a restart that forgets these ids changes no outcome.
        self.recent = wire.RecentIds()

    async def claim_event(self, request: Request) -> JSONResponse:
        """A claim's status changed at EasyPost: the claim workflow of its parcel is told."""
        body = await request.body()
        if len(body) > self.max_body:
            return http.refuse(413, "body_too_large", f"at most {self.max_body} bytes")
        if not self.secret:
            return http.refuse(401, "no_secret", "EasyPost webhooks are not configured")
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return http.refuse(401, "missing_header", f"missing {SIGNATURE_HEADER}")
        if not verify_signature(body, signature, self.secret):
            log.warning("hook_refused", path=request.url.path, reason="bad_signature")
            detail = f"{SIGNATURE_HEADER} does not match the body and the webhook secret"
            return http.refuse(401, "bad_signature", detail)
        try:
            event = wire.parsed(body, parse_event)
        except wire.BodyError as refused:
            return http.refused_body(refused)
        if event.event_id in self.recent:
            return http.answer(200, wire.HookAnswer(status="duplicate"))
        hook_log = log.bind(event_id=event.event_id, path=request.url.path)
        if event.claim is None:
            reason = f"a {event.description} event is not a claim status change"
            self.recent.add(event.event_id)
            return http.answer(202, wire.HookAnswer(status="ignored", reason=reason))
        claim = event.claim
        push = ClaimStatusPush(
            event_id=event.event_id,
            claim_ref=claim.claim_id,
            status=claim.status,
            answer=carrier_answer(claim),
        )
        routed = await self.orders.push_claim_status(claim.tracking_code, push)
        if routed is None:
            reason = f"no claim of ours is about parcel {claim.tracking_code}"
            hook_log.info("easypost_hook", delivery="ignored", claim_ref=claim.claim_id)
            return http.answer(202, wire.HookAnswer(status="ignored", reason=reason))
        delivery, workflow_id = routed
        hook_log.info(
            "easypost_hook",
            workflow_id=workflow_id,
            claim_ref=claim.claim_id,
            status=claim.status,
            delivery=delivery.value,
        )
        self.recent.add(event.event_id)
        return http.delivered(delivery, workflow_id)
