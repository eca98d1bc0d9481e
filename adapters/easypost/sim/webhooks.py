"""The simulator's webhooks: a signed EasyPost Event POSTed whenever a claim's status changes.

The Event's shape is EasyPost's (tests/contracts/easypost/webhook_event_tracker_updated.json),
its ``result`` the Claim; the body is compact JSON signed as EasyPost signs
(``adapters.easypost.webhook.sign``, checked against EasyPost's own fixture). A delivery that
is not answered 2xx is tried again, ``attempts`` times in all, as EasyPost retries.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.easypost.sim.state import SimClaim
from adapters.easypost.sim.wire import claim_json, timestamp
from adapters.easypost.webhook import SIGNATURE_HEADER, sign

EVENT_OF_STATUS = {
    "submitted": "claim.submitted",
    "in_review": "claim.updated",
    "needs_action": "claim.updated",
    "approved": "claim.approved",
    "approved_partial": "claim.approved",
    "rejected": "claim.rejected",
    "cancelled": "claim.cancelled",
}
"""The Event each new status raises (the singular spelling; the Events page also shows
``claims.*``: the hook server takes both)."""


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver an Event: the hook's HTTP status, or why there was none."""

    event_id: str
    description: str
    claim_id: str
    attempt: int
    status: int | None
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        """The attempt as ``GET /sim/webhooks`` shows it."""
        return dict(self.__dict__)


def claim_event(claim: SimClaim, previous: str | None, url: str) -> dict[str, Any]:
    """The Event of ``claim`` having just moved from ``previous`` to its current status."""
    at = timestamp(claim.current.at)
    return {
        "description": EVENT_OF_STATUS.get(claim.current.status, "claim.updated"),
        "mode": "test",
        "previous_attributes": {"status": previous} if previous else {},
        "created_at": at,
        "pending_urls": [url],
        "completed_urls": [],
        "updated_at": at,
        "id": f"evt_{uuid.uuid4().hex}",
        "user_id": "user_sim",
        "status": "pending",
        "object": "Event",
        "result": claim_json(claim),
    }


class WebhookSender:
    """POSTs each claim status change to ``url`` (none: sends nothing), signed with ``secret``;
    keeps every attempt."""

    def __init__(
        self, url: str | None, secret: str, *, attempts: int = 3, timeout: float = 5.0
    ) -> None:
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.timeout = timeout
        self.deliveries: list[WebhookDelivery] = []
        self._sending: set[asyncio.Task[bool]] = set()

    async def claim_changed(self, claim: SimClaim, *, wait: bool = False) -> SimClaim:
        """Deliver the Event of ``claim`` having just taken its current status (until a 2xx or
        out of attempts), when there is a URL; ``claim``. In the background, as EasyPost
        does, unless ``wait``: the admin API waits, so a test knows the hook was told."""
        if self.url is not None:
            previous = claim.history[-2].status if len(claim.history) > 1 else None
            sending = asyncio.create_task(
                self.deliver(self.url, claim_event(claim, previous, self.url))
            )
            self._sending.add(sending)
            sending.add_done_callback(self._sending.discard)
            if wait:
                await sending
        return claim

    async def deliver(self, url: str, event: dict[str, Any]) -> bool:
        """POST ``event`` to ``url``, signed; whether the hook answered 2xx."""
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, self.secret)}
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for attempt in range(1, self.attempts + 1):
                status, error = None, ""
                try:
                    status = (await client.post(url, content=body, headers=headers)).status_code
                except httpx.HTTPError as failure:
                    error = f"{type(failure).__name__}: {failure}"
                claim_id = event["result"]["id"]
                self.deliveries.append(
                    WebhookDelivery(
                        event["id"], event["description"], claim_id, attempt, status, error
                    )
                )
                if status is not None and 200 <= status < 300:
                    return True
                await asyncio.sleep(0.1 * attempt)
        return False
