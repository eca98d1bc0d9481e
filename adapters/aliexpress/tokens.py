"""The seller's AliExpress tokens: who holds them, when they refresh, and the refresh answer.

An access token lasts ``expires_in`` seconds (30 days in the documented sample); the refresh
token lasts ``refresh_expires_in`` (about 60). ``AccessTokens`` refreshes through the IOP
endpoint ``/auth/token/refresh`` a margin before the access token expires, and once after the
gateway refuses it (``IllegalAccessToken``), one refresh at a time. No token is ever part of a
repr, a log event or an error message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog

from adapters.aliexpress.responses import error_from
from adapters.aliexpress.signing import SIGN_METHOD, sign
from domain.errors import PermanentPortError, PortError, TransientPortError

REFRESH_PATH = "/auth/token/refresh"
REST_PREFIX = "/rest"
"""REST-style APIs are posted to ``{base}/rest{path}`` (the IOP docs' PHP sample)."""
EXPIRED_ACCESS_CODES = frozenset({"IllegalAccessToken", "27"})
"""Answers meaning "this access token is invalid or expired" (IOP; TOP's 27 "Invalid session")."""
REFUSED_REFRESH_CODES = frozenset({"IllegalRefreshToken"})
"""The IOP answer to a refresh token that is invalid or expired."""
DEFAULT_MARGIN = timedelta(minutes=10)

log = structlog.get_logger("parcelflow.aliexpress")


class RefreshTokenExpired(PermanentPortError):
    """The refresh token has expired or was refused: only the seller's new authorisation helps.
    ``code`` is the platform's answer (``IllegalRefreshToken``)."""

    def __init__(self, detail: str, *, code: str = "") -> None:
        self.detail = detail
        self.code = code
        super().__init__(
            "the AliExpress refresh token has expired: authorise the app again and set"
            " PARCELFLOW_ALIEXPRESS_ACCESS_TOKEN, PARCELFLOW_ALIEXPRESS_REFRESH_TOKEN and"
            f" PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT from the new grant ({detail})"
        )


@dataclass(frozen=True)
class TokenGrant:
    """What a refresh returned: a new access token, perhaps a new refresh token, their expiries."""

    access_token: str = field(repr=False)
    expires_at: datetime | None
    refresh_token: str | None = field(repr=False)
    refresh_expires_at: datetime | None


def _moment(body: Mapping[str, Any], at: str, within: str, now: datetime) -> datetime | None:
    """The absolute ``at`` (epoch ms), else ``now`` + the relative ``within`` (s), else None."""
    try:
        if body.get(at) not in (None, ""):
            return datetime.fromtimestamp(int(str(body[at])) / 1000, UTC)
        if body.get(within) not in (None, ""):
            return now + timedelta(seconds=int(str(body[within])))
    except ValueError as exc:
        raise TransientPortError(f"token refresh: {at}/{within} is not a number") from exc
    return None


def parse_refresh(body: object, now: datetime) -> TokenGrant:
    """The answer of ``/auth/token/refresh``: the grant, or the mapped error raised."""
    if not isinstance(body, Mapping):
        raise TransientPortError("token refresh: the answer is not a JSON object")
    code = str(body.get("code", "0"))
    if code in REFUSED_REFRESH_CODES:
        raise RefreshTokenExpired(f"{code}: {body.get('message') or 'refused'}", code=code)
    if code != "0":
        raise error_from(body)
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise TransientPortError("token refresh: the answer carries no access token")
    refresh = body.get("refresh_token")
    return TokenGrant(
        access_token=access,
        expires_at=_moment(body, "expire_time", "expires_in", now),
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        refresh_expires_at=_moment(body, "refresh_token_valid_time", "refresh_expires_in", now),
    )


def refused_access(body: object) -> bool:
    """Whether a gateway answer says the access token is invalid or expired (either shape)."""
    if not isinstance(body, Mapping):
        return False
    error = body.get("error_response", body)
    if not isinstance(error, Mapping):
        return False
    codes = {str(error.get("code", "")), str(error.get("sub_code") or "")}
    return bool(codes & EXPIRED_ACCESS_CODES)


def refresh_form(
    *, app_key: str, app_secret: str, refresh_token: str, timestamp_ms: int
) -> dict[str, str]:
    """The signed form of a refresh (REST style: the path prefixes the signed text)."""
    form = {
        "app_key": app_key,
        "timestamp": str(timestamp_ms),
        "sign_method": SIGN_METHOD,
        "refresh_token": refresh_token,
    }
    form["sign"] = sign(app_secret, REFRESH_PATH, form)
    return form


class TokenState(StrEnum):
    """Where the tokens stand, as a health check reports it."""

    OK = "ok"
    """The access token works (or nothing says otherwise)."""
    REFRESHING = "refreshing"
    """A refresh is under way, or the last one failed for a reason that may pass (tried again)."""
    EXPIRED_REFRESH_TOKEN = "expired_refresh_token"  # noqa: S105 - a state, not a token.
    """The platform refused the refresh token: only a new authorisation helps."""


@dataclass(frozen=True)
class TokenStatus:
    """What an operator may know about the tokens (never the tokens themselves)."""

    access_expires_at: datetime | None
    refresh_expires_at: datetime | None
    can_refresh: bool
    refreshes: int
    problem: str | None
    state: TokenState = TokenState.OK
    code: str | None = None
    """The platform's code behind ``problem`` (``IllegalRefreshToken``), if it gave one."""

    def line(self) -> str:
        """One line for a log or a health report."""
        if self.problem:
            return f"aliexpress token: {self.problem}"
        until = self.access_expires_at.isoformat() if self.access_expires_at else "unknown"
        refresh = "refreshable" if self.can_refresh else "no refresh token"
        return f"aliexpress token: {self.state.value}, access token until {until}, {refresh}"

    def as_json(self) -> dict[str, Any]:
        """The status for a health report: state, code, problem, expiries (no token)."""
        return {
            "state": self.state.value,
            "code": self.code,
            "problem": self.problem,
            "access_expires_at": _iso(self.access_expires_at),
            "refresh_expires_at": _iso(self.refresh_expires_at),
            "can_refresh": self.can_refresh,
            "refreshes": self.refreshes,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


Refresher = Callable[[str], Awaitable[TokenGrant]]


class AccessTokens:
    """The seller's access token, its expiry and its refresh token, refreshed one at a time."""

    def __init__(
        self,
        access_token: str,
        *,
        refresher: Refresher,
        clock: Callable[[], datetime],
        refresh_token: str | None = None,
        expires_at: datetime | None = None,
        margin: timedelta = DEFAULT_MARGIN,
    ) -> None:
        self._access = access_token
        self._refresh = refresh_token or None
        self._expires_at = expires_at
        self._refresh_expires_at: datetime | None = None
        self._refresher = refresher
        self._clock = clock
        self._margin = margin
        self._lock = asyncio.Lock()
        self._dead: RefreshTokenExpired | None = None
        self._refreshing = False
        self._failure: str | None = None
        """The last refresh's failure that may pass (redacted), until a refresh succeeds."""
        self.refreshes = 0
        """How many refreshes succeeded."""

    def __repr__(self) -> str:
        return f"AccessTokens({self.status().line()!r})"

    __str__ = __repr__

    @property
    def refreshable(self) -> bool:
        """Whether a refresh token was ever configured (a dead one included)."""
        return self._refresh is not None

    def status(self) -> TokenStatus:
        """The operator's view: expiries, whether refreshing works, the problem if any."""
        state, problem, code = TokenState.OK, None, None
        if self._dead is not None:
            state, problem = TokenState.EXPIRED_REFRESH_TOKEN, str(self._dead)
            code = self._dead.code or None
        elif self._refreshing or self._failure is not None:
            state = TokenState.REFRESHING
            if self._failure is not None:
                problem = f"the last token refresh failed, tried again: {self._failure}"
        return TokenStatus(
            access_expires_at=self._expires_at,
            refresh_expires_at=self._refresh_expires_at,
            can_refresh=self._refresh is not None and self._dead is None,
            refreshes=self.refreshes,
            problem=problem,
            state=state,
            code=code,
        )

    def redact(self, text: str) -> str:
        """``text`` with any token in it replaced (for messages that quote the platform)."""
        for secret in (self._access, self._refresh):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _due(self) -> bool:
        if self._refresh is None or self._dead is not None or self._expires_at is None:
            return False
        return self._clock() >= self._expires_at - self._margin

    def _expired(self) -> bool:
        return self._expires_at is not None and self._clock() >= self._expires_at

    async def current(self) -> str:
        """The token to sign the next call with, refreshed first when it is about to expire."""
        if self._due():
            async with self._lock:
                if self._due():  # Another caller may have refreshed while this one waited.
                    await self._renew(required=self._expired())
        return self._access

    async def after_refusal(self, used: str) -> str:
        """The gateway refused ``used``: a fresh token (refreshed once, by one caller only)."""
        async with self._lock:
            if self._dead is not None:
                raise RefreshTokenExpired(self._dead.detail, code=self._dead.code)
            if used == self._access:
                await self._renew(required=True)
        return self._access

    async def _renew(self, *, required: bool) -> None:
        """Refresh now. Unless ``required`` (the token is expired or refused), a failure leaves
        the still valid token in use, and a later call tries again."""
        if self._refresh is None:
            return
        self._refreshing = True
        try:
            grant = await self._refresher(self._refresh)
        except PortError as error:
            failure = error
        else:
            self._apply(grant)
            return
        finally:
            self._refreshing = False
        if isinstance(failure, RefreshTokenExpired):
            self._dead = failure
            log.error("aliexpress refresh token expired", problem=str(failure), code=failure.code)
        else:
            self._failure = self.redact(str(failure))
            log.warning("aliexpress token refresh failed", error=self._failure)
        if required:
            raise failure

    def _apply(self, grant: TokenGrant) -> None:
        self._access = grant.access_token
        self._refresh = grant.refresh_token or self._refresh
        self._expires_at = grant.expires_at
        self._refresh_expires_at = grant.refresh_expires_at or self._refresh_expires_at
        self._failure = None
        self.refreshes += 1
        log.info(
            "aliexpress access token refreshed",
            expires_at=grant.expires_at.isoformat() if grant.expires_at else None,
        )
