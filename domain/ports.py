"""The ports: what parcelflow needs from a marketplace, a tracking service and a claims desk.

Adapters in ``adapters/`` satisfy these Protocols structurally; in-memory fakes live in
``tests/fakes.py``. Every write carries a deterministic ``idempotency_key``
(``{workflow_id}:{step}``) so that a retried call never repeats a side effect. The values they
take and give live with their topic: ``domain.disputes`` (Solution), ``domain.marketplace``
(PlatformOrder, PlatformDispute), ``domain.evidence_files`` (Evidence), ``domain.tracking``
(CarrierRecord, RawScan), ``domain.claims`` (FileClaim, CarrierAnswer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from domain.claims import CarrierAnswer, FileClaim
from domain.disputes import Solution
from domain.evidence_files import Evidence
from domain.marketplace import PlatformDispute, PlatformOrder, PlatformOrderPage
from domain.tracking import CarrierRecord


class Platform(Protocol):
    """The marketplace (AliExpress Open Platform or its simulator)."""

    @property
    def supports_withdrawal(self) -> bool:
        """Whether this marketplace lets a seller withdraw a tracking number (R4/R9)."""
        ...

    def may_have_landed(self, idempotency_key: str) -> None:
        """An earlier attempt under this key may have reached the platform (an activity retry,
        perhaps after its worker died): read back before writing under it again."""
        ...

    async def upload_tracking(
        self,
        order_id: str,
        carrier: str,
        tracking_number: str,
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        """Attach a tracking number to an order (R1); ``store_id`` is the seller's, whose own
        settings (the platform's name for the carrier) apply."""
        ...

    async def modify_tracking(
        self,
        order_id: str,
        old: tuple[str, str],
        new: tuple[str, str],
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        """Replace the (carrier, number) pair ``old`` with ``new`` where the platform allows it."""
        ...

    async def list_disputes(self, order_id: str | None = None) -> list[PlatformDispute]:
        """The seller's disputes, optionally one order's (polling fallback for dispute hooks)."""
        ...

    async def withdraw_tracking(
        self, order_id: str, tracking_number: str, idempotency_key: str
    ) -> None:
        """Withdraw the tracking number (R4); raises ``PlatformRefused`` with the reason."""
        ...

    async def get_order(self, order_id: str) -> PlatformOrder:
        """The order's status, estimated delivery date and the platform's own deadline."""
        ...

    async def list_orders(self, statuses: Sequence[str], page: int = 1) -> PlatformOrderPage:
        """One page of the seller's orders in any of ``statuses`` (the platform's words), oldest
        first: the polling fallback for the order-creation hook."""
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

    async def upload_evidence(
        self, dispute_id: str, evidence: Evidence, idempotency_key: str
    ) -> str:
        """Attach one evidence file to a dispute; returns the platform's id or URL for it.

        Raises ``PlatformRefused`` when the marketplace will not take the file (closed dispute,
        unsupported media type, too large).
        """
        ...


class CarrierTracking(Protocol):
    """A tracking service (17TRACK or its simulator): at most 50 numbers a request (R12). Its
    records' scans come already read into the one status set (``RawScan.status``)."""

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        """Start following these (carrier, number) pairs."""
        ...

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        """The current record of each (carrier, number) pair."""
        ...

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        """Stop following these numbers (terminal or past the horizon)."""
        ...


@runtime_checkable
class TaggedRegistration(Protocol):
    """A tracking service that labels each number it follows (17TRACK's ``tag``) and echoes the
    label in the number's pushes and look-ups: parcelflow tags a number with its order's
    workflow id, so that a push finds its order without a look-up of its own."""

    async def register_tagged(self, numbers: list[tuple[str, str]], tags: list[str]) -> None:
        """Start following these (carrier, number) pairs, each labelled with its tag."""
        ...


class CarrierClaims(Protocol):
    """The carriers' claim desks (EasyPost's Claims API or its simulator), R17."""

    def supports_api(self, carrier: str) -> bool:
        """Whether ``carrier`` takes claims by API; otherwise an operator files them by hand."""
        ...

    async def file_claim(self, claim: FileClaim) -> str:
        """File a claim (once per its ``idempotency_key``); the carrier's claim reference."""
        ...

    async def claim_status(self, carrier: str, claim_ref: str) -> CarrierAnswer:
        """The claim's status: paid (with the amount), rejected or still pending."""
        ...
