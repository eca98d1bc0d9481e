"""The order aggregate: every fact the workflow keeps, and the deadlines that follow from them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from domain.errors import RefusalReason
from domain.events import DisputeReason, ProofOfDelivery
from domain.money import Money
from domain.policy import Policy
from domain.ports import Solution
from domain.states import DISPUTE_STATES, EventKind, OrderState

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def workflow_id_for(marketplace: str, order_id: str) -> str:
    """The order workflow's id: marketplace and order id only, never buyer data."""
    for name, value in (("marketplace", marketplace), ("order_id", order_id)):
        if not _ID.fullmatch(value):
            msg = f"{name} must be 1-64 letters, digits, '.', '_' or '-', got {value!r}"
            raise ValueError(msg)
    return f"order-{marketplace.lower()}-{order_id}"


def replacement_order_id(order_id: str, seq: int) -> str:
    """R16: the order id under which the ``seq``-th replacement parcel is followed."""
    return f"{order_id}-R{seq}"


class OrderFacts(BaseModel):
    """What the order-creation hook tells us: the workflow's input, with its policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marketplace: Annotated[str, Field(pattern=_ID.pattern)] = "aliexpress"
    order_id: Annotated[str, Field(pattern=_ID.pattern)]
    seller_id: Annotated[str, Field(pattern=_ID.pattern)]
    total: Money
    paid_at: AwareDatetime
    eta: AwareDatetime | None = None
    platform_supports_withdrawal: bool = True
    reship_of: str | None = None
    """R16: the order workflow this replacement parcel belongs to (shipped offline: no platform
    upload, followed like any parcel)."""
    policy: Policy = Policy()

    @property
    def workflow_id(self) -> str:
        """The id of this order's workflow."""
        return workflow_id_for(self.marketplace, self.order_id)


class Shipment(BaseModel):
    """One tracking number attached to the order (R1); ``seq`` counts uploads."""

    seq: int
    carrier: str
    tracking_number: str
    validated: bool = True
    uploaded_at: datetime
    withdrawn_at: datetime | None = None


class Dispute(BaseModel):
    """The open (or last) buyer dispute and its two deadlines (R14)."""

    dispute_id: str
    reason: DisputeReason
    opened_at: datetime
    response_due: datetime
    solution_due: datetime
    responded_at: datetime | None = None
    solution: Solution | None = None
    solution_at: datetime | None = None
    solutions_offered: int = 0
    proof_of_delivery: ProofOfDelivery | None = None
    """D8/R13: the carrier's proof, attached to the seller's answer of a "not received" dispute."""
    response_message: str | None = None


class TimelineEntry(BaseModel):
    """One line of the order's history: when it happened, where from, what."""

    at: datetime
    source: str
    kind: str
    detail: str = ""
    code: str = ""
    event_id: str = ""
    status: str = ""
    """The normalised tracking status of a carrier scan (R10)."""


class DeadlineKind(StrEnum):
    """The clocks of an order."""

    HANDLING = "handling_time"
    CANCEL_WINDOW = "cancel_window"
    ETA_GUARD = "eta_guard"
    TRACKING_HORIZON = "tracking_horizon"
    FIRST_RESPONSE = "first_response"
    SOLUTION = "solution"
    REMINDER = "reminder"
    CARRIER_CHECK = "carrier_check"
    CUSTOMS_HOLD = "customs_hold"
    PACKING_VIDEO = "packing_video"


class Deadline(BaseModel):
    """A clock that will fire at ``at``; ``key`` makes firing it at most once."""

    model_config = ConfigDict(frozen=True)

    kind: DeadlineKind
    at: datetime
    key: str
    label: str
    event: EventKind | None
    """The event it feeds into the lifecycle, or None for a reminder."""


class Order(BaseModel):
    """The whole state of one order: serialisable, carried across continue-as-new."""

    facts: OrderFacts
    state: OrderState = OrderState.AWAITING_SHIPMENT
    eta: datetime | None = None
    eta_changed_at: datetime | None = None
    handling_due: datetime
    shipment: Shipment | None = None
    past_shipments: list[Shipment] = Field(default_factory=list)
    locked_at: datetime | None = None
    lock_reason: RefusalReason | None = None
    withdrawal_refusal: str | None = None
    first_scan_at: datetime | None = None
    delivered_at: datetime | None = None
    proof_of_delivery: ProofOfDelivery | None = None
    dispute: Dispute | None = None
    refund_from_deposit: Money | None = None
    resolution: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    seen_event_ids: list[str] = Field(default_factory=list)
    fired: list[str] = Field(default_factory=list)
    issued_keys: list[str] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    checks_carrier: bool = False
    """R8: ask the carrier after the silent period (set by workflows that support it)."""
    carrier_known: bool = False
    packing_video: str | None = None
    """R13: the reference of the packing-video still (high-value orders)."""
    reships: list[Shipment] = Field(default_factory=list)
    """R16: replacement parcels sent for this order, each followed by its own workflow."""
    claimed: list[Shipment] = Field(default_factory=list)
    """R17: the lost parcels a carrier claim was opened on, each followed by its own workflow."""

    @field_validator("timeline")
    @classmethod
    def _sorted(cls, value: list[TimelineEntry]) -> list[TimelineEntry]:
        return sorted(value, key=lambda entry: entry.at)

    @classmethod
    def new(cls, facts: OrderFacts) -> Order:
        """A freshly paid order awaiting shipment (R3a clock running)."""
        return cls(
            facts=facts, eta=facts.eta, handling_due=facts.paid_at + facts.policy.handling_time
        )

    @property
    def policy(self) -> Policy:
        """The order's policy."""
        return self.facts.policy

    def key(self, step: str) -> str:
        """The deterministic idempotency key of a side effect of this order."""
        return f"{self.facts.workflow_id}:{step}"


def pending_deadlines(order: Order) -> list[Deadline]:
    """Every clock still to fire for the order in its current state, earliest first."""
    policy, state, out = order.policy, order.state, []
    if state is OrderState.AWAITING_SHIPMENT:
        out.append(_d(DeadlineKind.HANDLING, order.handling_due, "handling", "ship by"))
    shipment = order.shipment
    if state is OrderState.SHIPPED and shipment is not None:
        closes = shipment.uploaded_at + policy.cancel_window
        out.append(_d(DeadlineKind.CANCEL_WINDOW, closes, f"cw:{shipment.seq}", "withdraw by"))
        if order.eta is not None:
            guard = order.eta - policy.eta_guard
            out.append(_d(DeadlineKind.ETA_GUARD, guard, f"eta:{shipment.seq}", "ETA guard"))
    if state is OrderState.LOCKED and shipment is not None:
        horizon = shipment.uploaded_at + policy.tracking_horizon
        out.append(_d(DeadlineKind.TRACKING_HORIZON, horizon, "horizon", "delivery expected by"))
    out.extend(_tracking_checks(order))
    dispute = order.dispute
    if dispute is not None and state is OrderState.AWAITING_FIRST_RESPONSE:
        out.extend(_with_reminders(order, DeadlineKind.FIRST_RESPONSE, dispute.response_due))
    if dispute is not None and state is OrderState.AWAITING_SOLUTION:
        out.extend(_with_reminders(order, DeadlineKind.SOLUTION, dispute.solution_due))
    return sorted((d for d in out if d.key not in order.fired), key=lambda d: d.at)


_FOLLOWED = frozenset({OrderState.SHIPPED, OrderState.LOCKED}) | DISPUTE_STATES


def _tracking_checks(order: Order) -> list[Deadline]:
    """R8: ask the carrier after its silent period; R12: alert on a customs hold over 48 h."""
    shipment, out = order.shipment, list[Deadline]()
    if shipment is None or order.state not in _FOLLOWED:
        return out
    if order.checks_carrier and not order.carrier_known:
        at = shipment.uploaded_at + order.policy.carrier_silent_period
        key = f"carrier_check:{shipment.seq}"
        out.append(_d(DeadlineKind.CARRIER_CHECK, at, key, "carrier to know the number"))
    if is_high_value(order) and order.packing_video is None:
        due = shipment.uploaded_at + order.policy.packing_video_within
        key = f"packing_video:{shipment.seq}"
        out.append(_d(DeadlineKind.PACKING_VIDEO, due, key, "packing-video still due"))
    held_since = customs_held_since(order.timeline)
    if held_since is not None:
        at = held_since + order.policy.customs_hold_alert
        key = f"customs:{held_since.isoformat()}"
        out.append(_d(DeadlineKind.CUSTOMS_HOLD, at, key, "customs hold alert"))
    return out


def is_high_value(order: Order) -> bool:
    """R13: above the policy amount (same currency), proof of delivery and video are required."""
    total, limit = order.facts.total, order.policy.high_value
    return total.currency == limit.currency and total.minor > limit.minor


def customs_held_since(timeline: list[TimelineEntry]) -> datetime | None:
    """When the parcel's current customs hold began, if its latest scan is a customs one."""
    scans = [e for e in timeline if e.source == "carrier" and e.status]
    held: datetime | None = None
    for entry in scans:
        held = (held or entry.at) if entry.status == "customs" else None
    return held


_EVENT_OF = {
    DeadlineKind.HANDLING: EventKind.HANDLING_TIME_OVER,
    DeadlineKind.CANCEL_WINDOW: EventKind.CANCEL_WINDOW_OVER,
    DeadlineKind.ETA_GUARD: EventKind.ETA_WITHIN_GUARD,
    DeadlineKind.TRACKING_HORIZON: EventKind.TRACKING_HORIZON_OVER,
    DeadlineKind.FIRST_RESPONSE: EventKind.FIRST_RESPONSE_MISSED,
    DeadlineKind.SOLUTION: EventKind.SOLUTION_MISSED,
}


def _d(kind: DeadlineKind, at: datetime, key: str, label: str) -> Deadline:
    return Deadline(kind=kind, at=at, key=key, label=label, event=_EVENT_OF.get(kind))


def _with_reminders(order: Order, kind: DeadlineKind, due: datetime) -> list[Deadline]:
    assert order.dispute is not None  # noqa: S101 - callers check
    dispute_id, opened = order.dispute.dispute_id, order.dispute.opened_at
    label = "first response due" if kind is DeadlineKind.FIRST_RESPONSE else "solution due"
    out = [_d(kind, due, f"{kind.value}:{dispute_id}", label)]
    window: timedelta = due - opened
    for fraction in order.policy.reminder_fractions:
        at = opened + window * fraction
        key = f"reminder:{kind.value}:{dispute_id}:{fraction:g}"
        text = f"{fraction:.0%} of the {kind.value.replace('_', ' ')} window gone"
        out.append(_d(DeadlineKind.REMINDER, at, key, text))
    return out
