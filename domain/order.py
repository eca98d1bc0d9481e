"""The order aggregate: every fact the workflow keeps, and the deadlines that follow from them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from domain.disputes import Solution
from domain.errors import RefusalReason
from domain.events import DisputeReason, ProofOfDelivery
from domain.money import Money
from domain.photo_proof import photo_proof_reason
from domain.policy import Policy
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
    category: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    """The product category, as the marketplace names it (R13: dispute-prone categories)."""
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
    """One tracking number attached to the order (R1); ``seq`` counts uploads.

    What the carrier has said belongs to the parcel, not to the order (R10): a new upload
    starts clean, and a reship's replacement is followed as its own order with its own."""

    seq: int
    carrier: str
    tracking_number: str
    validated: bool = True
    uploaded_at: datetime
    withdrawn_at: datetime | None = None
    carrier_known: bool = False
    """R8: the carrier has a record of this number (a scan, or its answer when asked)."""
    first_scan_at: datetime | None = None
    """R4.2: when the carrier first had this parcel."""
    delivered_at: datetime | None = None
    proof_of_delivery: ProofOfDelivery | None = None
    """R13: the carrier's proof that this parcel was delivered."""


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
    rejected_late_at: datetime | None = None
    """R14: when the buyer rejected, after the solution deadline, a solution offered in time (the
    dispute then waits for the platform's arbitration)."""
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
    tracking_number: str = ""
    """The parcel a carrier fact is about ('' in entries written before facts named it)."""
    incident: str = ""
    """The trouble a carrier scan reports (lost, customs_hold, ...), if any."""


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
    ARBITRATION = "arbitration"


class Deadline(BaseModel):
    """A clock that will fire at ``at``; ``key`` makes firing it at most once."""

    model_config = ConfigDict(frozen=True)

    kind: DeadlineKind
    at: datetime
    key: str
    label: str
    event: EventKind | None
    """The event it feeds into the lifecycle, or None for a reminder."""
    strict: bool = False
    """Whether it fires only once ``at`` has passed ("more than 48 h"), not at ``at`` itself."""

    def due(self, now: datetime) -> bool:
        """Whether the clock has run out at ``now``."""
        return now > self.at if self.strict else now >= self.at

    @property
    def wake_at(self) -> datetime:
        """When a timer must wake the order for this clock to be due."""
        return self.at + STRICT_SLACK if self.strict else self.at


STRICT_SLACK = timedelta(milliseconds=1)
"""How long after ``at`` a strict clock is woken for: Temporal's timers count milliseconds."""


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
    packing_video: str | None = None
    """R13: the reference of the packing-video still (high-value orders)."""
    reships: list[Shipment] = Field(default_factory=list)
    """R16: replacement parcels sent for this order, each followed by its own workflow."""
    claimed: list[Shipment] = Field(default_factory=list)
    """R17: the lost parcels a carrier claim was opened on, each followed by its own workflow."""

    @model_validator(mode="before")
    @classmethod
    def _carrier_knowledge_per_parcel(cls, data: object) -> object:
        """Orders carried from runs before carrier facts were kept per parcel held them on the
        order: they belonged to its current parcel."""
        if not isinstance(data, dict) or not any(k in data for k in _PER_PARCEL):
            return data
        data = dict(data)
        legacy = {k: data.pop(k) for k in _PER_PARCEL if k in data}
        shipment = data.get("shipment")
        if isinstance(shipment, dict):
            data["shipment"] = {**legacy, **shipment}
        elif isinstance(shipment, Shipment):
            known = shipment.model_dump(exclude_unset=True)
            data["shipment"] = Shipment.model_validate({**legacy, **known})
        return data

    @field_validator("timeline")
    @classmethod
    def _sorted(cls, value: list[TimelineEntry]) -> list[TimelineEntry]:
        return sorted(value, key=lambda entry: entry.at)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delivered_at(self) -> datetime | None:
        """When the order's parcel was delivered, if it was."""
        return self.shipment.delivered_at if self.shipment else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def proof_of_delivery(self) -> ProofOfDelivery | None:
        """The carrier's proof of delivery of the order's parcel (R13)."""
        return self.shipment.proof_of_delivery if self.shipment else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_scan_at(self) -> datetime | None:
        """When the carrier first had the order's parcel (R4.2)."""
        return self.shipment.first_scan_at if self.shipment else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def carrier_known(self) -> bool:
        """Whether the carrier knows the order's tracking number (R8)."""
        return self.shipment.carrier_known if self.shipment else False

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


_PER_PARCEL = ("carrier_known", "first_scan_at", "delivered_at", "proof_of_delivery")


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
    if (
        dispute is not None
        and dispute.rejected_late_at
        and state is OrderState.AWAITING_ARBITRATION
    ):
        at = dispute.rejected_late_at + policy.arbitration_reminder_after
        key = f"arbitration:{dispute.dispute_id}"
        out.append(_d(DeadlineKind.ARBITRATION, at, key, "arbitration verdict expected"))
    return sorted((d for d in out if d.key not in order.fired), key=lambda d: d.at)


_FOLLOWED = frozenset({OrderState.SHIPPED, OrderState.LOCKED}) | DISPUTE_STATES


def _tracking_checks(order: Order) -> list[Deadline]:
    """R8: ask the carrier after its silent period; R12: alert on a customs hold over 48 h."""
    shipment, out = order.shipment, list[Deadline]()
    if shipment is None or order.state not in _FOLLOWED:
        return out
    if order.checks_carrier and not shipment.carrier_known:
        at = shipment.uploaded_at + order.policy.carrier_silent_period
        key = f"carrier_check:{shipment.seq}"
        out.append(_d(DeadlineKind.CARRIER_CHECK, at, key, "carrier to know the number"))
    if is_high_value(order) and order.packing_video is None:
        due = shipment.uploaded_at + order.policy.packing_video_within
        key = f"packing_video:{shipment.seq}"
        out.append(_d(DeadlineKind.PACKING_VIDEO, due, key, "packing-video still due"))
    held_since = customs_held_since(order.timeline, shipment.tracking_number)
    if held_since is not None:
        at = held_since + order.policy.customs_hold_alert
        key = f"customs:{held_since.isoformat()}"
        # R12: "held for more than 48 h": at exactly 48 h the alert is not due yet.
        out.append(_d(DeadlineKind.CUSTOMS_HOLD, at, key, "customs hold alert", strict=True))
    return out


def is_high_value(order: Order) -> bool:
    """R13: whether the order needs photo proof of delivery and a packing video."""
    return photo_proof_reason(order.facts.total, order.facts.category, order.policy) is not None


CUSTOMS_INCIDENT = "customs_hold"
"""The incident of a scan that says customs holds the parcel, whatever its status (R12)."""


def held_by_customs(entry: TimelineEntry) -> bool:
    """Whether a carrier scan says customs holds the parcel: a customs status, or an exception
    or failed delivery for a customs reason (17TRACK ``Exception_Security``)."""
    return entry.status == "customs" or entry.incident == CUSTOMS_INCIDENT


def customs_held_since(timeline: list[TimelineEntry], number: str = "") -> datetime | None:
    """When the parcel's current customs hold began, if its latest scan is a customs one.

    Only scans of ``number`` count (and entries written before scans named their number)."""
    scans = [
        e
        for e in timeline
        if e.source == "carrier" and e.status and e.tracking_number in ("", number)
    ]
    held: datetime | None = None
    for entry in scans:
        held = (held or entry.at) if held_by_customs(entry) else None
    return held


_EVENT_OF = {
    DeadlineKind.HANDLING: EventKind.HANDLING_TIME_OVER,
    DeadlineKind.CANCEL_WINDOW: EventKind.CANCEL_WINDOW_OVER,
    DeadlineKind.ETA_GUARD: EventKind.ETA_WITHIN_GUARD,
    DeadlineKind.TRACKING_HORIZON: EventKind.TRACKING_HORIZON_OVER,
    DeadlineKind.FIRST_RESPONSE: EventKind.FIRST_RESPONSE_MISSED,
    DeadlineKind.SOLUTION: EventKind.SOLUTION_MISSED,
}


def _d(kind: DeadlineKind, at: datetime, key: str, label: str, *, strict: bool = False) -> Deadline:
    return Deadline(
        kind=kind, at=at, key=key, label=label, event=_EVENT_OF.get(kind), strict=strict
    )


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
