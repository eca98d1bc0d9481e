"""``parcelflow tracking check`` tells a seller whether a number will be accepted, and why not."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from workers.cli_tracking import tracking_app

runner = CliRunner()


def test_a_valid_number_is_printed_normalised_and_exits_zero() -> None:
    result = runner.invoke(tracking_app, ["check", "China-Post", "  rr123456785cn "])

    assert result.exit_code == 0
    assert result.stdout.strip() == "RR123456785CN (china_post)"


@pytest.mark.parametrize(
    ("carrier", "number", "reason"),
    [
        ("china_post", "RR 123456785CN", "whitespace inside the number at position 3"),
        ("china_post", "RR123456784CN", "check digit is 4, expected 5"),
        ("yanwen", "UG12345678YW", "Yanwen: too short (12 characters, at least 13)"),
    ],
)
def test_a_refused_number_prints_the_reason_and_exits_one(
    carrier: str, number: str, reason: str
) -> None:
    result = runner.invoke(tracking_app, ["check", carrier, number])

    assert result.exit_code == 1
    assert reason in result.stderr
    assert result.stdout == ""


def test_an_unknown_carrier_lists_the_carrier_codes_and_exits_two() -> None:
    result = runner.invoke(tracking_app, ["check", "pigeon", "RR123456785CN"])

    assert result.exit_code == 2
    assert "Unknown carrier 'pigeon'" in result.stderr
    for code in ["china_post", "ems", "cainiao", "yanwen", "4px", "yunexpress", "sf"]:
        assert code in result.stderr


def test_an_unknown_carrier_can_be_accepted_but_is_marked_unvalidated() -> None:
    result = runner.invoke(
        tracking_app, ["check", "--allow-unvalidated", "dhl", "JD014600006281690245"]
    )

    assert result.exit_code == 0
    assert result.stdout.strip() == "JD014600006281690245 (dhl, unvalidated)"
