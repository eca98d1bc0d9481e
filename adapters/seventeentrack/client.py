"""The thin httpx transport for 17TRACK v2.2: batches, and retries throttling and outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from adapters.seventeentrack.requests import (
    HttpRequest,
    Pair,
    build_gettrackinfo,
    build_register,
    build_stoptrack,
)
from adapters.seventeentrack.responses import (
    Json,
    Rejection,
    parse_envelope,
    parse_rejections,
    parse_track_info,
)
from adapters.seventeentrack.units import (
    API_MAX_BATCH,
    BASE_URL,
    ERR_QUOTA_EXHAUSTED,
    MAX_REQUESTS_PER_SECOND,
)
from domain.errors import PermanentPortError, TransientPortError
from domain.polling import MAX_BATCH, batches
from domain.tracking import CarrierRecord

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class QuotaExhausted(PermanentPortError):
    """17TRACK has no registration quota left: numbers are not followed until it is topped up."""


class RequestPacer:
    """At most ``rate`` requests a second from this client (17TRACK: 3 a second per key, more
    answers 429): each request waits for its turn, in the order asked, a tenth of a gap more
    than the rate allows so that network jitter cannot push two into one second."""

    MARGIN = 1.1

    def __init__(self, rate: float | None, sleep: Sleep, clock: Clock) -> None:
        self._gap = self.MARGIN / rate if rate else 0.0
        self._sleep = sleep
        self._clock = clock
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def turn(self) -> None:
        """Wait until this request may be sent."""
        if not self._gap:
            return
        async with self._lock:
            now = self._clock()
            wait = self._next - now
            self._next = max(now, self._next) + self._gap
        if wait > 0:
            await self._sleep(wait)


class SeventeenTrackClient:
    """17TRACK (or its simulator) as the ``CarrierTracking`` port.

    Each call is split into batches of ``batch_size`` numbers (the API's 40 by default, never
    more than R12's 50), and requests are paced to ``max_rate`` a second (17TRACK's documented
    3 per key). Throttling (429), server errors (5xx) and network failures are retried
    ``attempts`` times with exponential backoff, honouring ``Retry-After``; then the call raises
    ``TransientPortError``. Refusals (4xx, bad token) raise ``PermanentPortError`` at once, and
    a registration refused for want of quota raises ``QuotaExhausted``.
    """

    def __init__(
        self,
        base_url: str = BASE_URL,
        token: str = "",
        http: httpx.AsyncClient | None = None,
        *,
        batch_size: int = API_MAX_BATCH,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_rate: float | None = MAX_REQUESTS_PER_SECOND,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            msg = f"batch_size must be between 1 and {MAX_BATCH}, got {batch_size}"
            raise ValueError(msg)
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.batch_size = batch_size
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._pacer = RequestPacer(max_rate, sleep, clock)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0))

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> SeventeenTrackClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        """Start following these numbers; a rejected number shows up as unknown on lookup."""
        await self.register_numbers(numbers)

    async def register_tagged(self, numbers: list[tuple[str, str]], tags: list[str]) -> None:
        """Start following these numbers, each with its tag (the order's workflow id), which
        17TRACK echoes in the number's pushes and look-ups."""
        await self.register_numbers(numbers, tags)

    async def register_numbers(
        self, numbers: Sequence[Pair], tags: Sequence[str | None] | None = None
    ) -> list[Rejection]:
        """Register ``numbers`` and return those 17TRACK rejected (already registered included);
        raises ``QuotaExhausted`` when it refused any for want of quota."""
        if tags is not None and len(tags) != len(numbers):
            msg = f"{len(tags)} tags for {len(numbers)} numbers"
            raise ValueError(msg)
        rejected: list[Rejection] = []
        start = 0
        for batch in batches(numbers, self.batch_size):
            labels = None if tags is None else list(tags[start : start + len(batch)])
            start += len(batch)
            data = await self._call(build_register(batch, self.token, labels))
            rejected.extend(parse_rejections(data))
        if short := [r.number for r in rejected if r.code == ERR_QUOTA_EXHAUSTED]:
            msg = (
                f"17TRACK has no registration quota left ({len(short)} numbers not followed,"
                f" e.g. {short[0]}): top the quota up in the 17TRACK dashboard"
            )
            raise QuotaExhausted(msg)
        return rejected

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        """The current record of each number, in the order asked."""
        records: list[CarrierRecord] = []
        for batch in batches(numbers, self.batch_size):
            data = await self._call(build_gettrackinfo(batch, self.token))
            records.extend(parse_track_info(data, batch))
        return records

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        """Stop following these numbers."""
        for batch in batches(numbers, self.batch_size):
            await self._call(build_stoptrack(batch, self.token))

    async def _call(self, request: HttpRequest) -> Json:
        last = TransientPortError("17TRACK was not called")
        for attempt in range(1, self.attempts + 1):
            retry_after: float | None = None
            await self._pacer.turn()
            try:
                response = await self._http.request(
                    request.method,
                    f"{self.base_url}/{request.path}",
                    json=request.json,
                    headers=request.headers,
                )
                return parse_envelope(response.status_code, _json_or_none(response))
            except TransientPortError as exc:
                last = exc
                retry_after = _retry_after(response)
            except httpx.TransportError as exc:
                last = TransientPortError(f"17TRACK unreachable: {exc!r}")
            if attempt < self.attempts:
                await self._sleep(self._delay(attempt, retry_after))
        raise TransientPortError(f"{last} after {self.attempts} attempts") from last

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay: float = self.backoff * 2.0 ** (attempt - 1)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_backoff)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        if response.status_code < 400:
            msg = f"17TRACK answered HTTP {response.status_code} without JSON"
            raise PermanentPortError(msg) from None
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
