"""The carrier claim's transitions table (R17): the README claim diagram's source."""

from __future__ import annotations

from typing import Final

from domain.claims import FINAL_STATES, ClaimState

C = ClaimState

CLAIM_TRANSITIONS: Final[tuple[tuple[ClaimState, ClaimState, str], ...]] = (
    (C.TO_FILE, C.FILED, "filed_by_api"),
    (C.TO_FILE, C.AWAITING_MANUAL_FILING, "no_api_or_api_filing_failed"),
    (C.AWAITING_MANUAL_FILING, C.FILED, "filed_manually"),
    (C.TO_FILE, C.EXPIRED, "filing_deadline_over"),
    (C.AWAITING_MANUAL_FILING, C.EXPIRED, "filing_deadline_over"),
    (C.FILED, C.PAID, "carrier_paid"),
    (C.FILED, C.REJECTED, "carrier_rejected"),
    (C.FILED, C.EXPIRED, "answer_deadline_over"),
)
"""(from, to, why): every change of state ``domain.claims.decide`` and ``advance`` make (a test
walks them to keep this table true). Follow-ups and reminders leave the state as it is."""


def mermaid_diagram() -> str:
    """The claim's state diagram, generated from ``CLAIM_TRANSITIONS`` (embedded in the README)."""
    lines = ["stateDiagram-v2", f"    [*] --> {C.TO_FILE.value}"]
    lines.extend(f"    {a.value} --> {b.value}: {why}" for a, b, why in CLAIM_TRANSITIONS)
    lines.extend(f"    {state.value} --> [*]" for state in ClaimState if state in FINAL_STATES)
    return "\n".join(lines)
