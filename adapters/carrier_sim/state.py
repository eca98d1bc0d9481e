"""The simulator's world: scripted parcels, an injectable clock, faults and request counters."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from adapters.seventeentrack.units import (
    ERR_ALREADY_REGISTERED,
    ERR_INVALID_DATA,
    ERR_NOT_REGISTERED,
    ERR_QUOTA_EXHAUSTED,
    carrier_key,
)
from adapters.sim_faults import RandomFaults

Clock = Callable[[], datetime]
PROTOCOL_PATHS = ("register", "gettrackinfo", "stoptrack")


class ScriptedEvent(BaseModel):
    """One scan the simulated carrier will report once the clock reaches ``at``."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    sub_status: str
    description: str = ""
    location: str = ""


class ParcelScript(BaseModel):
    """A number's life: silent until ``visible_from`` (R8), then its events as they fall due."""

    model_config = ConfigDict(frozen=True)

    number: str
    carrier: str = "china_post"
    visible_from: AwareDatetime | None = None
    events: tuple[ScriptedEvent, ...] = ()


@dataclass
class Fault:
    """The next ``count`` requests to a path fail with ``status`` and/or answer after ``delay``."""

    count: int
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0


class SettableClock:
    """A clock tests and the admin API can set and move forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def set(self, now: datetime) -> None:
        """Jump to ``now``."""
        self.current = now

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        self.current += delta


class SimState:
    """Everything the simulated 17TRACK knows; safe to drive from tests while it serves HTTP."""

    def __init__(
        self,
        token: str = "dev-token",  # noqa: S107 -- the simulator's well-known development token
        clock: Clock | None = None,
        *,
        max_batch: int = 40,
        webhook_url: str | None = None,
        rate_limit: float | None = None,
        quota: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``rate_limit``: requests a second per token before 429 (17TRACK: 3; None: no limit);
        ``quota``: numbers that may still be registered (None: unlimited)."""
        self.token = token
        self.clock: Clock = clock or SettableClock()
        self.max_batch = max_batch
        self.webhook_url = webhook_url
        self.scripts: dict[str, ParcelScript] = {}
        self.registered: dict[str, int | None] = {}
        self.tags: dict[str, str] = {}
        """The tag each number was registered with: echoed in its pushes and look-ups."""
        self.rate_limit = rate_limit
        self.quota = quota
        self.throttled = 0
        self._monotonic = monotonic
        self._recent: list[float] = []
        self.stopped: set[str] = set()
        self.pushed: dict[str, int] = {}
        self.faults: dict[str, list[Fault]] = {}
        self.random_faults: RandomFaults[Fault] | None = None
        self.faults_drawn = 0
        self.requests: Counter[str] = Counter()
        self.numbers_asked: Counter[str] = Counter()
        self.lock = threading.Lock()

    def now(self) -> datetime:
        """The simulator's current time."""
        return self.clock()

    def add_script(self, script: ParcelScript) -> None:
        """Script (or re-script) a number's life."""
        with self.lock:
            self.scripts[script.number.upper()] = script

    def inject_fault(self, path: str, fault: Fault) -> None:
        """Make the next requests to ``path`` (``register``, ``gettrackinfo``...) misbehave."""
        with self.lock:
            self.faults.setdefault(path, []).append(fault)

    def inject_randomly(self, rate: float, seed: int, faults: Sequence[Fault]) -> None:
        """From now on, each request without a planned fault suffers one of ``faults`` (each
        used once per draw, whatever its ``count``) with probability ``rate``, seeded."""
        drawing = RandomFaults(rate, seed, faults)
        with self.lock:
            self.random_faults = drawing

    def take_fault(self, path: str) -> Fault | None:
        """The fault the current request to ``path`` suffers, if any (used up one at a time)."""
        with self.lock:
            queue = self.faults.get(path, [])
            if not queue:
                drawn = self.random_faults.draw() if self.random_faults else None
                if drawn is not None:
                    self.faults_drawn += 1
                return drawn
            fault = queue[0]
            fault.count -= 1
            if fault.count <= 0:
                queue.pop(0)
            return fault

    def over_rate(self) -> float | None:
        """Seconds to wait when this request goes over the rate limit (then it is not served),
        or None: the last second's requests are counted in a sliding window."""
        if self.rate_limit is None:
            return None
        with self.lock:
            now = self._monotonic()
            self._recent = [t for t in self._recent if now - t < 1.0]
            if len(self._recent) >= self.rate_limit:
                self.throttled += 1
                return max(0.0, 1.0 - (now - self._recent[0]))
            self._recent.append(now)
            return None

    def count(self, path: str, numbers: int) -> None:
        """Record one request to ``path`` carrying ``numbers`` numbers (quota accounting)."""
        with self.lock:
            self.requests[path] += 1
            self.numbers_asked[path] += numbers

    def request_counts(self) -> dict[str, Any]:
        """Requests and numbers per path so far."""
        with self.lock:
            return {
                "requests": dict(self.requests),
                "numbers": dict(self.numbers_asked),
                "total": sum(self.requests.values()),
            }

    def visible_events(self, number: str) -> list[ScriptedEvent]:
        """The scans of ``number`` the carrier reports now, oldest first."""
        script = self.scripts.get(number.upper())
        now = self.now()
        if script is None or (script.visible_from and now < script.visible_from):
            return []
        return sorted((e for e in script.events if e.at <= now), key=lambda e: e.at)

    def register(self, items: Sequence[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        """17TRACK ``register``: accepted and rejected items."""
        accepted, rejected = [], []
        with self.lock:
            for item in items:
                number = str(item.get("number", "")).upper()
                if not (5 <= len(number) <= 50 and number.isalnum()):
                    rejected.append(_rejection(number, ERR_INVALID_DATA, "invalid number"))
                elif number in self.registered and number not in self.stopped:
                    rejected.append(
                        _rejection(number, ERR_ALREADY_REGISTERED, "already registered")
                    )
                elif self.quota is not None and self.quota <= 0 and number not in self.stopped:
                    rejected.append(_rejection(number, ERR_QUOTA_EXHAUSTED, "quota exhausted"))
                else:
                    key = item.get("carrier") or self._script_key(number)
                    if number not in self.registered and self.quota is not None:
                        self.quota -= 1
                    self.registered[number] = key
                    self.stopped.discard(number)
                    tag = item.get("tag")
                    if isinstance(tag, str) and tag:
                        self.tags[number] = tag
                    else:
                        self.tags.pop(number, None)
                    accepted.append({"origin": 1, "number": number, "carrier": key})
        return accepted, rejected

    def stop(self, items: Sequence[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        """17TRACK ``stoptrack``: registered numbers stop being followed."""
        accepted, rejected = [], []
        with self.lock:
            for item in items:
                number = str(item.get("number", "")).upper()
                if number in self.registered:
                    self.stopped.add(number)
                    accepted.append({"number": number, "carrier": self.registered[number]})
                else:
                    rejected.append(_rejection(number, ERR_NOT_REGISTERED, "not registered"))
        return accepted, rejected

    def is_registered(self, number: str) -> bool:
        """Whether ``number`` was registered (stopped numbers can still be read)."""
        return number.upper() in self.registered

    def tag_of(self, number: str) -> str | None:
        """The tag ``number`` was registered with (None: registered without one)."""
        return self.tags.get(number.upper())

    def carrier_of(self, number: str) -> int | None:
        """The 17TRACK carrier key the number is tracked under."""
        return self.registered.get(number.upper()) or self._script_key(number.upper())

    def _script_key(self, number: str) -> int | None:
        script = self.scripts.get(number)
        return carrier_key(script.carrier) if script else None


def _rejection(number: str, code: int, message: str) -> dict[str, Any]:
    return {"number": number, "error": {"code": code, "message": f"'{number}': {message}."}}
