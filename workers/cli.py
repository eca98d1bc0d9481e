"""The ``parcelflow`` command line: a seller's commands on orders, with exit codes scripts trust."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.disputes import Solution, SolutionKind
from domain.errors import Refused
from domain.money import Money
from domain.order import workflow_id_for
from domain.states import OrderState
from workers.claims_cli import claims_app
from workers.cli_tracking import tracking_app
from workers.config import TemporalSettings
from workers.dev import dev
from workers.exits import EXIT_NOT_FOUND, EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, exit_process
from workers.health_cli import health_app
from workers.orders import OrderNotFound, Orders, OrderSummary
from workers.temporal_client import connect
from workflows.messages import OrderView

_UNREACHABLE_CODES = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
T = TypeVar("T")

app = typer.Typer(
    name="parcelflow",
    help="Orders after shipment, one durable Temporal workflow each. Temporal settings come "
    "from PARCELFLOW_TEMPORAL_ADDRESS, _NAMESPACE, _API_KEY, _TLS_* and PARCELFLOW_TASK_QUEUE.\n\n"
    "Exit codes: 0 ok, 1 refused by a rule, 2 bad usage, 3 order not found, "
    "4 Temporal unreachable.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tracking_app, name="tracking")
app.add_typer(health_app, name="health")
app.add_typer(claims_app, name="claims")
app.command("dev")(dev)

Marketplace = Annotated[str, typer.Argument(help="Marketplace code, e.g. aliexpress.")]
OrderId = Annotated[str, typer.Argument(help="The marketplace's order id.")]


class _Unreachable(Exception):
    """Temporal did not answer."""


@app.callback()
def root(
    ctx: typer.Context,
    *,
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine output: the model's JSON on stdout.")
    ] = False,
) -> None:
    """parcelflow: the after-shipment life of marketplace orders."""
    ctx.obj = json_output


def _checked(marketplace: str, order_id: str) -> None:
    try:
        workflow_id_for(marketplace, order_id)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error


def _fail(ctx: typer.Context, code: int, machine: dict[str, Any], human: str) -> NoReturn:
    if ctx.obj:
        typer.echo(json.dumps(machine))
    else:
        typer.echo(human, err=True)
    raise typer.Exit(code)


async def _with_orders(settings: TemporalSettings, action: Callable[[Orders], Awaitable[T]]) -> T:
    try:
        client = await connect(settings)
    except Exception as error:
        raise _Unreachable(str(error)) from error
    try:
        return await action(Orders(client, settings.task_queue))
    except RPCError as error:
        if error.status in _UNREACHABLE_CODES:
            raise _Unreachable(error.message) from error
        raise


def _run(ctx: typer.Context, action: Callable[[Orders], Awaitable[T]]) -> T:
    settings = TemporalSettings.from_env()
    try:
        return asyncio.run(_with_orders(settings, action))
    except Refused as refused:
        reason = refused.reason.value
        machine = {"refused": reason, "detail": refused.detail}
        _fail(ctx, EXIT_REFUSED, machine, f"refused ({reason}): {refused.detail}")
    except OrderNotFound as missing:
        cause = missing.__cause__
        if isinstance(cause, RPCError) and cause.status in _UNREACHABLE_CODES:
            _unreachable(ctx, settings, cause.message)
        machine = {"not_found": str(missing)}
        _fail(ctx, EXIT_NOT_FOUND, machine, f"order not found: {missing}")
    except WorkflowQueryFailedError as failed:
        _fail(ctx, EXIT_NOT_FOUND, {"not_found": str(failed)}, f"order not found: {failed}")
    except _Unreachable as error:
        _unreachable(ctx, settings, str(error))


def _unreachable(ctx: typer.Context, settings: TemporalSettings, detail: str) -> NoReturn:
    machine = {"unreachable": settings.address, "detail": detail}
    _fail(ctx, EXIT_UNREACHABLE, machine, f"Temporal unreachable at {settings.address}: {detail}")


def _print_view(ctx: typer.Context, view: OrderView) -> None:
    if ctx.obj:
        typer.echo(view.model_dump_json())
    else:
        _render_view(view)


def _render_view(view: OrderView) -> None:
    order, console = view.order, Console()
    console.print(
        f"[bold]{order.facts.workflow_id}[/bold]  state: [bold]{order.state.value}[/bold]"
    )
    if order.shipment:
        console.print(f"tracking: {order.shipment.carrier} {order.shipment.tracking_number}")
    if order.locked_at and order.lock_reason:
        console.print(f"locked since {order.locked_at.isoformat()} ({order.lock_reason.value})")
    for line in [order.resolution or "", *order.notices[-5:]]:
        if line:
            console.print(f"note: {line}")
    deadlines = Table("deadline", "due", "in", title="Next deadlines")
    for d in view.deadlines:
        deadlines.add_row(d.label, d.at.isoformat(timespec="seconds"), str(d.at - view.as_of))
    timeline = Table("at", "source", "what", "detail", "code", title="Timeline")
    for e in order.timeline:
        timeline.add_row(e.at.isoformat(timespec="seconds"), e.source, e.kind, e.detail, e.code)
    console.print(deadlines, timeline)


@app.command()
def ship(
    ctx: typer.Context,
    marketplace: Marketplace,
    order_id: OrderId,
    carrier: Annotated[str, typer.Argument(help="Carrier code, e.g. china_post, yanwen.")],
    number: Annotated[str, typer.Argument(help="The tracking number.")],
) -> None:
    """Ship the order: upload CARRIER and tracking NUMBER (R1, R2)."""
    _checked(marketplace, order_id)
    _print_view(ctx, _run(ctx, lambda o: o.ship(marketplace, order_id, carrier, number)))


@app.command()
def withdraw(ctx: typer.Context, marketplace: Marketplace, order_id: OrderId) -> None:
    """Withdraw the tracking number inside the cancel window (R4, R5)."""
    _checked(marketplace, order_id)
    _print_view(ctx, _run(ctx, lambda o: o.withdraw(marketplace, order_id)))


@app.command()
def respond(
    ctx: typer.Context,
    marketplace: Marketplace,
    order_id: OrderId,
    message: Annotated[str, typer.Argument(help="The first response to the buyer.")],
) -> None:
    """Give the open dispute its first response (R14)."""
    _checked(marketplace, order_id)
    _print_view(ctx, _run(ctx, lambda o: o.respond(marketplace, order_id, message)))


def _money(amount: str, currency: str) -> Money:
    try:
        value = Decimal(amount)
    except InvalidOperation as error:
        raise typer.BadParameter(f"{amount!r} is not an amount", param_hint="--amount") from error
    minor = value * 100
    if not value.is_finite() or value < 0 or minor != minor.to_integral_value():
        raise typer.BadParameter(f"{amount!r}: at most two decimals", param_hint="--amount")
    try:
        return Money(minor=int(minor), currency=currency)
    except ValidationError as error:
        raise typer.BadParameter(f"{currency!r} is not a currency code") from error


@app.command()
def solve(
    ctx: typer.Context,
    marketplace: Marketplace,
    order_id: OrderId,
    kind: Annotated[SolutionKind, typer.Argument(help="The solution offered to the buyer.")],
    *,
    amount: Annotated[str | None, typer.Option(help="Refund amount, e.g. 6.00.")] = None,
    currency: Annotated[str, typer.Option(help="Currency of the amount.")] = "USD",
    carrier: Annotated[str | None, typer.Option(help="Carrier of a reship.")] = None,
    number: Annotated[str | None, typer.Option(help="Tracking number of a reship.")] = None,
    note: Annotated[str, typer.Option(help="A note to the buyer.")] = "",
) -> None:
    """Offer a solution to the open dispute: full or partial refund, reship, return (R14)."""
    _checked(marketplace, order_id)
    refund = _money(amount, currency) if amount is not None else None
    solution = Solution(
        kind=kind,
        refund=refund,
        reship_carrier=carrier,
        reship_tracking_number=number,
        note=note,
    )
    _print_view(ctx, _run(ctx, lambda o: o.propose(marketplace, order_id, solution)))


@app.command()
def show(ctx: typer.Context, marketplace: Marketplace, order_id: OrderId) -> None:
    """The order's state, lock, next deadlines and timeline."""
    _checked(marketplace, order_id)
    _print_view(ctx, _run(ctx, lambda o: o.view(marketplace, order_id)))


@app.command()
def evidence(ctx: typer.Context, marketplace: Marketplace, order_id: OrderId) -> None:
    """The evidence bundle of the order's dispute (R15), with its replacement parcels and
    carrier claims, as one JSON document."""
    _checked(marketplace, order_id)
    bundle = _run(ctx, lambda o: o.evidence(marketplace, order_id))
    typer.echo(bundle.model_dump_json(indent=2))


def _duration(text: str) -> timedelta:
    parts = _DURATION.findall(text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        msg = f"{text!r} is not a duration like 90s, 15m, 1h or 2d"
        raise typer.BadParameter(msg, param_hint="--deadline-within")
    return sum((timedelta(**{_UNITS[u]: int(n)}) for n, u in parts), timedelta(0))


@app.command("list")
def list_orders(
    ctx: typer.Context,
    state: Annotated[OrderState | None, typer.Option(help="Only orders in this state.")] = None,
    deadline_within: Annotated[
        str | None, typer.Option(help="Only orders with a deadline this soon, e.g. 1h.")
    ] = None,
    query: Annotated[str | None, typer.Option(help="A raw Temporal visibility query.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many orders.")] = 100,
) -> None:
    """Orders from Temporal visibility (OrderState, NextDeadline, Carrier, DisputeOpen, ...)."""
    clauses = []
    if state is not None:
        clauses.append(f"OrderState = '{state.value}'")
    if deadline_within is not None:
        until = datetime.now(UTC) + _duration(deadline_within)
        clauses.append(f"NextDeadline < '{until.isoformat(timespec='seconds')}'")
    if query:
        clauses.append(f"({query})")
    where = " AND ".join(clauses)
    try:
        rows = _run(ctx, lambda o: o.list(where, limit=limit))
    except RPCError as error:
        if error.status is RPCStatusCode.INVALID_ARGUMENT:
            raise typer.BadParameter(error.message, param_hint="--query") from error
        raise
    if ctx.obj:
        typer.echo(json.dumps([_summary_json(row) for row in rows]))
        return
    table = Table("workflow", "state", "carrier", "next deadline", "dispute", "status")
    for r in rows:
        due = r.next_deadline.isoformat(timespec="seconds") if r.next_deadline else ""
        dispute = "yes" if r.dispute_open else ""
        table.add_row(r.workflow_id, r.state or "", r.carrier or "", due, dispute, r.status)
    Console().print(table)


def _summary_json(row: OrderSummary) -> dict[str, Any]:
    due = row.next_deadline.isoformat() if row.next_deadline else None
    return {**vars(row), "next_deadline": due}


def main() -> None:
    """The console script's entry point."""
    try:
        app()
    except SystemExit as done:
        code = done.code
        if not isinstance(code, int):
            if code is not None:
                typer.echo(code, err=True)
            code = EXIT_REFUSED if code is not None else EXIT_OK
        exit_process(code)


if __name__ == "__main__":
    main()
