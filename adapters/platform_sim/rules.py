"""The simulated marketplace's own rules (R2, R4, R5, R14), kept apart from parcelflow's domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.money import Money


class SimRules(BaseModel):
    """The figures the simulated platform enforces (its defaults are the platform's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cancel_window: timedelta = timedelta(hours=24)
    eta_guard: timedelta = timedelta(days=5)
    first_response: timedelta = timedelta(hours=24)
    solution: timedelta = timedelta(hours=48)
    refusals_before_risk: int = 2


class SimRefusal(Exception):
    """A business refusal, answered with the platform's error shape and one of its codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


OPEN = "processing"
"""AliExpress's ``issue_status`` of a dispute still being negotiated."""
FINISHED = "finish"
"""AliExpress's ``issue_status`` of a dispute that has ended."""
ARBITRATION = "arbitration"
"""The simulator's own ``issue_status`` of a dispute in the platform's arbitration (R14).

No documented ``issue_status`` value for arbitration was found: the dispute API pages
(``aliexpress.issue.issuelist.get``, ``aliexpress.issue.detail.get``) show none, and the buyer
help calls the state "Dispute Escalated" (activities.aliexpress.com/adcms/help-aliexpress-com/
claim_status.php), not an API value. The one documented API word is a solution's
``reached_type`` ``platform_arbitrate`` (``aliexpress.issue.detail.get``,
developer.alibaba.com/docs/api.htm?apiId=36222), which the verdict's solution carries here. So
the status keeps the simulator's vocabulary; it is not ``processing``, so our dispute poller
(``activities.disputes.OPEN_STATUSES``) does not take it for a dispute awaiting the seller."""
SOLUTION_PENDING = "wait_buyer_accept"
SOLUTION_REJECTED = "rejected"
SOLUTION_REACHED = "reached"


@dataclass
class SimShipment:
    """A tracking number declared on an order; ``locked`` is the first reason it froze (R4)."""

    carrier: str
    number: str
    uploaded_at: datetime
    locked: str | None = None
    scanned: bool = False
    """Whether the carrier has scanned this number (R4.2 locks this shipment, no other)."""


@dataclass
class SimMessage:
    """A message on an order's conversation."""

    content: str
    sender: str
    at: datetime


@dataclass
class SimOrder:
    """An order on the simulated platform."""

    order_id: str
    buyer_login_id: str
    total: Money
    eta: datetime
    created_at: datetime
    status: str = "WAIT_SELLER_SEND_GOODS"
    seller_id: str = "store-1"
    end_reason: str = ""
    """Why a ``FINISH`` order ended (``adapters.platform_sim.orders``)."""
    shipments: list[SimShipment] = field(default_factory=list)
    messages: list[SimMessage] = field(default_factory=list)
    withdrawal_refusals: int = 0

    @property
    def scanned(self) -> bool:
        """Whether the carrier has scanned a number the order carries now (a scan of a number
        it no longer carries, withdrawn, is about another parcel: R10)."""
        return any(s.scanned for s in self.shipments)

    @scanned.setter
    def scanned(self, value: bool) -> None:
        for shipment in self.shipments:
            shipment.scanned = value


@dataclass
class SimSolution:
    """A solution on a dispute (buyer's, seller's or the platform's ruling)."""

    solution_id: str
    owner: str
    solution_type: str
    refund: Money
    status: str
    created_at: datetime
    context: str = ""
    answered_at: datetime | None = None
    """When the other party accepted or rejected it (a ruling: when it was made)."""
    reached_type: str = ""
    """How an agreed solution was reached, in the platform's words (``reached_type`` of
    ``aliexpress.issue.detail.get``'s solution DTO): ``negotiation_consensus`` (the parties
    agreed) or ``platform_arbitrate`` (the platform's arbitration decided)."""


@dataclass
class SimEvidence:
    """An image the seller attached to a dispute, at the URL the platform gave it."""

    evidence_id: str
    file_path: str
    filename: str
    content_type: str
    size: int
    sha256: str
    at: datetime


@dataclass
class SimDispute:
    """A buyer dispute with its lazily evaluated R14 deadlines."""

    dispute_id: str
    order_id: str
    reason: str
    opened_at: datetime
    responded_at: datetime | None = None
    status: str = "processing"
    outcome: str | None = None
    solutions: list[SimSolution] = field(default_factory=list)
    evidence: list[SimEvidence] = field(default_factory=list)
    arbitration_since: datetime | None = None
    """When the buyer's rejection, after the solution deadline, sent it to arbitration (R14)."""
    decided_by: str | None = None
    """Who ended it: ``buyer`` (accepted), ``seller`` (agreed), ``deadline`` (a missed R14
    deadline) or ``arbitration`` (the platform's verdict)."""

    def seller_solutions(self) -> list[SimSolution]:
        """The seller's solutions, oldest first."""
        return [s for s in self.solutions if s.owner == "seller"]

    def pending_solution(self) -> SimSolution | None:
        """The seller's latest solution if the buyer has not answered it yet."""
        offered = self.seller_solutions()
        if offered and offered[-1].status == SOLUTION_PENDING:
            return offered[-1]
        return None


def normalise(number: str) -> str:
    """A number as the platform compares them: trimmed, upper-cased."""
    return number.strip().upper()


def withdrawal_lock(
    order: SimOrder,
    shipment: SimShipment,
    disputes: list[SimDispute],
    now: datetime,
    rules: SimRules,
) -> str | None:
    """R4: the refusal code if withdrawing ``shipment`` is no longer possible, else None."""
    if shipment.locked is not None:
        return shipment.locked
    if now - shipment.uploaded_at >= rules.cancel_window:
        return "WITHDRAW_WINDOW_CLOSED"
    if shipment.scanned:
        return "WITHDRAW_CARRIER_SCANNED"
    if any(d.reason == "not_received" for d in disputes):
        return "WITHDRAW_DISPUTE_OPEN"
    if order.eta - now <= rules.eta_guard:
        return "WITHDRAW_ETA_TOO_CLOSE"
    return None


def missed_deadline(dispute: SimDispute, now: datetime, rules: SimRules) -> datetime | None:
    """R14: the deadline the seller missed (the platform then rules against them), or None.

    A solution offered in time and not answered meets the solution deadline. One the buyer
    rejected before the deadline does not: the seller may offer another before it, else the
    platform rules at the deadline. A dispute in arbitration has no deadline left."""
    if dispute.status != OPEN:
        return None
    first = dispute.opened_at + rules.first_response
    if (dispute.responded_at is None or dispute.responded_at > first) and now >= first:
        return first
    final = dispute.opened_at + rules.solution
    if dispute.pending_solution() is None and now >= final:
        return final
    return None
