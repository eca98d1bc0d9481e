"""``parcelflow health``: a store's month-to-date withdrawal, void, unfulfilled and late rates
(R7, R18)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.health import HealthLevel, Rate, StoreHealth
from workers.config import TemporalSettings
from workers.exits import EXIT_NOT_FOUND, EXIT_UNREACHABLE
from workers.temporal_client import connect
from workflows.store_health import StoreHealthWorkflow, store_workflow_id

health_app = typer.Typer(
    name="health",
    help=(
        "Seller health: withdrawals, withdrawal, void and unfulfilled rates, late share per"
        " carrier line."
    ),
    no_args_is_help=True,
)


class _Unreachable(Exception):
    """Temporal did not answer."""


@health_app.callback()
def health() -> None:
    """Seller health: withdrawals, withdrawal, void and unfulfilled rates, late share per line."""


async def _query(settings: TemporalSettings, seller_id: str) -> StoreHealth | None:
    try:
        client = await connect(settings)
    except Exception as error:
        raise _Unreachable(str(error)) from error
    handle: WorkflowHandle[StoreHealthWorkflow, None] = client.get_workflow_handle_for(
        StoreHealthWorkflow.run, store_workflow_id(seller_id)
    )
    try:
        return await handle.query(StoreHealthWorkflow.health)
    except WorkflowQueryFailedError:
        return None
    except RPCError as error:
        if error.status in {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED}:
            raise _Unreachable(error.message) from error
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise


def _share(rate: Rate) -> str:
    if not rate.total:
        return f"{rate.count}/0"
    return f"{rate.count}/{rate.total} = {float(rate.share):.1%}"


def _shown(level: HealthLevel) -> str:
    """A level as the text output prints it (``no data``; JSON keeps ``no_data``)."""
    return "no data" if level is HealthLevel.NO_DATA else level.value


def _lines(found: StoreHealth) -> list[str]:
    rows = [
        ("withdrawals", str(found.withdrawals), found.withdrawals_level),
        ("withdrawal rate", _share(found.withdrawal_rate), found.withdrawal_rate.level),
        ("void rate", _share(found.void_rate), found.void_rate.level),
        ("unfulfilled rate", _share(found.unfulfilled_rate), found.unfulfilled_rate.level),
    ]
    rows += [(f"late share {line}", _share(r), r.level) for line, r in found.late_share.items()]
    out = [f"store {found.store_id}, {found.month} to date: {_shown(found.level)}"]
    out += [f"  {name:<28} {value:<16} {_shown(level)}" for name, value, level in rows]
    return out


@health_app.command("show")
def show(
    seller_id: Annotated[str, typer.Argument(help="The store's seller id.")],
    *,
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine output: the figures as JSON on stdout.")
    ] = False,
) -> None:
    """Print SELLER_ID's month-to-date figures, each with its level (ok, warning, breached, or
    no data when a rate has nothing to count yet)."""
    settings = TemporalSettings.from_env()
    try:
        found = asyncio.run(_query(settings, seller_id))
    except _Unreachable as error:
        typer.echo(f"Temporal unreachable at {settings.address}: {error}", err=True)
        raise typer.Exit(EXIT_UNREACHABLE) from error
    if found is None:
        typer.echo(f"no health records for store {seller_id}", err=True)
        raise typer.Exit(EXIT_NOT_FOUND)
    if json_output:
        typer.echo(json.dumps({**found.model_dump(mode="json"), "level": found.level.value}))
        return
    for line in _lines(found):
        typer.echo(line)
