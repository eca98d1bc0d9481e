"""In-memory fakes of the ports: they record what they were asked and can be told to refuse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.claims import CarrierAnswer, FileClaim
from domain.disputes import Solution
from domain.errors import PermanentPortError, PlatformRefused, TransientPortError
from domain.evidence_files import Evidence
from domain.marketplace import PlatformDispute, PlatformOrder, PlatformOrderPage
from domain.tracking import CarrierRecord, RawScan


@dataclass(frozen=True)
class PlatformCall:
    """One write the fake platform received."""

    method: str
    idempotency_key: str
    args: tuple[object, ...]


@dataclass
class FakePlatform:
    """A marketplace that accepts everything unless told to refuse a method (code, message)."""

    supports_withdrawal: bool = True
    refuse: dict[str, tuple[str, str]] = field(default_factory=dict)
    fail: dict[str, str] = field(default_factory=dict)
    """Methods that fail for good before anything lands (``PermanentPortError``), with why."""
    calls: list[PlatformCall] = field(default_factory=list)
    orders: dict[str, PlatformOrder] = field(default_factory=dict)
    disputes: dict[str, PlatformDispute] = field(default_factory=dict)
    retried: list[str] = field(default_factory=list)
    """Keys an activity retry said may have landed already."""
    stores: dict[str, str | None] = field(default_factory=dict)
    """The store each tracking write was made for, by idempotency key."""
    page_size: int = 50
    """Orders per page of ``list_orders`` (``orders`` in insertion order)."""
    reads: list[str] = field(default_factory=list)
    """The order ids ``get_order`` was asked for, in order."""

    def _record(self, method: str, key: str, *args: object) -> None:
        if method in self.fail:
            raise PermanentPortError(self.fail[method])
        self.calls.append(PlatformCall(method, key, args))
        if method in self.refuse:
            code, message = self.refuse[method]
            raise PlatformRefused(code, message)

    def keys(self, method: str | None = None) -> list[str]:
        """The idempotency keys received, in order (for one method, or all)."""
        return [c.idempotency_key for c in self.calls if method in (None, c.method)]

    def may_have_landed(self, idempotency_key: str) -> None:
        self.retried.append(idempotency_key)

    async def upload_tracking(
        self,
        order_id: str,
        carrier: str,
        tracking_number: str,
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        self.stores[idempotency_key] = store_id
        self._record("upload_tracking", idempotency_key, order_id, carrier, tracking_number)

    async def withdraw_tracking(
        self, order_id: str, tracking_number: str, idempotency_key: str
    ) -> None:
        self._record("withdraw_tracking", idempotency_key, order_id, tracking_number)

    async def modify_tracking(
        self,
        order_id: str,
        old: tuple[str, str],
        new: tuple[str, str],
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        self.stores[idempotency_key] = store_id
        self._record("modify_tracking", idempotency_key, order_id, old, new)

    async def list_disputes(self, order_id: str | None = None) -> list[PlatformDispute]:
        return [d for d in self.disputes.values() if order_id in (None, d.order_id)]

    async def get_order(self, order_id: str) -> PlatformOrder:
        self.reads.append(order_id)
        return self.orders[order_id]

    async def list_orders(self, statuses: Sequence[str], page: int = 1) -> PlatformOrderPage:
        listed = [o for o in list(self.orders.values()) if not statuses or o.status in statuses]
        start = (page - 1) * self.page_size
        return PlatformOrderPage(
            orders=tuple(listed[start : start + self.page_size]),
            page=page,
            pages=max(1, -(-len(listed) // self.page_size)),
        )

    async def get_dispute(self, dispute_id: str) -> PlatformDispute:
        return self.disputes[dispute_id]

    async def answer_dispute(self, dispute_id: str, message: str, idempotency_key: str) -> None:
        self._record("answer_dispute", idempotency_key, dispute_id, message)

    async def propose_solution(
        self, dispute_id: str, solution: Solution, idempotency_key: str
    ) -> None:
        self._record("propose_solution", idempotency_key, dispute_id, solution)

    async def message_buyer(self, order_id: str, text: str, idempotency_key: str) -> None:
        self._record("message_buyer", idempotency_key, order_id, text)

    async def upload_evidence(
        self, dispute_id: str, evidence: Evidence, idempotency_key: str
    ) -> str:
        self._record("upload_evidence", idempotency_key, dispute_id, evidence)
        return f"fake-evidence:{dispute_id}:{idempotency_key}"


def at_second(moment: datetime) -> datetime:
    """``moment`` without its sub-second part (boundaries are stated in whole seconds)."""
    return moment.replace(microsecond=0)


@dataclass
class FakeCarrier:
    """A tracking service that knows the numbers in ``known`` (or with ``scans``), answers each
    number's ``scans`` (as its adapter read them, e.g. ``seventeentrack.statuses.read_scan``)
    and records every request."""

    known: set[str] = field(default_factory=set)
    scans: dict[str, list[RawScan]] = field(default_factory=dict)
    registered: list[tuple[str, str]] = field(default_factory=list)
    lookups: list[list[tuple[str, str]]] = field(default_factory=list)
    stopped: list[tuple[str, str]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    """The tag each number was last registered with (the order's workflow id)."""

    async def register(self, numbers: list[tuple[str, str]]) -> None:
        self.registered.extend(numbers)

    async def register_tagged(self, numbers: list[tuple[str, str]], tags: list[str]) -> None:
        self.registered.extend(numbers)
        self.tags.update((number, tag) for (_, number), tag in zip(numbers, tags, strict=True))

    async def lookup(self, numbers: list[tuple[str, str]]) -> list[CarrierRecord]:
        self.lookups.append(list(numbers))
        return [
            CarrierRecord(
                carrier=carrier,
                tracking_number=number,
                known=number in self.known or bool(self.scans.get(number)),
                events=tuple(self.scans.get(number, ())),
            )
            for carrier, number in numbers
        ]

    async def stop(self, numbers: list[tuple[str, str]]) -> None:
        self.stopped.extend(numbers)


PENDING = CarrierAnswer(status="pending")


@dataclass
class FakeClaims:
    """A carrier claim desk: files once per key, answers from a script, records every call."""

    api: bool = True
    fail_first_filing: bool = False
    answers: list[CarrierAnswer] = field(default_factory=list)
    filing_keys: list[str] = field(default_factory=list)
    claims: dict[str, FileClaim] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def supports_api(self, carrier: str) -> bool:  # noqa: ARG002 - one desk for every carrier
        return self.api

    async def file_claim(self, claim: FileClaim) -> str:
        self.filing_keys.append(claim.idempotency_key)
        self.claims.setdefault(claim.idempotency_key, claim)
        if self.fail_first_filing and len(self.filing_keys) == 1:
            msg = "timeout after sending: the claim landed, the answer did not"
            raise TransientPortError(msg)
        return f"YW-{len(self.claims)}"

    async def claim_status(self, carrier: str, claim_ref: str) -> CarrierAnswer:  # noqa: ARG002
        self.checks.append(claim_ref)
        return self.answers.pop(0) if self.answers else PENDING
