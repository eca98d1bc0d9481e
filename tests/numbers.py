"""Fresh, valid tracking numbers: each test claims its own (R2 allows one open order per number)."""

from __future__ import annotations

import itertools
import random

from domain.tracking_numbers import s10_check_digit

_serials = itertools.count(random.SystemRandom().randrange(10_000_000, 80_000_000))


def fresh_s10(service: str = "RR", country: str = "CN") -> str:
    """A well-formed UPU S10 number no other test of this session uses."""
    serial = f"{next(_serials):08d}"
    return f"{service}{serial}{s10_check_digit(serial)}{country}"
