"""The order lifecycle's states, event kinds and transitions table: the README diagram's source."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


class OrderState(StrEnum):
    """Where an order stands after payment."""

    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"
    """Tracking uploaded, cancel window open: the number can still be withdrawn."""
    LOCKED = "locked"
    """In transit: the number can no longer be withdrawn (one-way)."""
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CLOSED_UNFULFILLED = "closed_unfulfilled"
    TRACKING_EXPIRED = "tracking_expired"
    AWAITING_FIRST_RESPONSE = "dispute_awaiting_response"
    AWAITING_SOLUTION = "dispute_awaiting_solution"
    SOLUTION_OFFERED = "dispute_solution_offered"
    AWAITING_ARBITRATION = "dispute_awaiting_arbitration"
    """The buyer rejected, after the solution deadline, a solution offered in time (R14): the
    platform's arbitration decides."""
    DISPUTE_RESOLVED = "dispute_resolved"
    RULED_AGAINST_SELLER = "ruled_against_seller"
    VOIDED = "voided"
    """Cancelled at the buyer's request with the seller's consent (R7)."""
    CLOSED_BY_PLATFORM = "closed_by_platform"
    """The marketplace ended the order for a reason none of the other ends stands for (closed
    by its risk control, refunded outside a dispute, …): nothing is left to do on it here."""

    @property
    def is_terminal(self) -> bool:
        """Whether the order's life is over (its workflow ends)."""
        return self in TERMINAL_STATES

    @property
    def in_dispute(self) -> bool:
        """Whether a buyer dispute is open."""
        return self in DISPUTE_STATES


TERMINAL_STATES: Final = frozenset(
    {
        OrderState.COMPLETED,
        OrderState.CLOSED_UNFULFILLED,
        OrderState.DISPUTE_RESOLVED,
        OrderState.RULED_AGAINST_SELLER,
        OrderState.VOIDED,
        OrderState.CLOSED_BY_PLATFORM,
    }
)
DISPUTE_STATES: Final = frozenset(
    {
        OrderState.AWAITING_FIRST_RESPONSE,
        OrderState.AWAITING_SOLUTION,
        OrderState.SOLUTION_OFFERED,
        OrderState.AWAITING_ARBITRATION,
    }
)


class EventKind(StrEnum):
    """What can happen to an order: seller commands, outside facts, and deadlines reached."""

    # Seller commands
    TRACKING_UPLOADED = "tracking_uploaded"
    WITHDRAWAL_REQUESTED = "withdrawal_requested"
    SELLER_RESPONDED = "seller_responded"
    SOLUTION_PROPOSED = "solution_proposed"
    PACKING_VIDEO_ATTACHED = "packing_video_attached"
    # Facts from the carrier, the platform and the buyer
    CARRIER_SCANNED = "carrier_scanned"
    ETA_CHANGED = "eta_changed"
    PARCEL_DELIVERED = "parcel_delivered"
    BUYER_CONFIRMED = "buyer_confirmed"
    DISPUTE_OPENED = "dispute_opened"
    BUYER_ACCEPTED_SOLUTION = "buyer_accepted_solution"
    BUYER_REJECTED_SOLUTION = "buyer_rejected_solution"
    DISPUTE_WITHDRAWN = "dispute_withdrawn"
    ARBITRATION_FOR_SELLER = "arbitration_for_seller"
    ARBITRATION_AGAINST_SELLER = "arbitration_against_seller"
    CARRIER_CHECKED = "carrier_checked"
    PLATFORM_REFUSED_UPLOAD = "platform_refused_upload"
    PLATFORM_REFUSED_WITHDRAWAL = "platform_refused_withdrawal"
    ORDER_VOIDED = "order_voided"
    ORDER_CLOSED_BY_PLATFORM = "order_closed_by_platform"
    # What a fact means at the time it happened
    SOLUTION_REJECTED_LATE = "solution_rejected_after_deadline"
    """The buyer rejected a solution offered in time, but after the solution deadline (R14)."""
    # Deadlines reached
    HANDLING_TIME_OVER = "handling_time_over"
    CANCEL_WINDOW_OVER = "cancel_window_over"
    ETA_WITHIN_GUARD = "eta_within_guard"
    TRACKING_HORIZON_OVER = "tracking_horizon_over"
    FIRST_RESPONSE_MISSED = "first_response_missed"
    SOLUTION_MISSED = "solution_missed"


S = OrderState
E = EventKind
_SHIPPED_ONWARD = (S.SHIPPED, S.LOCKED, S.DELIVERED, S.TRACKING_EXPIRED)
_DISPUTES = tuple(s for s in OrderState if s in DISPUTE_STATES)  # a stable order for the diagram

TRANSITIONS: Final[Mapping[tuple[OrderState, EventKind], OrderState]] = {
    (S.AWAITING_SHIPMENT, E.TRACKING_UPLOADED): S.SHIPPED,
    (S.AWAITING_SHIPMENT, E.HANDLING_TIME_OVER): S.CLOSED_UNFULFILLED,
    (S.SHIPPED, E.WITHDRAWAL_REQUESTED): S.AWAITING_SHIPMENT,
    (S.SHIPPED, E.CARRIER_SCANNED): S.LOCKED,
    (S.SHIPPED, E.CANCEL_WINDOW_OVER): S.LOCKED,
    (S.SHIPPED, E.ETA_WITHIN_GUARD): S.LOCKED,
    (S.SHIPPED, E.ETA_CHANGED): S.SHIPPED,
    (S.SHIPPED, E.PLATFORM_REFUSED_UPLOAD): S.AWAITING_SHIPMENT,
    (S.LOCKED, E.PLATFORM_REFUSED_UPLOAD): S.AWAITING_SHIPMENT,
    (S.AWAITING_SHIPMENT, E.PLATFORM_REFUSED_WITHDRAWAL): S.LOCKED,
    (S.LOCKED, E.CARRIER_SCANNED): S.LOCKED,
    (S.LOCKED, E.ETA_CHANGED): S.LOCKED,
    (S.LOCKED, E.TRACKING_HORIZON_OVER): S.TRACKING_EXPIRED,
    (S.TRACKING_EXPIRED, E.CARRIER_SCANNED): S.TRACKING_EXPIRED,
    (S.DELIVERED, E.CARRIER_SCANNED): S.DELIVERED,
    (S.DELIVERED, E.BUYER_CONFIRMED): S.COMPLETED,
    **{(s, E.PARCEL_DELIVERED): S.DELIVERED for s in _SHIPPED_ONWARD},
    **{(s, E.DISPUTE_OPENED): S.AWAITING_FIRST_RESPONSE for s in _SHIPPED_ONWARD},
    **{(s, E.BUYER_CONFIRMED): S.COMPLETED for s in (S.SHIPPED, S.LOCKED, S.TRACKING_EXPIRED)},
    (S.AWAITING_FIRST_RESPONSE, E.SELLER_RESPONDED): S.AWAITING_SOLUTION,
    (S.AWAITING_FIRST_RESPONSE, E.SOLUTION_PROPOSED): S.SOLUTION_OFFERED,
    (S.AWAITING_FIRST_RESPONSE, E.FIRST_RESPONSE_MISSED): S.RULED_AGAINST_SELLER,
    (S.AWAITING_SOLUTION, E.SOLUTION_PROPOSED): S.SOLUTION_OFFERED,
    (S.AWAITING_SOLUTION, E.SOLUTION_MISSED): S.RULED_AGAINST_SELLER,
    (S.SOLUTION_OFFERED, E.BUYER_ACCEPTED_SOLUTION): S.DISPUTE_RESOLVED,
    (S.SOLUTION_OFFERED, E.BUYER_REJECTED_SOLUTION): S.AWAITING_SOLUTION,
    (S.SOLUTION_OFFERED, E.SOLUTION_REJECTED_LATE): S.AWAITING_ARBITRATION,
    (S.AWAITING_SHIPMENT, E.ORDER_VOIDED): S.VOIDED,
    **{(s, E.DISPUTE_WITHDRAWN): S.DISPUTE_RESOLVED for s in _DISPUTES},
    **{(s, E.ARBITRATION_FOR_SELLER): S.DISPUTE_RESOLVED for s in _DISPUTES},
    **{(s, E.ARBITRATION_AGAINST_SELLER): S.RULED_AGAINST_SELLER for s in _DISPUTES},
    **{(s, E.CARRIER_SCANNED): s for s in _DISPUTES},
    **{(s, E.PARCEL_DELIVERED): s for s in _DISPUTES},
    **{(s, E.ETA_CHANGED): s for s in (*_DISPUTES, S.DELIVERED, S.TRACKING_EXPIRED)},
    **{
        (s, E.ORDER_CLOSED_BY_PLATFORM): S.CLOSED_BY_PLATFORM
        for s in OrderState
        if not s.is_terminal
    },
}
"""(state, event) -> next state. A pair not in the table is refused (a seller command) or only
recorded on the timeline (an outside fact)."""


NOTES: Final[Mapping[OrderState, tuple[str, ...]]] = {
    S.SOLUTION_OFFERED: (
        "a reship follows the replacement parcel as its own order (id ending -R1)",
        "and opens a CarrierClaim workflow on the lost parcel (claim states below);",
        "a rejection before the solution deadline leaves the rest of the window,",
        "after it the platform's arbitration decides",
    ),
    S.CLOSED_BY_PLATFORM: (
        "reached from every open state by order_closed_by_platform:",
        "the marketplace ended the order for another reason (closed, refunded)",
    ),
    S.AWAITING_ARBITRATION: (
        "no ruling at the solution deadline: the solution was offered in time;",
        "a reminder if no verdict comes within the policy's period (7 days)",
    ),
}
"""What a state starts outside the order's own states, drawn as a note beside it."""


def mermaid_diagram() -> str:
    """The state diagram, generated from ``TRANSITIONS`` (the README embeds it verbatim)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.AWAITING_SHIPMENT.value}"]
    for (source, event), target in TRANSITIONS.items():
        if source != target and event is not E.ORDER_CLOSED_BY_PLATFORM:
            lines.append(f"    {source.value} --> {target.value}: {event.value}")
    lines.extend(f"    {state.value} --> [*]" for state in OrderState if state.is_terminal)
    for state, note in NOTES.items():
        lines.extend([f"    note right of {state.value}", *(f"        {n}" for n in note)])
        lines.append("    end note")
    return "\n".join(lines)
