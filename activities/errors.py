"""How port errors cross into Temporal: business refusals stop, everything else is retried."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from temporalio.exceptions import ApplicationError

from domain.errors import PermanentPortError, PlatformRefused

T = TypeVar("T")

NON_RETRYABLE = ["PlatformRefused", "PermanentPortError"]
"""Application error types the activity retry policies never retry."""


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
            str(refused), reason, message, type="PlatformRefused", non_retryable=True
        ) from refused
    except PermanentPortError as error:
        raise ApplicationError(str(error), type="PermanentPortError", non_retryable=True) from error
