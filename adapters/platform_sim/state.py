"""The simulated marketplace's state: orders, disputes, the clock, fault plans and the ledger."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from adapters.platform_sim.rules import (
    ARBITRATION,
    FINISHED,
    OPEN,
    SOLUTION_REACHED,
    SOLUTION_REJECTED,
    SimDispute,
    SimOrder,
    SimRefusal,
    SimRules,
    SimSolution,
    missed_deadline,
    normalise,
    withdrawal_lock,
)
from adapters.platform_sim.tokens import SimTokens
from adapters.sim_faults import RandomFaults
from domain.money import Money


class Fault(StrEnum):
    """What the gateway does to the next calls of one method."""

    ERROR_5XX = "error_5xx"
    """Answer 503 without performing anything."""
    TIMEOUT = "timeout"
    """Sleep past the client's timeout, perform nothing, then answer 504."""
    EXECUTE_THEN_DROP = "execute_then_drop"
    """Perform the write, then answer 500 with an empty body (the result is lost)."""
    RATE_LIMITED = "rate_limited"
    """Answer 429 with ``Retry-After`` without performing anything."""


@dataclass(frozen=True)
class LedgerEntry:
    """One side effect on the platform, with the idempotency key the seller sent (if any)."""

    seq: int
    at: datetime
    kind: str
    idempotency_key: str | None
    order_id: str | None = None
    dispute_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The entry as ``GET /sim/ledger`` shows it."""
        return {**asdict(self), "at": self.at.isoformat()}


class SimState:
    """Everything the simulator knows. Thread-safe: tests drive it while the server runs."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        now: Callable[[], datetime] | None = None,
        rules: SimRules | None = None,
        fault_sleep: float = 5.0,
        open_tokens: bool = True,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.rules = rules or SimRules()
        self.fault_sleep = fault_sleep
        self.lock = threading.RLock()
        self._clock = now or (lambda: datetime.now(UTC))
        self.tokens = SimTokens(self.now, open_access=open_tokens)
        """Access and refresh tokens, by this clock (``open_tokens``: unknown ones are accepted)."""
        self.orders: dict[str, SimOrder] = {}
        self.disputes: dict[str, SimDispute] = {}
        self._ledger: list[LedgerEntry] = []
        self._faults: dict[str, list[Fault]] = {}
        self._random_faults: RandomFaults[Fault] | None = None
        self.faults_drawn: Counter[Fault] = Counter()
        """How many calls suffered each randomly drawn fault."""
        self._next_id = 9_000_000_001

    # Clock.

    def now(self) -> datetime:
        """The simulated platform's time."""
        return self._clock()

    def set_now(self, when: datetime) -> None:
        """Freeze the clock at ``when`` (``advance`` moves it on)."""
        with self.lock:
            self._clock = lambda: when

    def advance(self, delta: timedelta) -> None:
        """Move a frozen clock forward (freezes a live one first)."""
        self.set_now(self.now() + delta)

    # Admin: what buyers, carriers and the platform do.

    def new_id(self) -> str:
        """A fresh numeric id, as the platform's ids are."""
        with self.lock:
            self._next_id += 1
            return str(self._next_id)

    def add_order(
        self,
        order_id: str,
        *,
        eta: datetime,
        buyer_login_id: str = "buyer-1",
        total: Money | None = None,
        seller_id: str = "store-1",
        paid_at: datetime | None = None,
    ) -> SimOrder:
        """Create an order of store ``seller_id``, paid at ``paid_at`` (default: now), awaiting
        shipment. The platform sends no hook for it: telling parcelflow is the caller's part."""
        with self.lock:
            order = SimOrder(
                order_id=order_id,
                buyer_login_id=buyer_login_id,
                total=total or Money(minor=25_00),
                eta=eta,
                created_at=paid_at or self.now(),
                seller_id=seller_id,
            )
            self.orders[order_id] = order
            return order

    def order(self, order_id: str) -> SimOrder:
        """One order, or the platform's not-found refusal."""
        found = self.orders.get(order_id)
        if found is None:
            raise SimRefusal("ORDER_NOT_FOUND", f"order {order_id} does not exist")
        return found

    def mark_scan(self, order_id: str, number: str | None = None) -> bool:
        """The carrier reported a scan of ``number`` (default: every number the order carries):
        that number's withdrawal locks (R4.2). A scan of a number the order no longer carries
        (withdrawn) is about another parcel and changes nothing (R10). Whether it locked one."""
        with self.lock:
            order = self.order(order_id)
            wanted = None if number is None else normalise(number)
            scanned = [s for s in order.shipments if wanted in (None, s.number)]
            for shipment in scanned:
                shipment.scanned = True
            self.relock(order)
            return bool(scanned)

    def set_eta(self, order_id: str, eta: datetime) -> None:
        """The platform moved the estimated delivery date (R4.4 may lock)."""
        with self.lock:
            order = self.order(order_id)
            order.eta = eta
            self.relock(order)

    def open_dispute(self, order_id: str, reason: str = "not_received") -> SimDispute:
        """The buyer opens a dispute asking for a full refund."""
        with self.lock:
            order = self.order(order_id)
            dispute = SimDispute(self.new_id(), order_id, reason, self.now())
            dispute.solutions.append(
                SimSolution(
                    self.new_id(), "buyer", "refund", order.total, "wait_seller_accept", self.now()
                )
            )
            self.disputes[dispute.dispute_id] = dispute
            self.relock(order)
            self.record("dispute_opened", None, order_id=order_id, dispute_id=dispute.dispute_id)
            return dispute

    def buyer_accepts(self, dispute_id: str) -> None:
        """The buyer accepts the seller's latest solution: the dispute is resolved."""
        with self.lock:
            dispute = self.dispute(dispute_id)
            offered = dispute.pending_solution()
            if offered is None or dispute.status != OPEN:
                raise SimRefusal("ISSUE_STATUS_INVALID", "no seller solution to accept")
            offered.status, offered.answered_at = SOLUTION_REACHED, self.now()
            offered.reached_type = "negotiation_consensus"
            self.close_dispute(dispute, "resolved", offered, by="buyer")

    def buyer_rejects(self, dispute_id: str) -> SimDispute:
        """The buyer rejects the seller's latest solution (R14). A solution offered in time met
        the solution deadline: rejected before it, the seller may offer another before it (else
        the platform rules against them at the deadline); rejected at or after it, the dispute
        goes to the platform's arbitration, whose verdict (``arbitrate``) ends it."""
        with self.lock:
            dispute = self.dispute(dispute_id)
            offered = dispute.pending_solution()
            if offered is None or dispute.status != OPEN:
                raise SimRefusal(
                    "ISSUE_STATUS_INVALID",
                    f"dispute {dispute_id} is {dispute.status}: no seller solution to reject",
                )
            now = self.now()
            deadline = dispute.opened_at + self.rules.solution
            offered.status, offered.answered_at = SOLUTION_REJECTED, now
            in_time = now < deadline
            detail = {"solution_id": offered.solution_id, "before_deadline": in_time}
            kinds = ["solution_rejected"]
            if not in_time:
                dispute.status, dispute.arbitration_since = ARBITRATION, now
                kinds.append("arbitration_opened")
            for kind in kinds:
                self.record(
                    kind,
                    None,
                    order_id=dispute.order_id,
                    dispute_id=dispute.dispute_id,
                    detail=detail,
                )
            return dispute

    def arbitrate(
        self, dispute_id: str, *, for_seller: bool, refund: Money | None = None
    ) -> SimDispute:
        """The platform's arbitration decides a dispute it holds (R14): for the seller (the
        dispute is resolved, nothing refunded) or against them (``refund``, by default the
        order's total, paid from the seller's deposit)."""
        with self.lock:
            dispute = self.dispute(dispute_id)
            if dispute.status != ARBITRATION:
                ended = f" ({dispute.outcome} by {dispute.decided_by})" if dispute.outcome else ""
                raise SimRefusal(
                    "ISSUE_STATUS_INVALID",
                    f"dispute {dispute_id} is {dispute.status}{ended}, not in arbitration",
                )
            total = self.order(dispute.order_id).total
            if for_seller and refund is not None:
                raise SimRefusal(
                    "isv.invalid-parameter", "a verdict for the seller refunds nothing"
                )
            paid = Money(minor=0, currency=total.currency) if for_seller else refund or total
            if not for_seller and not (
                paid.currency == total.currency and 0 < paid.minor <= total.minor
            ):
                raise SimRefusal("REFUND_AMOUNT_INVALID", f"refund {paid} outside (0, {total}]")
            now = self.now()
            verdict = SimSolution(self.new_id(), "platform", "refund", paid, SOLUTION_REACHED, now)
            verdict.answered_at, verdict.reached_type = now, "platform_arbitrate"
            dispute.solutions.append(verdict)
            outcome = "resolved" if for_seller else "ruled_against_seller"
            self.close_dispute(dispute, outcome, verdict, by="arbitration")
            return dispute

    def dispute(self, dispute_id: str) -> SimDispute:
        """One dispute after its deadlines were evaluated against the clock (R14)."""
        with self.lock:
            found = self.disputes.get(dispute_id)
            if found is None:
                raise SimRefusal("ISSUE_NOT_FOUND", f"dispute {dispute_id} does not exist")
            self._settle(found)
            return found

    def order_disputes(self, order_id: str) -> list[SimDispute]:
        """The disputes of one order, settled."""
        return [
            self.dispute(d.dispute_id)
            for d in list(self.disputes.values())
            if d.order_id == order_id
        ]

    # Faults.

    def inject(self, method: str, fault: Fault, count: int = 1) -> None:
        """Apply ``fault`` to the next ``count`` calls of ``method``."""
        with self.lock:
            self._faults.setdefault(method, []).extend([fault] * count)

    def inject_randomly(
        self, rate: float, seed: int, faults: Sequence[Fault] = tuple(Fault)
    ) -> None:
        """From now on, each call without a planned fault suffers one of ``faults`` with
        probability ``rate`` (drawn from a generator seeded with ``seed``)."""
        drawing = RandomFaults(rate, seed, faults)
        with self.lock:
            self._random_faults = drawing

    def take_fault(self, method: str) -> Fault | None:
        """The fault planned for this call of ``method`` (consumed), else a random one if any."""
        with self.lock:
            planned = self._faults.get(method)
            if planned:
                return planned.pop(0)
            drawn = self._random_faults.draw() if self._random_faults else None
            if drawn is not None:
                self.faults_drawn[drawn] += 1
            return drawn

    # Ledger.

    def record(
        self, kind: str, key: str | None, *, at: datetime | None = None, **fields: Any
    ) -> LedgerEntry:
        """Append one side effect to the ledger (``at`` defaults to the clock)."""
        with self.lock:
            entry = LedgerEntry(len(self._ledger) + 1, at or self.now(), kind, key, **fields)
            self._ledger.append(entry)
            return entry

    def ledger(self) -> list[LedgerEntry]:
        """Every side effect so far (deadlines evaluated first, so rulings show)."""
        with self.lock:
            for dispute_id in list(self.disputes):
                self.dispute(dispute_id)
            return list(self._ledger)

    def effects(self, idempotency_key: str) -> list[LedgerEntry]:
        """The side effects one idempotency key produced."""
        return [e for e in self.ledger() if e.idempotency_key == idempotency_key]

    # Used by the gateway's methods.

    def relock(self, order: SimOrder) -> None:
        """Record, on each declared number, the first R4 condition that failed (one-way)."""
        disputes = [d for d in self.disputes.values() if d.order_id == order.order_id]
        for shipment in order.shipments:
            shipment.locked = withdrawal_lock(order, shipment, disputes, self.now(), self.rules)

    def _settle(self, dispute: SimDispute) -> None:
        deadline = missed_deadline(dispute, self.now(), self.rules)
        if deadline is None:
            return
        order = self.order(dispute.order_id)
        ruling = SimSolution(
            self.new_id(), "platform", "refund", order.total, SOLUTION_REACHED, deadline
        )
        ruling.answered_at = deadline
        dispute.solutions.append(ruling)
        self.close_dispute(dispute, "ruled_against_seller", ruling, at=deadline, by="deadline")

    def close_dispute(
        self,
        dispute: SimDispute,
        outcome: str,
        solution: SimSolution,
        at: datetime | None = None,
        *,
        by: str,
    ) -> None:
        """End a dispute with ``outcome`` and ledger it (at the missed deadline for rulings);
        ``by`` says who decided (``buyer``, ``seller``, ``deadline``, ``arbitration``)."""
        dispute.status = FINISHED
        dispute.outcome = outcome
        dispute.decided_by = by
        detail = {
            "refund_minor": solution.refund.minor,
            "solution_type": solution.solution_type,
            "decided_by": by,
        }
        self.record(
            f"dispute_{outcome}",
            None,
            at=at,
            order_id=dispute.order_id,
            dispute_id=dispute.dispute_id,
            detail=detail,
        )
