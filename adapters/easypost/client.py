"""The EasyPost Claims API client: a thin httpx transport over the pure builders and parsers.

Filing a claim has money consequences and EasyPost documents no idempotency header, so the
client reconciles by READING: before every filing it lists the claims EasyPost holds for the
parcel's tracking code, and a claim that is not cancelled is the one already filed (EasyPost
keeps one per insured parcel). After a filing whose outcome is unknown (timeout after
sending, dropped connection, 5xx) it reads again: the claim is there, or the call raises
``TransientPortError`` and the activity's retry reads once more before resending. A refusal
of the filing (4xx) is also checked against the list: another attempt may have landed first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import httpx
import structlog

from adapters.easypost import requests as build
from adapters.easypost import responses as parse
from adapters.easypost.units import API_ROOT
from domain.carriers import parse_carrier
from domain.claims import CarrierAnswer, FileClaim
from domain.errors import (
    AmbiguousWriteError,
    PermanentPortError,
    PortError,
    TransientPortError,
)

Sleep = Callable[[float], Awaitable[None]]
log = structlog.get_logger("parcelflow.easypost")


class _Refused(Exception):
    """EasyPost answered a filing with an error it did not execute (4xx, 429)."""

    def __init__(self, error: parse.ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def carrier_key(carrier: str) -> str:
    """One spelling per carrier: our code when we know it, else the folded text."""
    known = parse_carrier(carrier)
    return known.value if known else carrier.strip().lower()


class EasyPostClaims:
    """``domain.ports.CarrierClaims`` over EasyPost's Claims API (or its simulator).

    ``carriers`` are the carriers whose parcels are insured through EasyPost: their claims
    are filed by API, all others go to an operator. ``contact_email`` is the seller's claims
    address, which EasyPost requires. Reads are retried ``attempts`` times on throttling,
    server errors and network failures (honouring ``Retry-After``); then the call raises
    ``TransientPortError``. Refusals raise ``PermanentPortError`` with EasyPost's message.
    """

    def __init__(
        self,
        base_url: str = API_ROOT,
        api_key: str = "",
        *,
        carriers: Iterable[str],
        contact_email: str,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        lookback: timedelta = timedelta(days=90),
        max_pages: int = 20,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = httpx.BasicAuth(api_key, "")  # the key is the user name, no password
        self._carriers = frozenset(carrier_key(c) for c in carriers if c.strip())
        self._contact_email = contact_email
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self._timeout = timeout
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._lookback = lookback
        self._max_pages = max_pages
        self._clock = clock

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    def supports_api(self, carrier: str) -> bool:
        """Whether ``carrier``'s parcels are claimed through EasyPost."""
        return carrier_key(carrier) in self._carriers

    async def file_claim(self, claim: FileClaim) -> str:
        """File a loss claim for the declared value, once per parcel: EasyPost's claim id."""
        self._require(claim.carrier)
        request = build.build_create(claim, self._contact_email)
        if (existing := await self.find_claim(claim.tracking_number)) is not None:
            log.info("claim already filed", claim_id=existing.claim_id, key=claim.idempotency_key)
            return existing.claim_id
        try:
            filed = await self._create(request)
        except AmbiguousWriteError as lost:
            if (landed := await self.find_claim(claim.tracking_number)) is not None:
                log.info("claim landed unanswered", claim_id=landed.claim_id, error=str(lost))
                return landed.claim_id
            msg = f"{lost}; the claim is not listed, a retry reads again before resending"
            raise TransientPortError(msg) from lost
        except _Refused as refused:
            error = refused.error
            if error.status in {409, 422} and (
                (first := await self.find_claim(claim.tracking_number)) is not None
            ):
                log.info("claim filed by an earlier attempt", claim_id=first.claim_id)
                return first.claim_id
            raise error.port_error(f"refused the claim on {claim.tracking_number}") from refused
        log.info("claim filed", claim_id=filed.claim_id, key=claim.idempotency_key)
        return filed.claim_id

    async def claim_status(self, carrier: str, claim_ref: str) -> CarrierAnswer:
        """Paid (with the approved amount), rejected (with EasyPost's reason) or pending."""
        self._require(carrier)
        body = await self._read(build.build_retrieve(claim_ref), f"claim {claim_ref}")
        return parse.carrier_answer(parse.parse_claim(body))

    async def find_claim(self, tracking_code: str) -> parse.ClaimRecord | None:
        """The active claim EasyPost holds for ``tracking_code`` (the earliest, if several).

        The list filters by date, not by tracking code: pages created within ``lookback``
        are read, newest first. A list too long to read in ``max_pages`` pages raises
        ``PermanentPortError``: without knowing, filing again could claim twice.
        """
        wanted = tracking_code.strip().upper()
        since = self._clock() - self._lookback
        found: parse.ClaimRecord | None = None
        before_id: str | None = None
        for _ in range(self._max_pages):
            page = await self._read(build.build_list(since, before_id), "claim list")
            claims, has_more = parse.parse_claim_page(page)
            for record in claims:
                if record.active and record.tracking_code.strip().upper() == wanted:
                    found = record  # newest first: the last match is the earliest
            if not (has_more and claims):
                return found
            before_id = claims[-1].claim_id
        msg = f"more than {self._max_pages} pages of claims: cannot rule out one on {tracking_code}"
        raise PermanentPortError(msg)

    def _require(self, carrier: str) -> None:
        if not self.supports_api(carrier):
            raise PermanentPortError(f"{carrier} parcels are not claimed through EasyPost")

    async def _send(self, request: build.HttpRequest) -> httpx.Response:
        return await self._http.request(
            request.method,
            self.base_url + request.path,
            json=request.json,
            params=request.params,
            auth=self._auth,
            timeout=self._timeout,
        )

    async def _read(self, request: build.HttpRequest, what: str) -> Any:
        """A GET: safe to repeat, so retried on throttling, 5xx and network failures."""
        last: TransientPortError | None = None
        for attempt in range(1, self._attempts + 1):
            retry_after: float | None = None
            try:
                response = await self._send(request)
            except httpx.TransportError as exc:
                last = TransientPortError(f"EasyPost {what}: unreachable ({exc!r})")
            else:
                if response.is_success:
                    try:
                        return response.json()
                    except ValueError:
                        last = TransientPortError(f"EasyPost {what}: the answer is not JSON")
                else:
                    error = _error(response)
                    port_error = error.port_error(what)
                    if not isinstance(port_error, TransientPortError):
                        raise port_error
                    last, retry_after = port_error, error.retry_after
            if attempt < self._attempts:
                await self._sleep(self._delay(attempt, retry_after))
        assert last is not None  # noqa: S101 - the loop ran at least once
        raise TransientPortError(f"{last} after {self._attempts} attempts") from last

    async def _create(self, request: build.HttpRequest) -> parse.ClaimRecord:
        """The POST, resent only while EasyPost surely did not execute it (throttled, or the
        connection never opened); any later failure is ambiguous."""
        not_sent: PortError = TransientPortError("EasyPost was not called")
        for attempt in range(1, self._attempts + 1):
            retry_after: float | None = None
            try:
                response = await self._send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                not_sent = TransientPortError(f"EasyPost unreachable: {exc!r}")
            except httpx.TransportError as exc:
                raise AmbiguousWriteError(f"EasyPost filing: no answer ({exc!r})") from exc
            else:
                if response.status_code >= 500:
                    msg = f"EasyPost filing: HTTP {response.status_code}, outcome unknown"
                    raise AmbiguousWriteError(msg)
                if response.is_success:
                    try:
                        return parse.parse_claim(response.json())
                    except (ValueError, PermanentPortError) as exc:
                        msg = "EasyPost filing: accepted without a readable claim"
                        raise AmbiguousWriteError(msg) from exc
                error = _error(response)
                if error.status != 429:
                    raise _Refused(error)
                not_sent, retry_after = error.port_error("filing"), error.retry_after
            if attempt < self._attempts:
                await self._sleep(self._delay(attempt, retry_after))
        raise not_sent

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay: float = self._backoff * 2.0 ** (attempt - 1)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self._max_backoff)


def _error(response: httpx.Response) -> parse.ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return parse.parse_error(response.status_code, body, response.headers.get("Retry-After"))
