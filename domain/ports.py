"""The ports: what parcelflow needs from a marketplace and from a carrier tracking service.

Adapters in ``adapters/`` satisfy these Protocols structurally; in-memory fakes live in
``tests/fakes.py``. Every write carries a deterministic ``idempotency_key``
(``{workflow_id}:{step}``) so that a retried call never repeats a side effect.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from domain.money import Money


class SolutionKind(StrEnum):
    """The valid solutions of a dispute (R14)."""

    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RESHIP = "reship"
    RETURN_AND_REFUND = "return_and_refund"


class Solution(BaseModel):
    """A solution offered to the buyer: ``refund`` for refunds, ``reship_carrier`` for reships."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SolutionKind
    refund: Money | None = None
    reship_carrier: str | None = None
    note: str = ""


class PlatformOrder(BaseModel):
    """What the marketplace says about an order right now."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: str
    estimated_delivery: datetime | None = None
    status_deadline: datetime | None = None


class PlatformDispute(BaseModel):
    """A buyer dispute as the marketplace reports it."""

    model_config = ConfigDict(frozen=True)

    dispute_id: str
    order_id: str
    reason: str
    status: str
    opened_at: datetime
    response_deadline: datetime | None = None
    solution_deadline: datetime | None = None


class Platform(Protocol):
    """The marketplace (AliExpress Open Platform or its simulator)."""

    @property
    def supports_withdrawal(self) -> bool:
        """Whether this marketplace lets a seller withdraw a tracking number (R4/R9)."""
        ...

    async def upload_tracking(
        self, order_id: str, carrier: str, tracking_number: str, idempotency_key: str
    ) -> None:
        """Attach a tracking number to an order (R1)."""
        ...

    async def withdraw_tracking(
        self, order_id: str, tracking_number: str, idempotency_key: str
    ) -> None:
        """Withdraw the tracking number (R4); raises ``PlatformRefused`` with the reason."""
        ...

    async def get_order(self, order_id: str) -> PlatformOrder:
        """The order's status, estimated delivery date and the platform's own deadline."""
        ...

    async def get_dispute(self, dispute_id: str) -> PlatformDispute:
        """One dispute with the platform's own deadlines."""
        ...

    async def answer_dispute(self, dispute_id: str, message: str, idempotency_key: str) -> None:
        """The seller's first response to a dispute (R14)."""
        ...

    async def propose_solution(
        self, dispute_id: str, solution: Solution, idempotency_key: str
    ) -> None:
        """Offer a solution: full or partial refund, reship, return and refund (R14)."""
        ...

    async def message_buyer(self, order_id: str, text: str, idempotency_key: str) -> None:
        """Send the buyer a message on the order (R16: a reship's new number)."""
        ...


class CarrierRecord(BaseModel):
    """What a tracking service knows about one number right now (R8, R10)."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    tracking_number: str
    known: bool
    events: tuple[RawScan, ...] = ()


class RawScan(BaseModel):
    """One scan as the carrier reported it: kept verbatim, normalised by ``domain.tracking``."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    at: datetime
    code: str
    description: str = ""
    location: str = ""


class CarrierTracking(Protocol):
    """A tracking service (17TRACK or its simulator): at most 50 numbers a request (R12)."""

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        """Start following these (carrier, number) pairs."""
        ...

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        """The current record of each (carrier, number) pair."""
        ...

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        """Stop following these numbers (terminal or past the horizon)."""
        ...


CarrierRecord.model_rebuild()
