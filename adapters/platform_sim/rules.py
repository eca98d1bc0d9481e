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


@dataclass
class SimShipment:
    """A tracking number declared on an order; ``locked`` is the first reason it froze (R4)."""

    carrier: str
    number: str
    uploaded_at: datetime
    locked: str | None = None


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
    scanned: bool = False
    shipments: list[SimShipment] = field(default_factory=list)
    messages: list[SimMessage] = field(default_factory=list)
    withdrawal_refusals: int = 0


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
    if order.scanned:
        return "WITHDRAW_CARRIER_SCANNED"
    if any(d.reason == "not_received" for d in disputes):
        return "WITHDRAW_DISPUTE_OPEN"
    if order.eta - now <= rules.eta_guard:
        return "WITHDRAW_ETA_TOO_CLOSE"
    return None


def missed_deadline(dispute: SimDispute, now: datetime, rules: SimRules) -> datetime | None:
    """R14: the deadline the seller missed (the platform then rules against them), or None."""
    if dispute.status != "processing":
        return None
    first = dispute.opened_at + rules.first_response
    if (dispute.responded_at is None or dispute.responded_at > first) and now >= first:
        return first
    has_solution = any(s.owner == "seller" for s in dispute.solutions)
    final = dispute.opened_at + rules.solution
    if not has_solution and now >= final:
        return final
    return None
