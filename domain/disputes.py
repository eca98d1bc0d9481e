"""Dispute solutions (R14): what a seller may offer the buyer, and which offers are valid."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.errors import RefusalReason
from domain.money import Money
from domain.tracking_numbers import TrackingNumberRefused, check_tracking_number


class SolutionKind(StrEnum):
    """The valid solutions of a dispute (R14)."""

    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RESHIP = "reship"
    RETURN_AND_REFUND = "return_and_refund"


class Solution(BaseModel):
    """A solution offered to the buyer: ``refund`` for refunds, ``reship_carrier`` for reships."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: SolutionKind
    refund: Money | None = None
    reship_carrier: str | None = None
    reship_tracking_number: str | None = None
    """R16: the replacement parcel's number (sent offline; validated like any upload)."""
    note: str = ""


def check_solution(solution: Solution, total: Money) -> Solution | tuple[RefusalReason, str]:
    """The solution made complete (a full refund is the order total), or why it is invalid."""
    refund = solution.refund
    if refund is not None and refund.currency != total.currency:
        return (
            RefusalReason.INVALID_AMOUNT,
            f"refund is in {refund.currency}, the order was paid in {total.currency}",
        )
    match solution.kind:
        case SolutionKind.FULL_REFUND:
            if refund is not None and refund != total:
                return (RefusalReason.INVALID_AMOUNT, f"a full refund is {total}, not {refund}")
            return solution.model_copy(update={"refund": total})
        case SolutionKind.PARTIAL_REFUND:
            if refund is None:
                return (RefusalReason.INVALID_AMOUNT, "a partial refund needs an amount")
            if refund.minor <= 0 or refund.minor > total.minor:
                return (
                    RefusalReason.INVALID_AMOUNT,
                    f"a partial refund must be above 0 and at most the order total {total}, "
                    f"got {refund}",
                )
            return solution
        case SolutionKind.RESHIP:
            if not solution.reship_carrier or not solution.reship_tracking_number:
                return (
                    RefusalReason.INVALID_SOLUTION,
                    "a reship needs a carrier and the new parcel's tracking number",
                )
            checked = check_tracking_number(
                solution.reship_carrier, solution.reship_tracking_number
            )
            if isinstance(checked, TrackingNumberRefused):
                return (RefusalReason.INVALID_NUMBER, checked.detail)
            return solution.model_copy(
                update={"reship_carrier": checked.carrier, "reship_tracking_number": checked.number}
            )
        case SolutionKind.RETURN_AND_REFUND:
            if refund is not None and not 0 < refund.minor <= total.minor:
                return (RefusalReason.INVALID_AMOUNT, f"refund must be within {total}")
            return solution if refund is not None else solution.model_copy(update={"refund": total})
