"""The order workflow against the real AliExpress client and the marketplace simulator over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from adapters.aliexpress import AliExpressClient
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import Fault, SimState, create_app
from adapters.platform_sim.rules import SimSolution
from domain.disputes import Solution, SolutionKind
from domain.events import DisputeOpened, ProposeSolution, UploadTracking
from domain.money import Money
from domain.order import OrderFacts
from domain.states import OrderState
from tests.numbers import fresh_s10
from tests.workflows.harness import order_facts
from workers.worker import build_worker
from workflows.carrier_claim import claim_workflow_id
from workflows.messages import FactEnvelope, OrderInput, OrderView
from workflows.number_hold import hold_id
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.temporal
KEY, SECRET = "sim-app-key", "sim-app-secret"
SHIP = "aliexpress.logistics.sellershipmentfortop"
FIND_ORDER = "aliexpress.trade.new.redefining.findorderbyid"


@dataclass
class SimRun:
    """One order workflow whose platform is the simulator, reached by ``AliExpressClient``."""

    handle: WorkflowHandle[OrderWorkflow, object]
    sim: SimState
    facts: OrderFacts
    number: str

    def kinds(self, kind: str) -> list[str | None]:
        """The idempotency keys of the simulator's side effects of one kind for this order."""
        ledger = self.sim.ledger()
        return [e.idempotency_key for e in ledger if e.kind == kind and e.order_id == self.order_id]

    @property
    def order_id(self) -> str:
        return self.facts.order_id

    def key(self, step: str) -> str:
        return f"{self.facts.workflow_id}:{step}"

    async def ship(self) -> OrderView:
        command = UploadTracking(carrier="china_post", tracking_number=self.number)
        return await self.handle.execute_update(OrderWorkflow.upload_tracking, command)

    async def dispute(self) -> str:
        """The buyer opens a dispute on the marketplace, and the order hears of it."""
        dispute_id = self.sim.open_dispute(self.order_id).dispute_id
        opened = DisputeOpened(event_id=f"d-{dispute_id}", at=self.sim.now(), dispute_id=dispute_id)
        await self.handle.signal(OrderWorkflow.fact, FactEnvelope(fact=opened))
        return dispute_id

    async def propose(self, solution: Solution) -> OrderView:
        return await self.handle.execute_update(
            OrderWorkflow.propose_solution, ProposeSolution(solution=solution)
        )

    def seller_solutions(self, dispute_id: str) -> list[SimSolution]:
        """The solutions the seller offered on the marketplace's dispute."""
        return [s for s in self.sim.dispute(dispute_id).solutions if s.owner == "seller"]

    async def refused_withdrawal(self) -> ApplicationError:
        """Ask to withdraw the tracking number; the refusal (its type is the reason)."""
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await self.handle.execute_update(OrderWorkflow.withdraw_tracking)
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError)
        return cause


async def upload_attempts(handle: WorkflowHandle[OrderWorkflow, object]) -> list[int]:
    """How many attempts each ``platform.upload_tracking`` activity of the workflow took."""
    events = (await handle.fetch_history()).events
    uploads = {
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name
        == "platform.upload_tracking"
    }
    return [
        e.activity_task_started_event_attributes.attempt
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id in uploads
    ]


@asynccontextmanager
async def sim_run(env: WorkflowEnvironment) -> AsyncIterator[SimRun]:
    """The simulator served over HTTP, a worker whose platform is the real client, one order."""
    sim = SimState(app_key=KEY, app_secret=SECRET, fault_sleep=0.5)
    facts = order_facts(datetime.now(UTC).replace(microsecond=0), order_id=uuid.uuid4().hex[:16])
    sim.add_order(facts.order_id, eta=facts.paid_at + timedelta(days=15))
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    with serve_in_thread(create_app(sim)) as base_url:
        async with (
            AliExpressClient(
                base_url, KEY, SECRET, "sim-token", supports_withdrawal=True, retry_delay=0.01
            ) as client,
            build_worker(env.client, task_queue=task_queue, platform=client),
        ):
            with env.with_time_skipping_disabled():
                await env.client.start_workflow(
                    OrderWorkflow.run,
                    OrderInput(facts=facts),
                    id=facts.workflow_id,
                    task_queue=task_queue,
                )
            handle: WorkflowHandle[OrderWorkflow, object] = env.client.get_workflow_handle_for(
                OrderWorkflow.run,
                facts.workflow_id,
            )
            yield SimRun(handle=handle, sim=sim, facts=facts, number=fresh_s10())
            await handle.terminate("test over")


async def test_an_upload_reaches_the_marketplace_exactly_once(env: WorkflowEnvironment) -> None:
    async with sim_run(env) as run:
        view = await run.ship()
        assert view.state is OrderState.SHIPPED
        assert run.kinds("tracking_uploaded") == [run.key("upload:1")]
        declared = run.sim.order(run.order_id).shipments
        assert [s.number for s in declared] == [run.number]


async def test_an_upload_on_a_line_without_a_logistics_service_key_is_refused_and_frees_the_number(
    env: WorkflowEnvironment,
) -> None:
    async with sim_run(env) as run:
        surface = UploadTracking(carrier="china_post:surface", tracking_number=run.number)
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await run.handle.execute_update(OrderWorkflow.upload_tracking, surface)
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError)
        assert cause.type == "unknown_logistics_service"
        assert "'china_post:surface'" in cause.message
        view = await run.handle.query(OrderWorkflow.view)
        assert view.state is OrderState.AWAITING_SHIPMENT
        refusals = [e.detail for e in view.order.timeline if e.source == "platform"]
        assert [d.split(":")[0] for d in refusals] == ["unknown_logistics_service"]
        assert run.kinds("tracking_uploaded") == []
        hold = await env.client.get_workflow_handle(hold_id(run.number)).describe()
        assert hold.status is not WorkflowExecutionStatus.RUNNING
        # The number is free: the same order ships it on a line the platform has.
        assert (await run.ship()).state is OrderState.SHIPPED
        assert run.kinds("tracking_uploaded") == [run.key("upload:2")]


async def test_a_withdrawal_the_marketplace_refuses_is_final_and_never_resent(
    env: WorkflowEnvironment,
) -> None:
    async with sim_run(env) as run:
        await run.ship()
        # Only the marketplace hears of the first carrier scan: the workflow still sees "shipped".
        run.sim.mark_scan(run.order_id)
        assert (await run.handle.query(OrderWorkflow.view)).state is OrderState.SHIPPED
        first = await run.refused_withdrawal()
        assert first.type == "carrier_scanned"
        assert "WITHDRAW_CARRIER_SCANNED" in first.message
        view = await run.handle.query(OrderWorkflow.view)
        assert view.state is OrderState.LOCKED
        assert view.order.shipment is not None
        assert view.order.shipment.tracking_number == run.number
        for _ in range(2):
            assert (await run.refused_withdrawal()).type == "carrier_scanned"
        # R5: one refused attempt reached the platform, so its risk control flagged nothing.
        assert run.kinds("withdrawal_refused") == [run.key("withdraw:1")]
        assert run.kinds("risk_flagged") == []
        assert [s.number for s in run.sim.order(run.order_id).shipments] == [run.number]


async def test_an_upload_whose_answer_is_lost_lands_once(env: WorkflowEnvironment) -> None:
    async with sim_run(env) as run:
        # The upload is performed but its answer dropped, and the read-back fails too: the
        # activity fails, Temporal retries it, and the client reads before it resends.
        run.sim.inject(SHIP, Fault.EXECUTE_THEN_DROP)
        run.sim.inject(FIND_ORDER, Fault.ERROR_5XX)
        view = await run.ship()
        assert view.state is OrderState.SHIPPED
        assert run.kinds("tracking_uploaded") == [run.key("upload:1")]
        assert await upload_attempts(run.handle) == [2]


async def test_a_return_and_refund_reaches_the_marketplace_in_its_own_solution_type(
    env: WorkflowEnvironment,
) -> None:
    async with sim_run(env) as run:
        await run.ship()
        dispute_id = await run.dispute()
        solution = Solution(kind=SolutionKind.RETURN_AND_REFUND, note="Please send it back.")
        view = await run.propose(solution)
        assert view.state is OrderState.SOLUTION_OFFERED
        [saved] = [e for e in run.sim.ledger() if e.kind == "solution_saved"]
        assert saved.idempotency_key == run.key(f"dispute:{dispute_id}:solution:1")
        assert saved.detail == {"solution_type": "return_and_refund", "refund_minor": 20_00}
        offered = run.seller_solutions(dispute_id)
        assert [(s.solution_type, s.refund, s.context) for s in offered] == [
            ("return_and_refund", Money(minor=20_00), "Please send it back.")
        ]


async def test_a_reship_reaches_aliexpress_as_a_resend_text_and_a_message_with_the_new_number(
    env: WorkflowEnvironment,
) -> None:
    async with sim_run(env) as run:
        await run.ship()
        dispute_id = await run.dispute()
        replacement = fresh_s10("UG")
        solution = Solution(
            kind=SolutionKind.RESHIP, reship_carrier="yanwen", reship_tracking_number=replacement
        )
        await run.propose(solution)
        # The platform has no reship with a number: a "resend" solution names the carrier...
        [offered] = run.seller_solutions(dispute_id)
        assert (offered.solution_type, offered.refund.minor) == ("resend", 0)
        assert offered.context == "Reship via yanwen."
        # ...and the new number reaches the buyer as a message on the order, once.
        assert run.kinds("message_sent") == [run.key("reship:1:message")]
        [message] = run.sim.order(run.order_id).messages
        assert replacement in message.content
        # The original number stays declared on the order (the claim is made on it).
        assert [s.number for s in run.sim.order(run.order_id).shipments] == [run.number]
        for linked in (f"{run.handle.id}-R1", claim_workflow_id("china_post", run.number)):
            await env.client.get_workflow_handle(linked).terminate("test over")
