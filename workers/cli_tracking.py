"""``parcelflow tracking``: check a tracking number against its carrier's format (R2)."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.carriers import Carrier, carrier_codes, parse_carrier
from domain.tracking_numbers import TrackingNumberOk, check_tracking_number
from workers.exits import EXIT_REFUSED

EXIT_UNKNOWN_CARRIER = 2
"""A usage error (``workers.exits``: 2 is bad usage)."""

tracking_app = typer.Typer(
    name="tracking",
    help="Tracking numbers: check one before uploading it.",
    no_args_is_help=True,
)


@tracking_app.callback()
def tracking() -> None:
    """Tracking numbers: check one before uploading it."""


@tracking_app.command("check")
def check(
    carrier: Annotated[str, typer.Argument(help="Carrier code or name, e.g. china_post, yun.")],
    number: Annotated[str, typer.Argument(help="The tracking number as the seller has it.")],
    *,
    allow_unvalidated: Annotated[
        bool,
        typer.Option(
            "--allow-unvalidated",
            help="Accept a carrier without a known format; the number is marked unvalidated.",
        ),
    ] = False,
) -> None:
    """Print the normalised NUMBER (exit 0), or why CARRIER refuses it (exit 1)."""
    known = parse_carrier(carrier)
    if known is None and not allow_unvalidated:
        typer.echo(f"Unknown carrier {carrier!r}. Known carrier codes:", err=True)
        for code in carrier_codes():
            typer.echo(f"  {code:<12} {Carrier(code).display_name}", err=True)
        raise typer.Exit(EXIT_UNKNOWN_CARRIER)
    result = check_tracking_number(carrier, number)
    if isinstance(result, TrackingNumberOk):
        mark = "" if result.validated else ", unvalidated"
        typer.echo(f"{result.number} ({result.carrier}{mark})")
        return
    typer.echo(f"refused ({result.rule.value}): {result.detail}", err=True)
    raise typer.Exit(EXIT_REFUSED)
