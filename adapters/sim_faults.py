"""Faults the simulators draw at random, seeded: the one draw the carrier and marketplace share."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Generic, TypeVar

F = TypeVar("F")


class RandomFaults(Generic[F]):
    """Each call without a planned fault suffers one of ``faults`` with probability ``rate``,
    drawn from a generator seeded with ``seed`` (a chaos run's seed replays the same faults)."""

    def __init__(self, rate: float, seed: int, faults: Sequence[F]) -> None:
        if not 0 <= rate <= 1 or not faults:
            msg = f"a fault rate lies in [0, 1] and needs faults to draw from (got {rate})"
            raise ValueError(msg)
        self.rate = rate
        self.faults = tuple(faults)
        self._rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret

    def draw(self) -> F | None:
        """This call's fault, or None (one draw per call, whether or not a fault comes of it)."""
        if self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.faults)
