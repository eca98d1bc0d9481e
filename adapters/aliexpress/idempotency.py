"""The client's memory of idempotency keys: completed, refused, or of unknown outcome."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

from domain.errors import PlatformRefused

T = TypeVar("T")


class KeyMemory:
    """What became of each write key this client sent (bounded, oldest forgotten first).

    A completed key is never sent again; a refused key re-raises its refusal without a call
    (R5: a refused withdrawal is not retried); an uncertain key is read back before resending.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._completed: OrderedDict[str, str | None] = OrderedDict()
        self._refused: OrderedDict[str, PlatformRefused] = OrderedDict()
        self._uncertain: set[str] = set()

    def done(self, key: str) -> bool:
        """True when ``key`` completed; raises its refusal when the platform refused it."""
        if key in self._refused:
            raise self._refused[key]
        return key in self._completed

    def is_uncertain(self, key: str) -> bool:
        """Whether a write under ``key`` may have landed without our knowing."""
        return key in self._uncertain

    def uncertain(self, key: str) -> None:
        """The write under ``key`` was sent and its outcome is unknown."""
        self._uncertain.add(key)

    def maybe_sent(self, key: str) -> None:
        """Another attempt (perhaps in another process) may have sent ``key``: unless its
        outcome is known here, treat it as uncertain (read back before any resend)."""
        if key not in self._completed and key not in self._refused:
            self._uncertain.add(key)

    def complete(self, key: str, result: str | None = None) -> None:
        """The write under ``key`` landed (answered, or seen by reading back).

        ``result`` is what the write produced when the caller must return it again (an
        evidence URL); completing a key again keeps a result already known.
        """
        self._uncertain.discard(key)
        self._remember(self._completed, key, result or self._completed.get(key))

    def result(self, key: str) -> str | None:
        """What the completed write under ``key`` produced, when it was recorded."""
        return self._completed.get(key)

    def refuse(self, key: str, refusal: PlatformRefused) -> None:
        """The platform refused the write under ``key``: that is final for the key."""
        self._uncertain.discard(key)
        self._remember(self._refused, key, refusal)

    def _remember(self, store: OrderedDict[str, T], key: str, value: T) -> None:
        store[key] = value
        while len(store) > self._capacity:
            store.popitem(last=False)
