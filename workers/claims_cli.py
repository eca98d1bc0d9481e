"""``parcelflow claims``: carrier claims (R17) as an operator sees and completes them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workers.config import TemporalSettings
from workers.exits import EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNREACHABLE
from workers.temporal_client import connect
from workflows.carrier_claim import CarrierClaimWorkflow, ClaimView, claim_workflow_id

_UNREACHABLE = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})
T = TypeVar("T")

claims_app = typer.Typer(
    name="claims",
    help="Carrier claims on lost or damaged parcels: open ones, one claim, a manual filing.",
    no_args_is_help=True,
)
Carrier = Annotated[str, typer.Argument(help="The carrier of the lost parcel, e.g. china_post.")]
Number = Annotated[str, typer.Argument(help="The lost parcel's tracking number.")]
JsonOutput = Annotated[bool, typer.Option("--json", help="Machine output: JSON on stdout.")]


class _Failed(Exception):
    """The command failed: exit ``code`` with ``machine`` (JSON) or ``text``."""

    def __init__(self, code: int, machine: dict[str, str], text: str) -> None:
        super().__init__(text)
        self.code, self.machine, self.text = code, machine, text


@claims_app.callback()
def claims() -> None:
    """Carrier claims on lost or damaged parcels: open ones, one claim, a manual filing."""


async def _with_client(call: Callable[[Client], Awaitable[T]]) -> T:
    settings = TemporalSettings.from_env()
    try:
        client = await connect(settings)
    except Exception as error:
        raise _unreachable(settings, str(error)) from error
    try:
        return await call(client)
    except RPCError as error:
        if error.status in _UNREACHABLE:
            raise _unreachable(settings, error.message) from error
        if error.status is RPCStatusCode.NOT_FOUND:
            raise _Failed(EXIT_NOT_FOUND, {"not_found": error.message}, error.message) from error
        raise


def _unreachable(settings: TemporalSettings, detail: str) -> _Failed:
    machine = {"unreachable": settings.address, "detail": detail}
    return _Failed(
        EXIT_UNREACHABLE, machine, f"Temporal unreachable at {settings.address}: {detail}"
    )


def _run(call: Callable[[Client], Awaitable[T]], *, json_output: bool) -> T:
    try:
        return asyncio.run(_with_client(call))
    except _Failed as failed:
        _exit(failed, json_output=json_output)


def _exit(failed: _Failed, *, json_output: bool) -> NoReturn:
    if json_output:
        typer.echo(json.dumps(failed.machine))
    else:
        typer.echo(failed.text, err=True)
    raise typer.Exit(failed.code)


async def _view(client: Client, carrier: str, number: str) -> ClaimView:
    workflow_id = claim_workflow_id(carrier, number)
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.query(CarrierClaimWorkflow.view)
    except WorkflowQueryFailedError as failed:
        raise _Failed(EXIT_NOT_FOUND, {"not_found": workflow_id}, str(failed)) from failed
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            text = f"no claim on {carrier} {number}"
            raise _Failed(EXIT_NOT_FOUND, {"not_found": workflow_id}, text) from error
        raise


def _print(view: ClaimView, *, json_output: bool) -> None:
    if json_output:
        typer.echo(view.model_dump_json())
        return
    claim, facts = view.claim, view.claim.facts
    typer.echo(f"{claim.workflow_id}  state: {claim.state.value}")
    typer.echo(f"parcel: {facts.carrier} {facts.tracking_number}, declared {facts.declared_value}")
    typer.echo(f"proof: {facts.proof}")
    if claim.claim_ref:
        typer.echo(f"claim ref: {claim.claim_ref} (filed by {claim.filed_by})")
    for deadline in view.deadlines:
        typer.echo(f"pending: {deadline.label} until {deadline.at.isoformat()}")
    for reminder in claim.reminders:
        typer.echo(f"reminder: {reminder}")
    if claim.outcome:
        typer.echo(f"outcome: {claim.outcome}")


@claims_app.command("show")
def show(carrier: Carrier, number: Number, *, json_output: JsonOutput = False) -> None:
    """The claim on a parcel: state, proof, claim reference, pending clocks, reminders."""
    view = _run(lambda client: _view(client, carrier, number), json_output=json_output)
    _print(view, json_output=json_output)


@claims_app.command("filed")
def filed(
    carrier: Carrier,
    number: Number,
    reference: Annotated[str, typer.Argument(help="The carrier's claim number.")],
    *,
    json_output: JsonOutput = False,
) -> None:
    """Record that you filed the claim by hand (carrier without a claims API): its reference."""

    async def record(client: Client) -> ClaimView:
        workflow_id = claim_workflow_id(carrier, number)
        handle = client.get_workflow_handle(workflow_id)
        try:
            return await handle.execute_update(CarrierClaimWorkflow.filed_manually, reference)
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            reason = cause.type if isinstance(cause, ApplicationError) and cause.type else "refused"
            detail = cause.message if isinstance(cause, ApplicationError) else str(failed)
            machine = {"refused": reason, "detail": detail}
            raise _Failed(EXIT_REFUSED, machine, f"refused ({reason}): {detail}") from failed

    _print(_run(record, json_output=json_output), json_output=json_output)


@claims_app.command("list")
def list_claims(
    *,
    json_output: JsonOutput = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many claims.")] = 100,
) -> None:
    """Claims still open (to file, filed, or awaiting an operator's manual filing)."""

    async def running(client: Client) -> list[dict[str, Any]]:
        query = "WorkflowType = 'CarrierClaim' AND ExecutionStatus = 'Running'"
        return [
            {"workflow_id": execution.id, "opened": execution.start_time.isoformat()}
            async for execution in client.list_workflows(query, limit=limit)
        ]

    rows = _run(running, json_output=json_output)
    if json_output:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(f"{row['workflow_id']}  opened {row['opened']}")
    if not rows:
        typer.echo("no open claims")
