"""The order lifecycle: ``decide(order, event, now)`` returns the next order and its commands.

Pure: no I/O, no clock (``now`` is an argument), no Temporal. Time-driven transitions
(deadlines) are applied by ``advance`` before and after every event, so a decision taken at
``now`` always sees every clock that ran out by ``now``, exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from domain.alternatives import withdrawal_alternatives
from domain.commands import (
    CheckCarrier,
    Command,
    MessageBuyer,
    OpenCarrierClaim,
    SendDisputeResponse,
    SendSolution,
    SendTrackingUpload,
    SendWithdrawal,
    StartReship,
)
from domain.disputes import Solution, SolutionKind, check_solution
from domain.errors import RefusalReason, reason_named
from domain.events import (
    AttachPackingVideo,
    BuyerAnsweredSolution,
    BuyerConfirmed,
    CarrierChecked,
    CarrierFact,
    CarrierScanned,
    DisputeClosed,
    DisputeOpened,
    DisputeReason,
    EtaChanged,
    Event,
    Fact,
    OrderClosedByPlatform,
    OrderVoided,
    ParcelDelivered,
    ProposeSolution,
    RefusedByPlatform,
    RespondToDispute,
    UploadTracking,
    WithdrawTracking,
    parcel_number,
)
from domain.order import (
    Deadline,
    DeadlineKind,
    Dispute,
    Order,
    Shipment,
    TimelineEntry,
    pending_deadlines,
)
from domain.photo_proof import photo_proof_reason
from domain.states import TRANSITIONS, EventKind, OrderState
from domain.tracking_codes import NOT_A_SCAN
from domain.tracking_numbers import TrackingNumberRefused, check_tracking_number

R = RefusalReason
S = OrderState
BUYER_MESSAGED = "buyer_messaged"
"""The timeline kind of a message sent to the buyer (R16: a reship's new number)."""
_LOCK_REASON = {
    DeadlineKind.CANCEL_WINDOW: R.WINDOW_CLOSED,
    DeadlineKind.ETA_GUARD: R.ETA_TOO_CLOSE,
}


@dataclass(frozen=True)
class Decision:
    """The outcome of one event: the next order, the commands to run, or why it was refused."""

    order: Order
    commands: tuple[Command, ...] = ()
    refusal: RefusalReason | None = None
    detail: str = ""
    duplicate: bool = False
    fired: tuple[Deadline, ...] = ()

    @property
    def refused(self) -> bool:
        """Whether the event was refused (the order is then unchanged by it)."""
        return self.refusal is not None


def _clone(order: Order) -> Order:
    # A round trip through plain data: 4x faster than deepcopy, and safe in Temporal's sandbox
    # (deepcopy of sandbox-proxied values can run for seconds).
    return Order.model_validate(order.model_dump())


def advance(order: Order, now: datetime) -> Decision:
    """Fire, in time order and once each, every deadline that ran out by ``now``."""
    current = _clone(order)
    commands: list[Command] = []
    fired = _settle(current, now, commands)
    current.issued_keys.extend(c.idempotency_key for c in commands)
    return Decision(order=current, commands=tuple(commands), fired=tuple(fired))


def decide(order: Order, event: Event, now: datetime) -> Decision:
    """Apply ``event`` at ``now``: the next order and commands, or a typed refusal."""
    settled = advance(order, now)
    current = _clone(settled.order)
    event_id = getattr(event, "event_id", None)
    before = settled.commands
    if event_id is not None and event_id in current.seen_event_ids:
        return Decision(order=settled.order, commands=before, duplicate=True, fired=settled.fired)
    try:
        commands = _apply(current, event, now)
    except _Refusal as refusal:
        return Decision(
            order=settled.order,
            commands=before,
            refusal=refusal.reason,
            detail=refusal.detail,
            fired=settled.fired,
        )
    if event_id is not None:
        current.seen_event_ids.append(event_id)
    later = _settle(current, now, commands)
    current.issued_keys.extend(c.idempotency_key for c in commands)
    return Decision(order=current, commands=(*before, *commands), fired=(*settled.fired, *later))


def counts_at(order: Order, fact: Fact, now: datetime, decided_until: datetime) -> datetime:
    """When an outside ``fact`` handed to the order at ``now`` counts: ``now``, unless a clock
    ran out between the time the fact happened and ``now``.

    A worker outage can hand the order a fact together with a timer that fired after it (both
    late, in one workflow task): a scan made inside the cancel window, a dispute closed before
    its solution deadline. Such a fact counts at the time it happened, as it did on the
    platform: the scan locks the order as scanned and the window does not run out. Never before
    ``decided_until`` (what the order has already acted on stays acted on), never after ``now``.
    """
    since = min(max(fact.at, decided_until), now)
    if any(d.due(now) and not d.due(since) for d in pending_deadlines(order)):
        return since
    return now


class _Refusal(Exception):
    def __init__(self, reason: RefusalReason, detail: str) -> None:
        self.reason, self.detail = reason, detail


def _move(order: Order, kind: EventKind) -> None:
    order.state = TRANSITIONS[(order.state, kind)]


def _note(order: Order, at: datetime, source: str, kind: str, detail: str = "", **kw: str) -> None:
    order.timeline.append(TimelineEntry(at=at, source=source, kind=kind, detail=detail, **kw))
    order.timeline.sort(key=lambda entry: entry.at)


def _lock(order: Order, at: datetime, reason: RefusalReason) -> None:
    if order.locked_at is None:
        order.locked_at, order.lock_reason = at, reason


def _apply(order: Order, event: Event, now: datetime) -> list[Command]:
    if isinstance(event, _SELLER_COMMANDS) and order.state.is_terminal:
        _refuse_if_ended(order, event)
    match event:
        case UploadTracking():
            return _upload(order, event, now)
        case WithdrawTracking():
            return _withdraw(order, now)
        case RespondToDispute():
            return _respond(order, event, now)
        case ProposeSolution():
            return _propose(order, event, now)
        case AttachPackingVideo():
            _attach_video(order, event, now)
        case CarrierScanned():
            _scanned(order, event, now)
        case ParcelDelivered():
            _delivered(order, event, now)
        case OrderVoided():
            _voided(order, event)
        case OrderClosedByPlatform():
            _closed_by_platform(order, event)
        case EtaChanged():
            order.eta, order.eta_changed_at = event.eta, event.at
            _note(order, event.at, "platform", "eta_changed", f"ETA {event.eta.isoformat()}")
        case BuyerConfirmed():
            if event.auto:
                detail = "auto-confirmed by the platform: the buyer's confirmation period ended"
                _note(order, event.at, "platform", "buyer_confirmed", detail)
            else:
                _note(order, event.at, "buyer", "buyer_confirmed")
            if (order.state, event.kind) in TRANSITIONS:
                _move(order, event.kind)
        case DisputeOpened():
            _dispute_opened(order, event, now)
        case BuyerAnsweredSolution():
            _buyer_answered(order, event)
        case DisputeClosed():
            _dispute_closed(order, event)
        case CarrierChecked():
            _carrier_checked(order, event)
        case RefusedByPlatform():
            _platform_refused(order, event, now)
        case _:
            assert_never(event)
    return []


_SELLER_COMMANDS = (
    UploadTracking,
    WithdrawTracking,
    RespondToDispute,
    ProposeSolution,
    AttachPackingVideo,
)


def _refuse_if_ended(order: Order, event: Event) -> None:
    """A command to an order whose life is over is refused naming its final state; a late
    answer to a dispute already ruled on says which deadline passed."""
    late_answer = isinstance(event, RespondToDispute | ProposeSolution)
    if late_answer and order.state is S.RULED_AGAINST_SELLER:
        return
    ended = f"the order has ended: {order.state.value}"
    raise _Refusal(R.ORDER_ENDED, ended + (f" ({order.resolution})" if order.resolution else ""))


def _upload(order: Order, event: UploadTracking, now: datetime) -> list[Command]:
    if order.state is not S.AWAITING_SHIPMENT:
        raise _Refusal(R.WRONG_STATE, f"the order is {order.state.value}, not awaiting shipment")
    checked = check_tracking_number(event.carrier, event.tracking_number)
    if isinstance(checked, TrackingNumberRefused):
        raise _Refusal(R.INVALID_NUMBER, checked.detail)
    seq = len(order.past_shipments) + 1
    order.shipment = Shipment(
        seq=seq,
        carrier=checked.carrier,
        tracking_number=checked.number,
        validated=checked.validated,
        uploaded_at=now,
    )
    order.locked_at = order.lock_reason = None
    _move(order, event.kind)
    _note(order, now, "seller", "tracking_uploaded", f"{checked.carrier} {checked.number}")
    if order.facts.reship_of is not None:  # sent offline: a closed order takes no number
        return []
    facts = order.facts
    if reason := photo_proof_reason(facts.total, facts.category, order.policy):
        order.notices.append(
            f"{now.isoformat()} {reason} (R13): ship on a line with photo proof of delivery"
            " and attach the packing-video still within"
            f" {order.policy.packing_video_within}"
        )
    return [
        SendTrackingUpload(
            idempotency_key=order.key(f"upload:{seq}"),
            order_id=order.facts.order_id,
            carrier=checked.carrier,
            tracking_number=checked.number,
            seller_id=order.facts.seller_id,
        )
    ]


def _withdraw(order: Order, now: datetime) -> list[Command]:
    if order.withdrawal_refusal is not None and order.lock_reason is not None:
        raise _Refusal(order.lock_reason, f"already refused: {order.withdrawal_refusal}")
    if not order.facts.platform_supports_withdrawal:
        ways = "; ".join(withdrawal_alternatives(order, now)) or "nothing shipped"
        raise _Refusal(
            R.WITHDRAWAL_UNSUPPORTED, f"the marketplace offers no withdrawal; instead (R9): {ways}"
        )
    shipment = order.shipment
    if order.state is S.SHIPPED and shipment is not None:
        shipment.withdrawn_at = now
        order.past_shipments.append(shipment)
        order.shipment = None
        if order.handling_due <= now:
            order.handling_due = now + order.policy.reupload_grace
        _move(order, EventKind.WITHDRAWAL_REQUESTED)
        _note(order, now, "seller", "tracking_withdrawn", shipment.tracking_number)
        return [
            SendWithdrawal(
                idempotency_key=order.key(f"withdraw:{shipment.seq}"),
                order_id=order.facts.order_id,
                tracking_number=shipment.tracking_number,
            )
        ]
    if order.locked_at is not None and order.lock_reason is not None:
        since = order.locked_at.isoformat()
        ways = "; ".join(withdrawal_alternatives(order, now))
        detail = f"locked since {since} ({order.lock_reason.value})"
        raise _Refusal(order.lock_reason, detail + (f"; instead (R9): {ways}" if ways else ""))
    raise _Refusal(R.WRONG_STATE, f"the order is {order.state.value}: nothing to withdraw")


def _respond(order: Order, event: RespondToDispute, now: datetime) -> list[Command]:
    dispute = _open_dispute_or_refuse(order, {S.AWAITING_FIRST_RESPONSE})
    dispute.responded_at = now
    _move(order, event.kind)
    _note(order, now, "seller", "dispute_responded", dispute.dispute_id)
    key = order.key(f"dispute:{dispute.dispute_id}:response")
    message = event.message + _proof_text(dispute)
    dispute.response_message = message
    return [
        SendDisputeResponse(idempotency_key=key, dispute_id=dispute.dispute_id, message=message)
    ]


def _proof_text(dispute: Dispute) -> str:
    """R13: the platform believes the carrier's proof of delivery, so the answer carries it."""
    proof = dispute.proof_of_delivery
    if proof is None:
        return ""
    parts = [f"signed by {proof.signer}" if proof.signer else "", proof.photo_url or ""]
    return "\n\nCarrier proof of delivery: " + ", ".join(p for p in parts if p)


def _propose(order: Order, event: ProposeSolution, now: datetime) -> list[Command]:
    dispute = _open_dispute_or_refuse(order, {S.AWAITING_FIRST_RESPONSE, S.AWAITING_SOLUTION})
    checked = check_solution(event.solution, order.facts.total)
    if isinstance(checked, tuple):
        raise _Refusal(*checked)
    if checked.kind is SolutionKind.RESHIP:
        _refuse_own_number(order, checked.reship_tracking_number or "")
    if dispute.responded_at is None:
        dispute.responded_at = now
    dispute.solution, dispute.solution_at = checked, now
    dispute.solutions_offered += 1
    _move(order, event.kind)
    _note(order, now, "seller", "solution_proposed", checked.kind.value)
    key = order.key(f"dispute:{dispute.dispute_id}:solution:{dispute.solutions_offered}")
    commands: list[Command] = [
        SendSolution(idempotency_key=key, dispute_id=dispute.dispute_id, solution=checked)
    ]
    if checked.kind is SolutionKind.RESHIP:
        commands.extend(_reship(order, checked, now))
    return commands


def _refuse_own_number(order: Order, number: str) -> None:
    """R2/R16: a replacement parcel is a new parcel: it never takes the lost parcel's number (nor
    any number this order already used)."""
    lost = order.shipment
    if lost is not None and parcel_number(number) == lost.tracking_number:
        raise _Refusal(
            R.DUPLICATE, f"{number} is the lost parcel's own number: reship under a new one"
        )
    used = [*order.past_shipments, *order.reships]
    if any(parcel_number(number) == shipment.tracking_number for shipment in used):
        raise _Refusal(R.DUPLICATE, f"{number} was already used on this order")


def _reship(order: Order, solution: Solution, now: datetime) -> list[Command]:
    """R16: a linked replacement parcel, the buyer told its number, a claim on the lost one."""
    carrier, number = solution.reship_carrier or "", solution.reship_tracking_number or ""
    seq = len(order.reships) + 1
    order.reships.append(
        Shipment(seq=seq, carrier=carrier, tracking_number=number, uploaded_at=now)
    )
    order.notices.append(f"{now.isoformat()} reship {seq}: postage is paid again (R6)")
    _note(order, now, "seller", "reship", f"{carrier} {number}")
    text = (
        f"We are sending you a replacement: {carrier} tracking number {number}. "
        "It cannot be entered on this order, so please follow it with this number."
    )
    _note(order, now, "seller", BUYER_MESSAGED, text)
    commands: list[Command] = [
        MessageBuyer(
            idempotency_key=order.key(f"reship:{seq}:message"),
            order_id=order.facts.order_id,
            text=text,
        ),
        StartReship(
            idempotency_key=order.key(f"reship:{seq}"),
            seq=seq,
            carrier=carrier,
            tracking_number=number,
        ),
    ]
    lost = order.shipment
    if lost is not None and order.delivered_at is None:
        order.claimed.append(lost.model_copy())
        commands.append(
            OpenCarrierClaim(
                idempotency_key=order.key(f"claim:{lost.seq}"),
                carrier=lost.carrier,
                tracking_number=lost.tracking_number,
                declared_value=order.facts.total,
            )
        )
    return commands


def _attach_video(order: Order, event: AttachPackingVideo, now: datetime) -> None:
    if order.shipment is None or order.state.is_terminal:
        raise _Refusal(R.WRONG_STATE, f"the order is {order.state.value}: nothing shipped")
    order.packing_video = event.reference
    _note(order, now, "seller", "packing_video_attached", event.reference)


def _open_dispute_or_refuse(order: Order, states: set[OrderState]) -> Dispute:
    if order.state in states and order.dispute is not None:
        return order.dispute
    if order.state is S.RULED_AGAINST_SELLER:
        raise _Refusal(R.DEADLINE_PASSED, order.resolution or "the dispute deadline passed")
    raise _Refusal(R.WRONG_STATE, f"the order is {order.state.value}")


def _parcel_of(order: Order, event: CarrierFact) -> Shipment | None:
    """The order's parcel a carrier fact is about; None when it names another number (one the
    order no longer carries, or never did): that fact changes nothing about the parcel (R10)."""
    shipment = order.shipment
    if shipment is None:
        return None
    if event.tracking_number is None or event.tracking_number == shipment.tracking_number:
        return shipment
    return None


def _number_of(order: Order, event: CarrierFact) -> str:
    if event.tracking_number is not None:
        return event.tracking_number
    return order.shipment.tracking_number if order.shipment else ""


def _scanned(order: Order, event: CarrierScanned, now: datetime) -> None:
    detail = " ".join(p for p in (event.status, event.description, event.location) if p)
    _note(
        order,
        event.at,
        "carrier",
        "scan",
        detail,
        code=event.code,
        event_id=event.event_id,
        status=event.status,
        tracking_number=_number_of(order, event),
        incident=event.incident,
    )
    parcel = _parcel_of(order, event)
    if parcel is None:
        return
    parcel.carrier_known = True
    if event.status == "delivered":
        # Our own scans never come here delivered: the one conversion (domain.polling.new_facts)
        # makes a delivery scan ParcelDelivered. Kept for the senders that still may: the
        # marketplace event hook takes any fact, and an operator may signal one by hand. No
        # committed history holds such a fact; dropping it would lose a real delivery.
        delivery = ParcelDelivered(
            event_id=event.event_id,
            at=event.at,
            code=event.code,
            tracking_number=event.tracking_number,
        )
        _delivered(order, delivery, now)
        return
    if event.status in NOT_A_SCAN:
        return
    if parcel.first_scan_at is None or event.at < parcel.first_scan_at:
        parcel.first_scan_at = event.at
    if order.state is S.SHIPPED:
        _lock(order, min(max(event.at, parcel.uploaded_at), now), R.CARRIER_SCANNED)
    if (order.state, event.kind) in TRANSITIONS:
        _move(order, event.kind)


def _delivered(order: Order, event: ParcelDelivered, now: datetime) -> None:
    if not any(e.event_id == event.event_id for e in order.timeline):
        _note(
            order,
            event.at,
            "carrier",
            "delivered",
            code=event.code,
            event_id=event.event_id,
            status="delivered",
            tracking_number=_number_of(order, event),
        )
    parcel = _parcel_of(order, event)
    if parcel is None:
        return
    parcel.carrier_known = True
    if parcel.delivered_at is None:
        parcel.delivered_at = event.at
    if event.proof is not None:
        parcel.proof_of_delivery = event.proof
    if order.state is S.SHIPPED:
        _lock(order, min(event.at, now), R.CARRIER_SCANNED)
    if (order.state, event.kind) in TRANSITIONS:
        _move(order, event.kind)


def _dispute_opened(order: Order, event: DisputeOpened, now: datetime) -> None:
    known = order.dispute
    if known is not None and known.dispute_id == event.dispute_id:
        return  # the same dispute again: its webhook and the platform's list both report it
    _note(order, event.at, "buyer", "dispute_opened", event.reason.value, event_id=event.event_id)
    if (order.state, event.kind) not in TRANSITIONS:
        order.notices.append(f"dispute {event.dispute_id} opened while {order.state.value}")
        return
    policy = order.policy
    response_due = event.at + policy.first_response
    solution_due = event.at + policy.solution
    if event.platform_response_deadline is not None:
        response_due = min(response_due, event.platform_response_deadline)
    if event.platform_solution_deadline is not None:
        solution_due = min(solution_due, event.platform_solution_deadline)
    attach = event.reason is DisputeReason.NOT_RECEIVED and order.delivered_at is not None
    order.dispute = Dispute(
        dispute_id=event.dispute_id,
        reason=event.reason,
        opened_at=event.at,
        response_due=response_due,
        solution_due=solution_due,
        proof_of_delivery=order.proof_of_delivery if attach else None,
    )
    if attach and order.proof_of_delivery is None:
        order.notices.append(
            f"{event.at.isoformat()} warning (R13): 'not received' dispute {event.dispute_id} on"
            " a parcel delivered without proof of delivery: the platform sides with the buyer."
            " Offer a full refund or a reship (or a partial refund the buyer accepts):"
            f" first response due {response_due.isoformat()},"
            f" solution due {solution_due.isoformat()}"
        )
    if order.state is S.SHIPPED:
        _lock(order, min(event.at, now), R.DISPUTE_OPEN)
    _move(order, event.kind)


def _buyer_answered(order: Order, event: BuyerAnsweredSolution) -> None:
    _note(order, event.at, "buyer", event.kind.value, event_id=event.event_id)
    if (order.state, event.kind) not in TRANSITIONS:
        return
    dispute = order.dispute
    rejected = event.kind is EventKind.BUYER_REJECTED_SOLUTION
    if rejected and dispute is not None and event.at >= dispute.solution_due:
        # R14: the solution was offered in time, so the deadline is met; the platform decides.
        dispute.rejected_late_at = event.at
        _move(order, EventKind.SOLUTION_REJECTED_LATE)
        _note(order, event.at, "platform", "arbitration", dispute.dispute_id)
        order.notices.append(
            f"{event.at.isoformat()} the buyer rejected the solution after the solution deadline:"
            f" dispute {dispute.dispute_id} goes to the platform's arbitration (R14)"
        )
        return
    _move(order, event.kind)
    if order.state is S.DISPUTE_RESOLVED and dispute and dispute.solution:
        order.resolution = f"buyer accepted {dispute.solution.kind.value}"


def _dispute_closed(order: Order, event: DisputeClosed) -> None:
    _note(order, event.at, "platform", event.kind.value, event.dispute_id, event_id=event.event_id)
    dispute = order.dispute
    if dispute is None or dispute.dispute_id != event.dispute_id:
        order.notices.append(f"{event.kind.value} for unknown dispute {event.dispute_id}")
        return
    if (order.state, event.kind) not in TRANSITIONS:
        return
    _move(order, event.kind)
    if event.kind is EventKind.ARBITRATION_AGAINST_SELLER:
        order.refund_from_deposit = event.refund or order.facts.total
        order.resolution = (
            f"arbitration ruled against the seller: refund {order.refund_from_deposit}"
        )
    elif event.kind is EventKind.ARBITRATION_FOR_SELLER:
        order.resolution = "arbitration ruled for the seller"
    else:
        order.resolution = "the buyer withdrew the dispute"


def _carrier_checked(order: Order, event: CarrierChecked) -> None:
    number = _number_of(order, event)
    parcel = _parcel_of(order, event)
    if event.known:
        if parcel is not None:
            parcel.carrier_known = True
        detail = f"the carrier knows {number}"
        _note(order, event.at, "carrier", "carrier_checked", detail, tracking_number=number)
        return
    warning = "carrier does not know this number yet (R8): check the label and the pickup"
    _note(order, event.at, "carrier", "carrier_checked", warning, tracking_number=number)
    if parcel is not None:
        order.notices.append(f"{event.at.isoformat()} warning: {warning}")


def _voided(order: Order, event: OrderVoided) -> None:
    detail = event.reason or "cancelled at the buyer's request with the seller's consent"
    _note(order, event.at, "platform", "order_voided", detail, event_id=event.event_id)
    if (order.state, event.kind) not in TRANSITIONS:
        order.notices.append(
            f"{event.at.isoformat()} the platform reports the order voided while"
            f" {order.state.value}: check it on the platform"
        )
        return
    _move(order, event.kind)
    order.resolution = f"voided: {detail} (R7: counts toward the void rate)"


def _closed_by_platform(order: Order, event: OrderClosedByPlatform) -> None:
    reason = event.reason or "no reason given"
    detail = f"the marketplace ended the order ({reason})"
    _note(order, event.at, "platform", "order_closed_by_platform", detail, code=event.reason)
    if (order.state, event.kind) not in TRANSITIONS:
        return
    was = order.state
    _move(order, event.kind)
    order.resolution = f"closed by the platform: {reason} (while {was.value})"
    order.notices.append(
        f"{event.at.isoformat()} the platform ended the order while {was.value} ({reason}):"
        " check on the platform what it cost (refund, penalty)"
    )


def _platform_refused(order: Order, event: RefusedByPlatform, now: datetime) -> None:
    _note(order, event.at, "platform", event.kind.value, f"{event.code}: {event.message}")
    if (order.state, event.kind) not in TRANSITIONS:
        return
    if event.kind is EventKind.PLATFORM_REFUSED_UPLOAD and order.shipment is not None:
        # The number never got attached: the shipment (and any lock it caused) is void.
        order.past_shipments.append(order.shipment)
        order.shipment = None
        order.locked_at = order.lock_reason = None
        _move(order, event.kind)
    elif event.kind is EventKind.PLATFORM_REFUSED_WITHDRAWAL and _last_withdrawn(order):
        order.shipment = order.past_shipments.pop()
        order.shipment.withdrawn_at = None
        order.locked_at, order.lock_reason = now, reason_named(event.code)
        order.withdrawal_refusal = f"{event.code}: {event.message}"
        _move(order, event.kind)


def _last_withdrawn(order: Order) -> bool:
    return bool(order.past_shipments) and order.past_shipments[-1].withdrawn_at is not None


def _settle(order: Order, now: datetime, commands: list[Command] | None = None) -> list[Deadline]:
    fired: list[Deadline] = []
    while True:
        due = [d for d in pending_deadlines(order) if d.due(now)]
        if not due:
            return fired
        deadline = due[0]
        order.fired.append(deadline.key)
        fired.append(deadline)
        _note(order, deadline.at, "clock", deadline.kind.value, deadline.label)
        if deadline.kind is DeadlineKind.CARRIER_CHECK and order.shipment is not None:
            if commands is not None:
                commands.append(_check_carrier(order, order.shipment))
            continue
        if deadline.kind is DeadlineKind.PACKING_VIDEO:
            order.notices.append(
                f"{deadline.at.isoformat()} warning: high-value order without its packing-video"
                " still (R13): a 'not as described' dispute will be hard to answer"
            )
            continue
        if deadline.kind is DeadlineKind.CUSTOMS_HOLD:
            since = (deadline.at - order.policy.customs_hold_alert).isoformat()
            order.notices.append(f"{deadline.at.isoformat()} alert: held in customs since {since}")
            continue
        if deadline.kind is DeadlineKind.ARBITRATION and order.dispute is not None:
            order.notices.append(
                f"{deadline.at.isoformat()} reminder: no arbitration verdict on dispute"
                f" {order.dispute.dispute_id} {order.policy.arbitration_reminder_after} after the"
                " buyer's late rejection: check the platform and add evidence"
            )
            continue
        if deadline.event is None:
            order.notices.append(f"{deadline.at.isoformat()} reminder: {deadline.label}")
            continue
        _move(order, deadline.event)
        _on_deadline(order, deadline)


def _check_carrier(order: Order, shipment: Shipment) -> CheckCarrier:
    return CheckCarrier(
        idempotency_key=order.key(f"carrier_check:{shipment.seq}"),
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
    )


def _on_deadline(order: Order, deadline: Deadline) -> None:
    kind = deadline.kind
    if kind in _LOCK_REASON and order.shipment is not None:
        # An ETA moved closer locks when the move became known, not when the guard "was" due.
        known = [deadline.at, order.shipment.uploaded_at, order.eta_changed_at or deadline.at]
        _lock(order, max(known), _LOCK_REASON[kind])
    elif kind in (DeadlineKind.FIRST_RESPONSE, DeadlineKind.SOLUTION):
        order.refund_from_deposit = order.facts.total
        order.resolution = f"ruled against the seller: {kind.value} deadline missed"
    elif kind is DeadlineKind.TRACKING_HORIZON:
        order.notices.append("tracking expired: open a carrier claim or reship (R11)")
    elif kind is DeadlineKind.HANDLING:
        order.resolution = "closed unfulfilled: not shipped within the handling time (R3a)"
