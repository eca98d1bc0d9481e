"""The simulated platform's grants: access tokens that expire by its clock, and refresh tokens."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.platform_sim.rules import SimRefusal

ACCESS_TTL = timedelta(days=30)
"""``expires_in`` 2592000 s in the documented refresh answer."""
REFRESH_TTL = timedelta(days=60)
"""``refresh_expires_in`` of about 60 days in the same answer."""


@dataclass(frozen=True)
class SimGrant:
    """One authorisation or refresh: the tokens and when each stops working."""

    access_token: str
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime

    def as_json(self, now: datetime, request_id: str) -> dict[str, Any]:
        """The documented answer of ``/auth/token/refresh`` (times in epoch ms, spans in s)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expire_time": int(self.expires_at.timestamp() * 1000),
            "refresh_token_valid_time": int(self.refresh_expires_at.timestamp() * 1000),
            "expires_in": int((self.expires_at - now).total_seconds()),
            "refresh_expires_in": int((self.refresh_expires_at - now).total_seconds()),
            "account_platform": "seller_center",
            "sp": "ae",
            "code": "0",
            "request_id": request_id,
        }


class SimTokens:
    """Which tokens the platform knows. With ``open_access`` (the default) a token it never
    issued is accepted and never expires, as before tokens were simulated; a token it issued is
    refused from its expiry on, either way."""

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        open_access: bool = True,
        access_ttl: timedelta = ACCESS_TTL,
    ) -> None:
        self._now = now
        self.open_access = open_access
        self.access_ttl = access_ttl
        """How long an access token issued by a refresh lasts."""
        self._access: dict[str, datetime] = {}
        self._refresh: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.refreshes = 0
        """How many refreshes the platform granted."""

    def grant(
        self, *, access_ttl: timedelta | None = None, refresh_ttl: timedelta = REFRESH_TTL
    ) -> SimGrant:
        """The seller authorises the app: a fresh access token and refresh token."""
        now = self._now()
        return self._issue(now + (access_ttl or self.access_ttl), now + refresh_ttl)

    def _issue(self, expires_at: datetime, refresh_expires_at: datetime) -> SimGrant:
        found = SimGrant(
            f"sim-at-{secrets.token_hex(12)}",
            expires_at,
            f"sim-rt-{secrets.token_hex(12)}",
            refresh_expires_at,
        )
        with self._lock:
            self._access[found.access_token] = expires_at
            self._refresh[found.refresh_token] = refresh_expires_at
        return found

    def accepts(self, access_token: str) -> bool:
        """Whether a call signed with ``access_token`` may run now."""
        with self._lock:
            expires_at = self._access.get(access_token)
        if expires_at is None:
            return self.open_access
        return self._now() < expires_at

    def expire(self, *, access: bool = True, refresh: bool = True) -> int:
        """Every access token (``access``) and refresh token (``refresh``) issued so far stops
        working now, as when the grant has run out; how many tokens this ended."""
        now = self._now()
        chosen = [
            held for held, wanted in ((self._access, access), (self._refresh, refresh)) if wanted
        ]
        ended = 0
        with self._lock:
            for held in chosen:
                for token, expires_at in held.items():
                    if expires_at > now:
                        held[token] = now
                        ended += 1
        return ended

    def refresh(self, refresh_token: str) -> SimGrant:
        """A new access token and a new refresh token (the old refresh token stops working; the
        old access token keeps working until its own expiry). The refresh token's expiry is not
        extended: only a new authorisation does that."""
        with self._lock:
            refresh_expires_at = self._refresh.get(refresh_token)
            if refresh_expires_at is None or self._now() >= refresh_expires_at:
                raise SimRefusal(
                    "IllegalRefreshToken", "The specified refresh token is invalid or expired"
                )
            del self._refresh[refresh_token]
            self.refreshes += 1
        return self._issue(self._now() + self.access_ttl, refresh_expires_at)
