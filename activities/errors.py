"""How port errors cross into Temporal: business refusals stop, everything else is retried."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.errors import (
    PERMANENT_FAILURE,
    PLATFORM_REFUSED_FAILURE,
    PermanentPortError,
    PlatformRefused,
)

T = TypeVar("T")

NON_RETRYABLE = [PLATFORM_REFUSED_FAILURE, PERMANENT_FAILURE]
"""Application error types the activity retry policies never retry."""
HEARTBEAT_EVERY = 2.0
"""Seconds between heartbeats of a running port call (the workflows' heartbeat timeouts are
several times this): a worker that dies mid-call is noticed in seconds, not at the timeout."""


async def translated(call: Awaitable[T]) -> T:
    """Await a port call; turn permanent failures into non-retryable application errors."""
    try:
        return await call
    except PlatformRefused as refused:
        # The workflow reads details as (reason, message): our reason when the adapter knows the
        # platform's code (the message then keeps that code for support), else the code itself.
        reason = refused.reason.value if refused.reason else refused.code
        message = refused.message if reason == refused.code else str(refused)
        raise ApplicationError(
            str(refused), reason, message, type=PLATFORM_REFUSED_FAILURE, non_retryable=True
        ) from refused
    except PermanentPortError as error:
        raise ApplicationError(str(error), type=PERMANENT_FAILURE, non_retryable=True) from error


async def beating(call: Awaitable[T]) -> T:
    """Await a port call (``translated``), heartbeating while it runs."""
    return await heartbeating(translated(call))


async def heartbeating(call: Awaitable[T]) -> T:
    """Await ``call`` as it is (its errors untouched), heartbeating while it runs."""
    task = asyncio.ensure_future(call)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        task.cancel()
