"""The carrier claim (R17, D6/D7) as its own workflow, on the real dev server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.claims import ClaimActivities
from adapters.asgi_server import serve_in_thread
from adapters.easypost import EasyPostClaims
from adapters.easypost.sim import SimState, create_app
from domain.claims import CarrierAnswer, Claim, ClaimFacts, ClaimState
from domain.money import Money
from domain.ports import CarrierClaims
from tests.e2e.test_hooks import plain_client
from tests.fakes import PENDING, FakeClaims
from tests.workflows.harness import TIMER_ARMING_SLACK, save_history
from workers.hooks import create_app as create_hooks
from workers.orders import Orders
from workflows.carrier_claim import CarrierClaimWorkflow, ClaimView, claim_workflow_id

pytestmark = pytest.mark.temporal
S = ClaimState
H, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass
class ClaimRun:
    """One claim workflow under test."""

    env: WorkflowEnvironment
    handle: WorkflowHandle[CarrierClaimWorkflow, Claim]

    async def now(self) -> datetime:
        return await self.env.get_current_time(self.handle)

    async def move_to(self, moment: datetime) -> None:
        """Advance the workflow's clock to ``moment``, then let it act on what fired."""
        delta = moment - await self.now()
        if delta > timedelta(0):
            await self.env.fast_forward(self.handle, delta)
        await self.settled()

    async def reach(self, deadline: datetime) -> None:
        """Move the clock just past ``deadline``, and wait until the workflow has acted on it.

        The server fires a timer up to about a second late (see ``harness.OrderRun.reach``):
        waiting until the workflow's own clock has passed the deadline keeps the next move from
        overtaking a timer still in flight.
        """
        await self.move_to(deadline + TIMER_ARMING_SLACK)
        await self.until(lambda view: view.as_of >= deadline)
        await self.settled()

    async def settled(self, limit: float = 10.0) -> None:
        """Wait until no workflow task or activity is pending."""
        async with asyncio.timeout(limit):
            while True:
                described = (await self.handle.describe()).raw_description
                busy = described.HasField("pending_workflow_task") or described.pending_activities
                if not busy:
                    return
                await asyncio.sleep(0.01)

    async def result(self) -> Claim:
        async with asyncio.timeout(10):
            return await self.handle.result()

    async def view(self) -> ClaimView:
        return await self.handle.query(CarrierClaimWorkflow.view)

    async def until(self, check: Callable[[ClaimView], bool], limit: float = 10.0) -> ClaimView:
        """The first view that passes ``check`` (activities run in real time)."""
        async with asyncio.timeout(limit):
            while not check(view := await self.view()):  # noqa: ASYNC110 - polls the server
                await asyncio.sleep(0.05)
        return view


def parcel_number() -> str:
    return f"UG{uuid.uuid4().int % 10**9:09d}CN"


@asynccontextmanager
async def claim_run(
    env: WorkflowEnvironment, carrier: CarrierClaims, number: str | None = None
) -> AsyncIterator[ClaimRun]:
    """A worker and one claim for a lost Yanwen parcel worth $20; time moves when told."""
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    number = number or parcel_number()
    facts = ClaimFacts(
        order_workflow_id="order-aliexpress-42",
        carrier="yanwen",
        tracking_number=number,
        proof="doc://loss-proof/42",
        declared_value=Money(minor=20_00),
    )
    activities = ClaimActivities(carrier).all()
    async with Worker(
        env.client, task_queue=task_queue, workflows=[CarrierClaimWorkflow], activities=activities
    ):
        with env.with_time_skipping_disabled():
            handle = await env.client.start_workflow(
                CarrierClaimWorkflow.run,
                facts,
                id=claim_workflow_id("yanwen", number),
                task_queue=task_queue,
            )
        yield ClaimRun(env=env, handle=handle)


def filed(view: ClaimView) -> bool:
    return view.claim.state is S.FILED


async def test_a_claim_is_filed_exactly_once_when_the_first_attempt_fails(
    env: WorkflowEnvironment,
) -> None:
    carrier = FakeClaims(fail_first_filing=True)
    async with claim_run(env, carrier) as run:
        view = await run.until(filed)
        key = f"{run.handle.id}:file"
        assert carrier.filing_keys == [key, key]  # the retry reused the key...
        assert list(carrier.claims) == [key]  # ...so the carrier holds one claim
        assert (view.claim.claim_ref, view.claim.filed_by) == ("YW-1", "api")
        claim = carrier.claims[key]
        assert (claim.proof, claim.declared_value) == ("doc://loss-proof/42", Money(minor=20_00))


async def test_a_claim_paid_after_a_follow_up_closes_paid_with_the_amount(
    env: WorkflowEnvironment,
) -> None:
    paid = CarrierAnswer(status="paid", amount=Money(minor=18_50))
    carrier = FakeClaims(answers=[PENDING, paid])
    async with claim_run(env, carrier) as run:
        filed_at = (await run.until(filed)).claim.filed_at
        assert filed_at is not None
        await run.reach(filed_at + 3 * DAY)
        assert (await run.view()).claim.state is S.FILED
        await run.reach(filed_at + 6 * DAY)
        claim = await run.result()
        assert (claim.state, claim.paid_amount) == (S.PAID, Money(minor=18_50))
        assert carrier.checks == ["YW-1", "YW-1"]


async def test_a_rejected_claim_closes_rejected(env: WorkflowEnvironment) -> None:
    carrier = FakeClaims(answers=[CarrierAnswer(status="rejected", reason="no proof of value")])
    async with claim_run(env, carrier) as run:
        filed_at = (await run.until(filed)).claim.filed_at
        assert filed_at is not None
        await run.reach(filed_at + 3 * DAY)
        claim = await run.result()
        assert (claim.state, claim.outcome, claim.paid_amount) == (
            S.REJECTED,
            "no proof of value",
            None,
        )


async def test_a_claim_without_an_answer_expires_exactly_30_days_after_filing(
    env: WorkflowEnvironment,
) -> None:
    carrier = FakeClaims()
    async with claim_run(env, carrier) as run:
        filed_at = (await run.until(filed)).claim.filed_at
        assert filed_at is not None
        for day in range(3, 30, 3):
            await run.reach(filed_at + day * DAY)
        await run.move_to(filed_at + 30 * DAY - timedelta(seconds=1))
        assert (await run.view()).claim.state is S.FILED
        await run.reach(filed_at + 30 * DAY)
        claim = await run.result()
        assert (claim.state, claim.closed_at) == (S.EXPIRED, filed_at + 30 * DAY)
        assert len(carrier.checks) == 9


async def test_without_an_api_the_operator_is_reminded_then_files_by_hand(
    env: WorkflowEnvironment,
) -> None:
    paid = CarrierAnswer(status="paid", amount=Money(minor=20_00))
    carrier = FakeClaims(api=False, answers=[paid])
    async with claim_run(env, carrier) as run:
        view = await run.until(lambda v: v.claim.state is S.AWAITING_MANUAL_FILING)
        since = view.claim.manual_since
        assert since is not None
        assert [d.at - since for d in view.deadlines[:3]] == [24 * H, 43 * H + 12 * H / 60, 48 * H]
        await run.move_to(since + 24 * H - timedelta(seconds=1))
        assert len((await run.view()).claim.reminders) == 1  # why: no claims API
        await run.reach(since + 24 * H)
        assert "50%" in (await run.view()).claim.reminders[-1]
        await run.reach(since + 43 * H + 12 * H / 60)
        reminders = (await run.view()).claim.reminders
        assert len(reminders) == 3
        assert "90%" in reminders[-1]
        assert "90%" in await current_details(run)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await run.handle.execute_update(CarrierClaimWorkflow.filed_manually, " ")
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "missing_reference"
        view = await run.handle.execute_update(CarrierClaimWorkflow.filed_manually, "YW-M-7")
        assert (view.claim.state, view.claim.filed_by) == (S.FILED, "operator")
        assert carrier.filing_keys == []
        filed_at = view.claim.filed_at
        assert filed_at is not None
        await run.reach(filed_at + 3 * DAY)
        claim = await run.result()
        assert (claim.state, claim.claim_ref, carrier.checks) == (S.PAID, "YW-M-7", ["YW-M-7"])


async def test_a_claim_filed_through_easypost_is_followed_until_the_desk_pays_it(
    env: WorkflowEnvironment,
) -> None:
    number, key = parcel_number(), "sim-easypost-key"
    desk = SimState(key)
    desk.insure(number, Money(minor=20_00))
    with serve_in_thread(create_app(desk)) as url:
        easypost = EasyPostClaims(url, key, carriers=["yanwen"], contact_email="claims@s.example")
        async with (
            easypost,
            claim_run(env, easypost, number) as run,
            httpx.AsyncClient(base_url=url) as operator,
        ):
            view = await run.until(filed)
            ref, filed_at = view.claim.claim_ref, view.claim.filed_at
            assert ref is not None
            assert filed_at is not None
            assert (ref[:4], view.claim.filed_by) == ("clm_", "api")
            await run.reach(filed_at + 3 * DAY)
            assert (await run.view()).claim.state is S.FILED  # submitted: still pending
            settle = {"outcome": "approved_partial", "amount": "18.50"}
            assert (await operator.post(f"/sim/claims/{ref}/settle", json=settle)).is_success
            await run.reach(filed_at + 6 * DAY)
            claim = await run.result()
    assert (claim.state, claim.paid_amount) == (S.PAID, Money(minor=18_50))
    filings = desk.filings(number)
    assert [(e.claim_id, e.reference, e.amount_minor) for e in filings] == [
        (ref, f"{claim_workflow_id('yanwen', number)}:file", 20_00)
    ]


async def test_the_desks_signed_webhook_tells_the_claim_it_is_paid_before_any_follow_up(
    env: WorkflowEnvironment,
) -> None:
    number, key, secret = parcel_number(), "sim-easypost-key", "easypost-webhook-secret"
    hook_client = await plain_client(env)  # the hook server's thread has its own client
    standard = "whsec_" + "c3RhbmRhcmQtd2ViaG9vay1zZWNyZXQ="
    hooks = create_hooks(
        Orders(hook_client, "claims"), [standard], seventeentrack_key=None, easypost_secret=secret
    )
    with serve_in_thread(hooks) as hooks_url:
        desk = SimState(key, webhook_url=f"{hooks_url}/hooks/easypost", webhook_secret=secret)
        desk.insure(number, Money(minor=20_00))
        with serve_in_thread(create_app(desk)) as url:
            easypost = EasyPostClaims(url, key, carriers=["yanwen"], contact_email="c@s.example")
            async with (
                easypost,
                claim_run(env, easypost, number) as run,
                httpx.AsyncClient(base_url=url) as operator,
            ):
                view = await run.until(filed)
                ref, filed_at = view.claim.claim_ref, view.claim.filed_at
                review = await operator.post(
                    f"/sim/claims/{ref}/settle", json={"outcome": "in_review"}
                )
                assert review.is_success
                assert (await run.view()).claim.state is S.FILED  # in review: still pending
                settle = {"outcome": "approved_partial", "amount": "18.50"}
                assert (await operator.post(f"/sim/claims/{ref}/settle", json=settle)).is_success
                claim = await run.result()  # no clock moved: only the push can have paid it
                deliveries = (await operator.get("/sim/webhooks")).json()["deliveries"]
                await save_history(run.handle, "claim_pushed")
    assert filed_at is not None
    assert (claim.state, claim.paid_amount) == (S.PAID, Money(minor=18_50))
    assert claim.closed_at is not None
    assert claim.closed_at < filed_at + claim.facts.policy.follow_up_every
    assert claim.checks == 0  # the follow-up, the safety net, never had to ask
    sent = {(d["description"], d["claim_id"], d["status"]) for d in deliveries}
    assert {("claim.updated", ref, 202), ("claim.approved", ref, 202)} <= sent


async def current_details(run: ClaimRun) -> str:
    """What the Temporal UI shows as the workflow's current details."""
    metadata = await run.handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return str(metadata.current_details)
