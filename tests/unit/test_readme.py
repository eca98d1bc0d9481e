"""The README tells the truth about the code it documents."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from domain.carriers import Carrier
from domain.claim_states import CLAIM_TRANSITIONS
from domain.claim_states import mermaid_diagram as claim_diagram
from domain.claims import (
    CarrierAnswer,
    ClaimEvent,
    ClaimFacts,
    ClaimState,
    FiledByApi,
    FiledManually,
    FilingRoute,
    StatusReported,
    advance,
    decide,
    open_claim,
)
from domain.money import Money
from domain.states import mermaid_diagram

README = (Path(__file__).parents[2] / "README.md").read_text()


def diagram(name: str) -> str:
    """The mermaid block between the README's ``<name>:begin`` and ``<name>:end`` markers."""
    block = re.search(
        rf"<!-- {name}:begin -->\n```mermaid\n(.*?)\n```\n<!-- {name}:end -->", README, re.DOTALL
    )
    assert block is not None, f"the README lost its {name} markers"
    return block.group(1)


def test_the_readme_state_diagram_is_the_transitions_table() -> None:
    assert diagram("state-diagram") == mermaid_diagram()


def test_the_order_diagram_shows_where_a_reship_starts_its_linked_workflows() -> None:
    note = diagram("state-diagram").split("note right of dispute_solution_offered", 1)[1]
    assert "own order" in note
    assert "CarrierClaim" in note


def test_the_readme_claim_diagram_is_the_claim_transitions_table() -> None:
    assert diagram("claim-diagram") == claim_diagram()


L = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FAR = L + timedelta(days=400)
"""Past every clock of a claim opened at ``L``."""
EVENTS: list[ClaimEvent] = [
    FilingRoute(by_api=True),
    FilingRoute(by_api=False),
    FiledByApi(claim_ref="C-1"),
    FiledManually(reference="C-M"),
    *(
        StatusReported(answer=CarrierAnswer(status=status, amount=Money(minor=5_00)))
        for status in ("paid", "rejected", "pending")
    ),
]


def test_the_claim_transitions_table_is_every_change_of_state_the_claim_rules_make() -> None:
    facts = ClaimFacts(
        order_workflow_id="order-aliexpress-42",
        carrier="yanwen",
        tracking_number="UG123456789CN",
        proof="doc://loss-proof/1",
        declared_value=Money(minor=20_00),
    )
    seen, made, todo = set[ClaimState](), set[tuple[ClaimState, ClaimState]](), []
    todo.append(open_claim(facts, "claim-yanwen-UG123456789CN", L).claim)
    while todo:
        claim = todo.pop()
        if claim.state in seen:
            continue
        seen.add(claim.state)
        later = [decide(claim, event, L + timedelta(hours=1)) for event in EVENTS]
        later.append(advance(claim, FAR))
        for decision in later:
            if decision.refusal is None and decision.claim.state is not claim.state:
                made.add((claim.state, decision.claim.state))
                todo.append(decision.claim)
    assert seen == set(ClaimState)
    assert made == {(a, b) for a, b, _ in CLAIM_TRANSITIONS}


def test_the_readme_has_exactly_two_set_up_commands() -> None:
    section = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make \w+", section, re.MULTILINE)
    assert commands == ["make dev", "make test"]


def test_the_readme_lists_every_carrier_code() -> None:
    for carrier in Carrier:
        assert f"`{carrier.value}`" in README


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text()
    assert "make test" in ci
