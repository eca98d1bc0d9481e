"""Waiting inside a workflow for the next deadline or for news, whichever comes first."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow


async def sleep_until(first_deadline: datetime | None, woken: Callable[[], bool]) -> bool:
    """Wait until ``first_deadline`` (forever when None) or until ``woken()`` holds.

    Returns False without waiting when the deadline has already passed: the caller fires it now.
    """
    timeout = first_deadline - workflow.now() if first_deadline is not None else None
    if timeout is not None and timeout <= timedelta(0):
        return False
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(woken, timeout=timeout)
    return True
