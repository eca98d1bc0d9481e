"""The chaos run's order scripts, and what the domain model predicts each one ends in.

A script is a list of steps at fixed offsets from the order's creation. The clocks are the
platform's rules shortened by the same ``scale``; every step lies far enough from every
deadline (at least ``MARGIN`` scaled seconds) that an outage delaying it cannot change the
outcome. The prediction runs the pure ``domain.lifecycle`` over the script at its nominal
times: the final state, the side effects (their idempotency keys) and the deadlines fired.
A scan, a loss or a delivery is what the carrier simulator reports (pushed, else polled), so
the prediction takes the fact the 17TRACK adapter and ``domain.polling`` make of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from adapters import carrier_sim
from adapters.carrier_sim.protocol import track_info
from adapters.seventeentrack.responses import track_record
from adapters.seventeentrack.units import carrier_key
from domain.commands import CheckCarrier, Command, OpenCarrierClaim, StartReship
from domain.disputes import Solution, SolutionKind
from domain.events import (
    BuyerAnsweredSolution,
    BuyerConfirmed,
    CarrierScanned,
    DisputeClosed,
    DisputeOpened,
    Event,
    ParcelDelivered,
    ProposeSolution,
    RespondToDispute,
    UploadTracking,
    WithdrawTracking,
)
from domain.lifecycle import advance, decide
from domain.money import Money
from domain.order import Order, OrderFacts, pending_deadlines
from domain.policy import Policy
from domain.polling import new_facts
from domain.states import EventKind, OrderState

MARGIN = 35.0
"""Seconds (before scaling) from any step to the next deadline pending when it is due."""
CARRIER = "china_post"
TOTAL = Money(minor=40_00)


class Act(StrEnum):
    """What a script step does: a seller command (update) or an outside fact (signed hook)."""

    SHIP = "ship"
    WITHDRAW = "withdraw"
    SCAN = "scan"
    DELIVER = "deliver"
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    RESPOND = "respond"
    REFUND = "partial_refund"
    FULL_REFUND = "full_refund"
    RESHIP = "reship"
    ACCEPT = "accept"
    REJECT = "reject"
    """The buyer rejects the seller's latest solution (R14: before or after its deadline)."""
    VERDICT = "arbitration_for_seller"
    """The platform's arbitration decides for the seller (R14)."""
    LOST = "lost"
    """The carrier reports the parcel lost (17TRACK ``Exception_Lost``)."""
    OLD_SCAN = "old_scan"
    """A late pickup scan of the number shipped before the current one (withdrawn since):
    it names that number, and changes nothing about the current parcel (R10)."""


COMMANDS = frozenset({Act.SHIP, Act.WITHDRAW, Act.RESPOND, Act.REFUND, Act.FULL_REFUND, Act.RESHIP})
CARRIER_FACTS = frozenset({Act.SCAN, Act.LOST, Act.DELIVER, Act.OLD_SCAN})
"""Steps that are carrier facts: each names the tracking number it is about (R10)."""
REPORTED = {
    Act.SCAN: ("InTransit_PickedUp", "Picked up", "Yiwu"),
    Act.LOST: ("Exception_Lost", "Item lost", ""),
    Act.DELIVER: (
        "Delivered_Other",
        "Delivered, signed by front desk, photo: https://pod.example/1.jpg",
        "Lyon",
    ),
}
"""The carrier facts the carrier simulator reports, as 17TRACK sub-status, text and place. The
late scan of a withdrawn number (``OLD_SCAN``) is not among them: its tracking was stopped at
the withdrawal, so 17TRACK neither pushes nor is polled for it; the marketplace's hook tells it."""
RESHIP_CARRIER = "yanwen"


def scripted_scan(act: Act, at: datetime) -> carrier_sim.ScriptedEvent:
    """The scan the carrier simulator reports for a step ``act`` happening at ``at``."""
    sub_status, description, location = REPORTED[act]
    return carrier_sim.ScriptedEvent(
        at=at, sub_status=sub_status, description=description, location=location
    )


def tracked_fact(
    carrier: str, number: str, scan: carrier_sim.ScriptedEvent
) -> CarrierScanned | ParcelDelivered:
    """The fact an order takes of ``scan`` of ``number``, pushed or polled alike: the carrier
    simulator's 17TRACK record of it, read by the 17TRACK adapter, made a fact the one way."""
    sim = carrier_sim.SimState(clock=lambda: scan.at)
    sim.add_script(carrier_sim.ParcelScript(number=number, carrier=carrier, events=(scan,)))
    key = carrier_key(carrier)
    item = {"number": number, "carrier": key, "track_info": track_info(sim, number)}
    [fact] = new_facts(track_record(carrier, item), ())
    return fact


@dataclass(frozen=True)
class Step:
    """``act`` at ``at`` seconds (before scaling) after the order's creation."""

    at: float
    act: Act


@dataclass(frozen=True)
class Path:
    """One way through the lifecycle, and the platform clocks (seconds, before scaling)."""

    name: str
    steps: tuple[Step, ...]


def _steps(*pairs: tuple[float, Act]) -> tuple[Step, ...]:
    return tuple(Step(at, act) for at, act in pairs)


A = Act
PATHS = (
    Path("unfulfilled", ()),
    Path("completed", _steps((1, A.SHIP), (3, A.SCAN), (5, A.DELIVER), (7, A.CONFIRM))),
    Path(
        "withdrawn_and_reuploaded",
        _steps(
            (1, A.SHIP), (3, A.WITHDRAW), (5, A.SHIP), (7, A.SCAN), (9, A.DELIVER), (11, A.CONFIRM)
        ),
    ),
    Path("locked_by_window", _steps((1, A.SHIP), (100, A.DELIVER), (102, A.CONFIRM))),
    Path(
        "dispute_partial_refund",
        _steps(
            (1, A.SHIP), (3, A.SCAN), (5, A.DISPUTE), (8, A.RESPOND), (11, A.REFUND), (14, A.ACCEPT)
        ),
    ),
    Path("dispute_no_response", _steps((1, A.SHIP), (3, A.SCAN), (5, A.DISPUTE))),
    Path("dispute_no_solution", _steps((1, A.SHIP), (3, A.SCAN), (5, A.DISPUTE), (8, A.RESPOND))),
    Path(
        "lost_and_reshipped",
        _steps(
            (1, A.SHIP),
            (3, A.SCAN),
            (5, A.LOST),
            (7, A.DISPUTE),
            (10, A.RESPOND),
            (13, A.RESHIP),
            (16, A.ACCEPT),
        ),
    ),
    Path(
        "withdrawn_then_old_scanned",
        _steps(
            (1, A.SHIP),
            (3, A.WITHDRAW),
            (5, A.SHIP),
            (7, A.OLD_SCAN),
            (9, A.WITHDRAW),
            (11, A.SHIP),
            (13, A.SCAN),
            (15, A.DELIVER),
            (17, A.CONFIRM),
        ),
    ),
    Path(
        "solution_rejected_in_time",
        _steps(
            (1, A.SHIP),
            (3, A.SCAN),
            (5, A.DISPUTE),
            (8, A.RESPOND),
            (11, A.REFUND),
            (14, A.REJECT),
            (17, A.FULL_REFUND),
            (20, A.ACCEPT),
        ),
    ),
    Path(
        "solution_rejected_late",
        _steps(
            (1, A.SHIP),
            (3, A.SCAN),
            (5, A.DISPUTE),
            (8, A.RESPOND),
            (11, A.REFUND),
            (205, A.REJECT),
            (285, A.VERDICT),
        ),
    ),
)
"""Every path; the clocks below put each step at least ``MARGIN`` from each deadline."""
REPLACEMENT = Path("replacement", _steps((0, A.SHIP), (4, A.SCAN), (7, A.DELIVER), (10, A.CONFIRM)))
"""The reshipped parcel's own order (R16): it ships itself at its start (offline), then the
driver delivers it, from the moment the reship was proposed."""


def policy(scale: float) -> Policy:
    """The platform's clocks shortened: the run lasts minutes, not days."""

    def s(seconds: float) -> timedelta:
        return timedelta(seconds=seconds * scale)

    return Policy(
        handling_time=s(90),
        cancel_window=s(60),
        first_response=s(80),
        solution=s(160),
        arbitration_reminder_after=s(40),
    )


@dataclass
class Plan:
    """One order of the run: its path, its numbers, and what the driver learnt while acting."""

    order_id: str
    seller_id: str
    path: Path
    numbers: list[str]
    start: float
    """Seconds (before scaling) after the run's start at which the order is created."""
    dispute_id: str | None = None
    created_at: datetime | None = None
    replacement_of: str | None = None
    """For a reshipped parcel's order: the workflow id of the order it replaces."""
    replacement: Plan | None = None
    """The replacement order a reship started (set when the reship was proposed)."""
    hook_dropped: bool = False
    """The marketplace never sends this order's creation hook: discovery must find it."""
    late_hook: bool = False
    """Its dropped hook arrives after all, once discovery has started the order."""
    lag: float = 0.0
    """Seconds from the payment to the script's first moment (scaled already): how long
    discovery took to find an order whose hook never came. The seller acts from then on;
    the platform's clocks still run from the payment."""
    scans: list[tuple[str, str]] = field(default_factory=list)
    """(number, event id) of each scan the carrier simulator was given for this order."""

    @property
    def carrier(self) -> str:
        """The carrier its parcels travel with (a replacement: the reship's)."""
        return CARRIER if self.replacement_of is None else RESHIP_CARRIER

    def facts(self, created_at: datetime, scale: float) -> OrderFacts:
        """The order as its creation hook describes it (paid at its creation); a replacement
        as the order it replaces starts it (no ETA, shipped offline, linked)."""
        replacing = self.replacement_of is not None
        return OrderFacts(
            marketplace="aliexpress",
            order_id=self.order_id,
            seller_id=self.seller_id,
            total=TOTAL,
            paid_at=created_at,
            eta=None if replacing else created_at + timedelta(days=20),
            policy=policy(scale),
            platform_supports_withdrawal=not replacing,
            reship_of=self.replacement_of,
        )

    def number_at(self, index: int) -> str:
        """The tracking number a carrier fact of step ``index`` names: the number the order
        carries then (a replacement: its own), or for ``OLD_SCAN`` the one shipped before it."""
        if self.replacement_of is not None:
            return self.numbers[0]
        ships = sum(1 for s in self.path.steps[:index] if s.act is Act.SHIP)
        back = 2 if self.path.steps[index].act is Act.OLD_SCAN else 1
        if ships < back:
            msg = f"{self.path.name} step {index}: no parcel shipped to name"
            raise ValueError(msg)
        return self.numbers[ships - back]

    def event(self, index: int, at: datetime) -> Event:
        """The domain event of step ``index`` happening at ``at``."""
        act = self.path.steps[index].act
        ships = sum(1 for s in self.path.steps[:index] if s.act is Act.SHIP)
        event_id = f"chaos:{self.order_id}:{index}"
        number = self.number_at(index) if act in CARRIER_FACTS else None
        match act:
            case Act.SHIP if self.replacement_of is not None:
                return UploadTracking(carrier=RESHIP_CARRIER, tracking_number=self.numbers[0])
            case Act.SHIP:
                return UploadTracking(carrier=CARRIER, tracking_number=self.numbers[ships])
            case Act.WITHDRAW:
                return WithdrawTracking()
            case Act.RESPOND:
                return RespondToDispute(message="The parcel is on its way; tracking attached.")
            case Act.REFUND:
                refund = Money(minor=TOTAL.minor * 30 // 100)
                return ProposeSolution(
                    solution=Solution(kind=SolutionKind.PARTIAL_REFUND, refund=refund)
                )
            case Act.FULL_REFUND:
                return ProposeSolution(solution=Solution(kind=SolutionKind.FULL_REFUND))
            case Act.RESHIP:
                reship = Solution(
                    kind=SolutionKind.RESHIP,
                    reship_carrier=RESHIP_CARRIER,
                    reship_tracking_number=self.numbers[-1],
                )
                return ProposeSolution(solution=reship)
            case Act.SCAN | Act.LOST | Act.DELIVER:
                assert number is not None
                return tracked_fact(self.carrier, number, scripted_scan(act, at))
            case Act.OLD_SCAN:
                return CarrierScanned(
                    event_id=event_id,
                    at=at,
                    tracking_number=number,
                    status="picked_up",
                    code="PU",
                    location="Yiwu",
                )
            case Act.CONFIRM:
                return BuyerConfirmed(event_id=event_id, at=at)
            case Act.DISPUTE:
                assert self.dispute_id is not None
                return DisputeOpened(event_id=event_id, at=at, dispute_id=self.dispute_id)
            case Act.ACCEPT:
                kind = EventKind.BUYER_ACCEPTED_SOLUTION
                return BuyerAnsweredSolution(event_id=event_id, at=at, kind=kind)
            case Act.REJECT:
                kind = EventKind.BUYER_REJECTED_SOLUTION
                return BuyerAnsweredSolution(event_id=event_id, at=at, kind=kind)
            case Act.VERDICT:
                assert self.dispute_id is not None
                return DisputeClosed(
                    event_id=event_id,
                    at=at,
                    kind=EventKind.ARBITRATION_FOR_SELLER,
                    dispute_id=self.dispute_id,
                )


@dataclass(frozen=True)
class Prediction:
    """What the domain model says the order ends in."""

    state: OrderState
    keys: frozenset[str]
    """Idempotency keys of the platform side effects it causes."""
    deadlines: Counter[str] = field(default_factory=Counter)
    """Deadline kinds fired, with how often."""


def side_effect_keys(commands: tuple[Command, ...]) -> set[str]:
    """The idempotency keys of the platform writes among ``commands`` (a carrier check is a
    read; a reship and a claim start workflows, checked apart)."""
    not_platform = (CheckCarrier, StartReship, OpenCarrierClaim)
    return {c.idempotency_key for c in commands if not isinstance(c, not_platform)}


def simulate(plan: Plan, created_at: datetime, scale: float) -> tuple[Order, frozenset[str]]:
    """The order at the end of its script (every clock run out), and its side-effect keys."""
    order = Order.new(plan.facts(created_at, scale))
    keys: set[str] = set()
    for index, step in enumerate(plan.path.steps):
        at = created_at + timedelta(seconds=plan.lag + step.at * scale)
        decision = decide(order, plan.event(index, at), at)
        if decision.refusal is not None:
            msg = f"{plan.path.name} step {index} ({step.act}) refused: {decision.detail}"
            raise AssertionError(msg)
        order, keys = decision.order, keys | side_effect_keys(decision.commands)
    end = advance(order, created_at + timedelta(days=1))
    return end.order, frozenset(keys | side_effect_keys(end.commands))


def predict(plan: Plan, created_at: datetime, scale: float) -> Prediction:
    """Run the script through the pure domain model at its nominal times."""
    order, keys = simulate(plan, created_at, scale)
    if not order.state.is_terminal:
        msg = f"{plan.path.name} does not end: {order.state}"
        raise AssertionError(msg)
    return Prediction(order.state, keys, fired_deadlines(order))


def fired_deadlines(order: Order) -> Counter[str]:
    """The deadline kinds the order's timeline shows fired, with how often."""
    return Counter(e.kind for e in order.timeline if e.source == "clock")


def slack(plan: Plan, created_at: datetime, scale: float) -> float:
    """Seconds from each step to the nearest deadline at its nominal time, at the least: the
    next one pending, and the last one fired before it.

    A step delayed by less than this (an outage, a retry) meets the same clocks as planned. A
    deadline a step starts (an arbitration reminder after a late rejection) moves with that
    step's delay; the distance from it to the next step is what keeps their order.
    """
    order = Order.new(plan.facts(created_at, scale))
    least = float("inf")
    fired: list[datetime] = []
    for index, step in enumerate(plan.path.steps):
        at = created_at + timedelta(seconds=plan.lag + step.at * scale)
        settled = advance(order, at)
        order = settled.order
        fired.extend(d.at for d in settled.fired)
        if fired:
            least = min(least, (at - max(fired)).total_seconds())
        upcoming = [d.at for d in pending_deadlines(order) if d.at >= at]
        if upcoming:
            least = min(least, (min(upcoming) - at).total_seconds())
        decision = decide(order, plan.event(index, at), at)
        order = decision.order
        fired.extend(d.at for d in decision.fired)
    return least
