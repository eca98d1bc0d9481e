"""The README tells the truth about the code it documents."""

from __future__ import annotations

import re
from pathlib import Path

from domain.carriers import Carrier
from domain.states import mermaid_diagram

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_the_readme_state_diagram_is_the_transitions_table() -> None:
    block = re.search(
        r"<!-- state-diagram:begin -->\n```mermaid\n(.*?)\n```\n<!-- state-diagram:end -->",
        README,
        re.DOTALL,
    )
    assert block is not None, "the README lost its state diagram markers"
    assert block.group(1) == mermaid_diagram()


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
