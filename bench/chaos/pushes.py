"""The carrier simulator's pushes in a chaos run: the main way scans reach orders, with faults.

Every ``every`` seconds the simulator's due pushes (one per number with scans not pushed yet,
each carrying the number's whole ``track_info``, as 17TRACK's do) are posted, signed, to the
hook server. A push the hook server does not take (5xx during a server outage) is posted
again in the next round, as 17TRACK retries. Seeded faults, each drawn with ``rate``:

- dropped: the simulator counts it as pushed and nobody receives it: only the tracking
  poller (the fallback) can bring its scans;
- duplicated: posted twice at once;
- reordered: posted, then the number's previous push (an older snapshot) posted after it;
- delayed: held back a few seconds, its number's later pushes waiting behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from adapters import carrier_sim
from adapters.carrier_sim.protocol import due_pushes
from adapters.seventeentrack.units import SIGN_HEADER
from adapters.seventeentrack.webhook import sign


class PushFault(StrEnum):
    """What befalls one push."""

    DROPPED = "dropped"
    DUPLICATED = "duplicated"
    REORDERED = "reordered"
    DELAYED = "delayed"


@dataclass
class FaultyPushes:
    """Posts the carrier simulator's due pushes to ``url``, with seeded faults."""

    carrier: carrier_sim.SimState
    url: str
    http: httpx.AsyncClient
    rate: float
    rng: random.Random
    kinds: tuple[PushFault, ...] = tuple(PushFault)
    """The faults drawn from (each equally likely)."""
    max_delay: float = 5.0
    """Seconds a delayed push is held back at most."""
    faults: Counter[PushFault] = field(default_factory=Counter)
    posted: int = 0
    """Posts the hook server took (2xx), copies and stale ones included."""
    _last: dict[str, bytes] = field(default_factory=dict)
    _held: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self, every: float) -> None:
        """A round every ``every`` seconds until cancelled (then ``stop`` the held ones)."""
        while True:
            await asyncio.sleep(every)
            await self.round()

    async def round(self) -> None:
        """Post each due push, each perhaps suffering a fault."""
        for number, seen, body in due_pushes(self.carrier):
            if number in self._held:
                continue
            fault = self._draw()
            if fault is PushFault.DROPPED:
                self.faults[fault] += 1
                self._pushed(number, seen)
            elif fault is PushFault.DELAYED:
                self.faults[fault] += 1
                self._held.add(number)
                delay = self.rng.uniform(1.0, self.max_delay)
                self._spawn(self._later(number, seen, body, delay))
            else:
                copies = 2 if fault is PushFault.DUPLICATED else 1
                taken = await asyncio.gather(*(self._post(body) for _ in range(copies)))
                if not any(taken):
                    continue  # the next round posts it again
                if fault is PushFault.DUPLICATED:
                    self.faults[fault] += 1
                stale = self._last.get(number)
                self._pushed(number, seen, body)
                if fault is PushFault.REORDERED and stale is not None:
                    self.faults[fault] += 1
                    await self._post(stale)

    def _draw(self) -> PushFault | None:
        if self.rng.random() >= self.rate:
            return None
        return self.rng.choice(self.kinds)

    async def _later(self, number: str, seen: int, body: bytes, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            if await self._post(body):
                self._pushed(number, seen, body)
        finally:
            self._held.discard(number)

    def _pushed(self, number: str, seen: int, body: bytes | None = None) -> None:
        with self.carrier.lock:
            self.carrier.pushed[number] = max(seen, self.carrier.pushed.get(number, 0))
        if body is not None:
            self._last[number] = body

    async def _post(self, body: bytes) -> bool:
        headers = {SIGN_HEADER: sign(body, self.carrier.token), "Content-Type": "application/json"}
        try:
            response = await self.http.post(self.url, content=body, headers=headers)
        except httpx.TransportError:
            return False
        if response.is_success:
            self.posted += 1
        return response.is_success

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until the pushes held back have been posted."""
        await asyncio.gather(*self._tasks)

    async def stop(self) -> None:
        """Cancel the pushes still held back."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
