"""Every error parcelflow raises, in one tree.

    ParcelflowError
    ├── Refused                  a seller or platform command the rules forbid (typed reason)
    ├── InvalidInput             a value that is malformed before any rule applies
    └── PortError                a carrier or platform call went wrong
        ├── TransientPortError       worth retrying: timeouts, 429, 5xx
        ├── PermanentPortError       retrying cannot help: business errors, bad credentials
        │   └── PlatformRefused          the marketplace said no, with its reason
        └── AmbiguousWriteError      the write may or may not have landed: reconcile, then retry

An activity hands ``PlatformRefused`` and any other ``PermanentPortError`` to Temporal as a
non-retryable application error of the failure type below; a workflow refuses a command with its
``RefusalReason``'s value as the type; everything else is retried by the activity retry policy.

Two failure types name a marketplace refusal, one on each side of the order workflow. Both are
in committed histories and matched by the workflows: neither string may change.

    "PlatformRefused"   ``PLATFORM_REFUSED_FAILURE``: an *activity's* marketplace call was refused
                        (``PlatformRefused`` below); its details are (reason, message). The order
                        workflow catches it and records the refusal as a fact.
    "platform_refused"  ``RefusalReason.PLATFORM_REFUSED``: what the *workflow* tells the seller
                        (an update's failure type, a refusal's reason) when the marketplace refused
                        for a reason parcelflow has no name of its own for.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

PLATFORM_REFUSED_FAILURE: Final = "PlatformRefused"
"""The failure type of an activity whose marketplace call was refused (details: reason, message)."""
PERMANENT_FAILURE: Final = "PermanentPortError"
"""The failure type of an activity whose port call failed for good without a refusal."""


class RefusalReason(StrEnum):
    """Why a command was refused. The values are part of the public API (CLI, HTTP, Temporal)."""

    WINDOW_CLOSED = "window_closed"
    CARRIER_SCANNED = "carrier_scanned"
    DISPUTE_OPEN = "dispute_open"
    ETA_TOO_CLOSE = "eta_too_close"
    WRONG_STATE = "wrong_state"
    INVALID_NUMBER = "invalid_number"
    DUPLICATE = "duplicate"
    DEADLINE_PASSED = "deadline_passed"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_SOLUTION = "invalid_solution"
    PLATFORM_REFUSED = "platform_refused"
    """The marketplace refused, for a reason with no name of ours (see the module docstring for
    ``"PlatformRefused"``, the activity's failure type, which is another thing)."""
    WITHDRAWAL_UNSUPPORTED = "withdrawal_unsupported"
    UNKNOWN_LOGISTICS_SERVICE = "unknown_logistics_service"
    ORDER_ENDED = "order_ended"
    PLATFORM_FAILED = "platform_failed"
    """The marketplace call failed for good without refusing (its authorisation lost, a request
    it cannot take): nothing reached it, and the command is undone."""


def reason_named(code: str) -> RefusalReason:
    """Our reason whose value is ``code``, else ``PLATFORM_REFUSED`` (a code of the platform's
    own, with no name of ours)."""
    try:
        return RefusalReason(code)
    except ValueError:
        return RefusalReason.PLATFORM_REFUSED


class ParcelflowError(Exception):
    """Base of every error parcelflow raises on purpose."""


class Refused(ParcelflowError):
    """A command the rules forbid: ``reason`` says which rule, ``detail`` says it in words."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class InvalidInput(ParcelflowError):
    """A value that is malformed before any rule applies (names the field)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class PortError(ParcelflowError):
    """A call to a carrier or to the marketplace went wrong."""


class TransientPortError(PortError):
    """Worth retrying: a timeout, throttling (429) or a server error (5xx)."""


class PermanentPortError(PortError):
    """Retrying cannot help: a business error, bad credentials, an unknown order."""


class PlatformRefused(PermanentPortError):
    """The marketplace refused a write and said why.

    ``code`` is the platform's own; ``reason`` is ours when the adapter knows that code (each
    adapter keeps its own table), else None.
    """

    def __init__(self, code: str, message: str, reason: RefusalReason | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reason = reason


class AmbiguousWriteError(PortError):
    """A write whose outcome is unknown (timeout after sending): read back before retrying."""
