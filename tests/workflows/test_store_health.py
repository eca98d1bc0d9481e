"""Seller health (R7, R18) as one entity workflow per store, on the real dev server."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Replayer, Worker
from typer.testing import CliRunner

from activities.health import HealthActivities
from domain.health import HealthLevel, StoreHealth
from tests.workflows import store_health_v1
from workers.health_cli import health_app
from workflows.store_health import (
    DEFAULT_TIMEZONE,
    HealthRecord,
    ParcelRecord,
    ShippedRecord,
    StoreHealthInput,
    StoreHealthWorkflow,
    UnfulfilledRecord,
    VoidedRecord,
    WithdrawalRecord,
    pack,
    record_key,
    store_workflow_id,
)

pytestmark = pytest.mark.temporal
OK, WARNING, BREACHED = HealthLevel.OK, HealthLevel.WARNING, HealthLevel.BREACHED
NO_DATA = HealthLevel.NO_DATA


def month_start(now: datetime) -> datetime:
    """The start of the calendar month of ``now`` in the store's timezone."""
    local = now.astimezone(ZoneInfo(DEFAULT_TIMEZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


MONTH_GUARD = timedelta(minutes=2)
"""Longer than one test of this module takes: the month a test starts in is the month it ends in."""


async def current_month() -> datetime:
    """The start of the month a store workflow started now lives in.

    A workflow's clock starts at the server's, which is this machine's: that is the one clock
    these tests cannot set, only skip forward per workflow. So a test never straddles a month
    boundary: within ``MONTH_GUARD`` of one, it waits until the new month has begun. Every
    other time is built from the month start (or, for records in the past, from last month,
    read at an explicit moment)."""
    now = datetime.now(UTC)
    start = month_start(now)
    next_start = month_start(start + timedelta(days=32))
    if next_start - now < MONTH_GUARD:
        await asyncio.sleep((next_start - now).total_seconds() + 1)
        return next_start
    return start


@dataclass
class Store:
    """One store's health workflow, fed through the ``health.record`` activity."""

    env: WorkflowEnvironment
    activities: HealthActivities
    task_queue: str
    seller_id: str
    month: datetime
    """The first moment of the current month: a record there counts this month."""

    @property
    def handle(self) -> WorkflowHandle[StoreHealthWorkflow, None]:
        return self.env.client.get_workflow_handle_for(
            StoreHealthWorkflow.run, store_workflow_id(self.seller_id)
        )

    async def record(self, *records: HealthRecord) -> None:
        """Run the activity once per record, as the order workflows would."""
        with self.env.with_time_skipping_disabled():
            for record in records:
                await ActivityEnvironment().run(self.activities.record, record)

    async def withdrawals(self, count: int, at: datetime | None = None, first: int = 0) -> None:
        await self.record(
            *(
                WithdrawalRecord(seller_id=self.seller_id, order_id=f"o{i}", at=at or self.month)
                for i in range(first, first + count)
            )
        )

    async def health(self, now: datetime | None = None) -> StoreHealth:
        if now is None:
            return await self.handle.query(StoreHealthWorkflow.health)
        return await self.handle.query(StoreHealthWorkflow.health, now)


@asynccontextmanager
async def store(env: WorkflowEnvironment, client: Client | None = None) -> AsyncIterator[Store]:
    """A worker running the store workflows, and a fresh seller id."""
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    activities = HealthActivities(env.client, task_queue=task_queue)
    worker_client = client or env.client
    async with Worker(worker_client, task_queue=task_queue, workflows=[StoreHealthWorkflow]):
        seller = f"s-{uuid.uuid4().hex[:10]}"
        yield Store(env, activities, task_queue, seller, await current_month())
        await env.client.get_workflow_handle(store_workflow_id(seller)).terminate("test over")


@pytest.mark.parametrize(
    ("count", "level", "store_level"),
    [(3, OK, NO_DATA), (4, WARNING, WARNING), (5, BREACHED, BREACHED)],
)
async def test_withdrawals_warn_at_four_a_month_and_breach_at_five(
    env: WorkflowEnvironment, count: int, level: HealthLevel, store_level: HealthLevel
) -> None:
    """Nothing shipped this month: the store has no data, unless a figure warns or breaches."""
    async with store(env) as s:
        await s.withdrawals(count)
        health = await s.health()
        assert (health.withdrawals, health.withdrawals_level) == (count, level)
        assert (health.withdrawal_rate.level, health.level) == (NO_DATA, store_level)


async def test_last_months_withdrawals_do_not_count_this_month(env: WorkflowEnvironment) -> None:
    async with store(env) as s:
        await s.withdrawals(3)
        await s.withdrawals(4, at=s.month - timedelta(seconds=1), first=10)
        health = await s.health()
        assert (health.withdrawals, health.withdrawals_level) == (3, OK)
        # Last month's own figures are still known while it is the previous month.
        last_month = await s.health(s.month - timedelta(seconds=1))
        assert (last_month.withdrawals, last_month.withdrawals_level) == (4, WARNING)


async def test_a_redelivered_record_counts_once(env: WorkflowEnvironment) -> None:
    async with store(env) as s:
        withdrawal = WithdrawalRecord(seller_id=s.seller_id, order_id="o1", at=s.month)
        shipped = ShippedRecord(seller_id=s.seller_id, order_id="o1", at=s.month)
        await s.record(shipped, withdrawal, withdrawal, shipped, withdrawal)
        health = await s.health()
        assert health.withdrawals == 1
        assert (health.withdrawal_rate.count, health.withdrawal_rate.total) == (1, 1)
        # Withdrawing the re-uploaded number of the same order is a second withdrawal.
        await s.record(withdrawal.model_copy(update={"seq": 2}))
        assert (await s.health()).withdrawals == 2


async def test_a_parcel_is_late_until_its_delivery_arrives_in_time(
    env: WorkflowEnvironment,
) -> None:
    async with store(env) as s:
        promise = s.month
        sent = ParcelRecord(
            seller_id=s.seller_id, order_id="o1", carrier_line="cainiao", promised_at=promise
        )
        await s.record(sent)
        late = (await s.health()).late_share["cainiao"]
        assert (late.count, late.total, late.level) == (1, 1, BREACHED)
        on_time = sent.model_copy(update={"delivered_at": promise - timedelta(hours=1)})
        await s.record(on_time, sent)
        late = (await s.health()).late_share["cainiao"]
        assert (late.count, late.total, late.level) == (0, 1, OK)


async def test_a_new_month_starts_clean_and_the_change_is_logged(
    env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    async with store(env) as s:
        with caplog.at_level(logging.WARNING, logger="temporalio.workflow"):
            await s.withdrawals(4)
            assert (await s.health()).withdrawals_level is WARNING
            now = await env.get_current_time(s.handle)
            next_month = month_start(month_start(now) + timedelta(days=32))
            await env.fast_forward(s.handle, next_month - now + timedelta(seconds=2))
            health = await s.health()
        assert (health.withdrawals, health.withdrawals_level) == (0, OK)
        messages = [r.getMessage() for r in caplog.records if s.seller_id in r.getMessage()]
        assert any("withdrawals is now warning (was ok)" in m for m in messages)
        assert any("withdrawals is now ok (was warning)" in m for m in messages)


async def test_records_survive_continue_as_new(env: WorkflowEnvironment) -> None:
    async with store(env) as s:
        with env.with_time_skipping_disabled():
            first = await env.client.start_workflow(
                StoreHealthWorkflow.run,
                StoreHealthInput(seller_id=s.seller_id, continue_as_new_after=15),
                id=store_workflow_id(s.seller_id),
                task_queue=s.task_queue,
            )
        for i in range(12):
            await first.signal(
                StoreHealthWorkflow.shipped,
                ShippedRecord(seller_id=s.seller_id, order_id=f"o{i}", at=s.month),
            )
        await s.withdrawals(5)
        health = await s.health()
        assert (health.withdrawals, health.withdrawal_rate.total) == (5, 12)
        assert (await s.handle.describe()).run_id != first.first_execution_run_id


async def test_a_large_stores_records_are_carried_packed_under_the_payload_limit(
    env: WorkflowEnvironment,
) -> None:
    """12,000 orders shipped in a month: 24,000 records, 4 MB as a dict (past the 2 MB payload
    limit that continue-as-new's input must respect), carried packed and counted again.

    The month is last month, read at its ninth day: every record lies in the past whatever
    the day of the month the test runs on (on the 1st, this month holds no minute yet)."""
    orders = 12_000
    async with store(env) as s:
        last_month = month_start(s.month - timedelta(seconds=1))
        records: dict[str, HealthRecord] = {}
        for i in range(orders):
            at = last_month + timedelta(minutes=i)
            shipped = ShippedRecord(seller_id=s.seller_id, order_id=f"{8_100_000 + i}", at=at)
            parcel = ParcelRecord(
                seller_id=s.seller_id,
                order_id=shipped.order_id,
                carrier_line="china_post",
                promised_at=at + timedelta(days=20),
                delivered_at=at + timedelta(days=9),
            )
            records |= {record_key(shipped): shipped, record_key(parcel): parcel}
        assert (
            len(json.dumps({k: r.model_dump(mode="json") for k, r in records.items()})) > 2 * 2**20
        )
        assert len(pack(records)) < 2**19  # also under the server's 512 KB warning
        with env.with_time_skipping_disabled():
            first = await env.client.start_workflow(
                StoreHealthWorkflow.run,
                StoreHealthInput(
                    seller_id=s.seller_id, continue_as_new_after=8, packed=pack(records)
                ),
                id=store_workflow_id(s.seller_id),
                task_queue=s.task_queue,
            )
        await s.withdrawals(3, at=last_month + timedelta(days=1))
        health = await s.health(last_month + timedelta(days=9))
        assert (await s.handle.describe()).run_id != first.first_execution_run_id
        assert (health.withdrawals, health.withdrawal_rate.total) == (3, orders)


async def test_health_gauges_are_exported_with_the_sdk_metrics(env: WorkflowEnvironment) -> None:
    buffer = MetricBuffer(1000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    client = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        runtime=runtime,
        data_converter=pydantic_data_converter,
    )
    async with store(env, client) as s:
        await s.withdrawals(2)
        await s.record(
            *(ShippedRecord(seller_id=s.seller_id, order_id=f"o{i}", at=s.month) for i in range(4))
        )
        await s.health()
    values: dict[str, float] = {}
    for update in buffer.retrieve_updates():
        if update.attributes.get("seller_id") == s.seller_id:
            values[update.metric.name] = update.value
    assert values["parcelflow_store_withdrawals"] == 2
    assert values["parcelflow_store_withdrawal_rate"] == 0.5


async def test_the_cli_shows_each_level(env: WorkflowEnvironment) -> None:
    async with store(env) as s:
        await s.withdrawals(5)
        address = {"PARCELFLOW_TEMPORAL_ADDRESS": env.client.service_client.config.target_host}
        runner = CliRunner()
        shown = await asyncio.to_thread(
            runner.invoke, health_app, ["show", s.seller_id], env=address
        )
        assert shown.exit_code == 0, shown.output
        assert f"store {s.seller_id}" in shown.output
        assert "breached" in shown.output.splitlines()[0]
        withdrawals = next(line for line in shown.output.splitlines() if "withdrawals" in line)
        assert withdrawals.split()[1:] == ["5", "breached"]
        as_json = await asyncio.to_thread(
            runner.invoke, health_app, ["show", s.seller_id, "--json"], env=address
        )
        figures = json.loads(as_json.output)
        assert (figures["withdrawals"], figures["level"]) == (5, "breached")
        missing = await asyncio.to_thread(
            runner.invoke, health_app, ["show", "nobody"], env=address
        )
        assert missing.exit_code == 3


async def test_voided_records_carried_by_earlier_runs_are_read_as_unfulfilled(
    env: WorkflowEnvironment,
) -> None:
    """Runs before R7's own voids carried ``voided`` records for orders closed unfulfilled
    (version 1). They are read as unfulfilled; a void received since stays a void across the
    next continue-as-new (which writes version 2)."""
    async with store(env) as s:
        last_month = month_start(s.month - timedelta(seconds=1))
        ids = {"seller_id": s.seller_id}
        carried: list[HealthRecord] = [
            *(
                ShippedRecord(**ids, order_id=f"o{i}", at=last_month + timedelta(days=1))
                for i in range(8)
            ),
            VoidedRecord(**ids, order_id="u1", at=last_month + timedelta(days=2)),
            VoidedRecord(**ids, order_id="u2", at=last_month + timedelta(days=3)),
        ]
        with env.with_time_skipping_disabled():
            first = await env.client.start_workflow(
                StoreHealthWorkflow.run,
                StoreHealthInput(
                    seller_id=s.seller_id,
                    continue_as_new_after=8,
                    packed=pack({record_key(r): r for r in carried}),
                ),
                id=store_workflow_id(s.seller_id),
                task_queue=s.task_queue,
            )
        assert StoreHealthInput(seller_id=s.seller_id).records_version == 1
        read_at = last_month + timedelta(days=9)
        health = await s.health(read_at)
        assert (health.void_rate.count, health.void_rate.total) == (0, 10)
        assert (health.unfulfilled_rate.count, health.unfulfilled_rate.total) == (2, 10)
        # A void by today's order workflows, then more records: each run continues as new.
        await s.record(VoidedRecord(**ids, order_id="v1", at=last_month + timedelta(days=4)))
        await s.withdrawals(2, at=last_month + timedelta(days=5))
        health = await s.health(read_at)
        assert (await s.handle.describe()).run_id != first.first_execution_run_id
        assert (health.void_rate.count, health.void_rate.total) == (1, 11)
        assert (health.unfulfilled_rate.count, health.unfulfilled_rate.total) == (2, 11)
        assert (health.withdrawals, health.withdrawal_rate.total) == (2, 8)
        # Carried again as version 2: nothing is read as unfulfilled twice or anew.
        await s.record(
            UnfulfilledRecord(**ids, order_id="u3", at=last_month + timedelta(days=6)),
            *(
                ShippedRecord(**ids, order_id=f"o{i}", at=last_month + timedelta(days=7))
                for i in range(8, 12)
            ),
        )
        health = await s.health(read_at)
        assert (health.void_rate.count, health.unfulfilled_rate.count) == (1, 3)
        assert health.void_rate.total == 16


async def test_a_store_run_begun_by_the_earlier_code_tells_its_old_voided_signals_from_new_voids(
    env: WorkflowEnvironment,
) -> None:
    """A store run begun before ``store-health-voids`` lives on under today's code: the
    ``voided`` signals its earlier code received (orders closed unfulfilled) are read as
    unfulfilled, those it receives under today's code as voids; its history replays."""
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    seller = f"s-{uuid.uuid4().hex[:10]}"
    last_month = month_start(await current_month() - timedelta(seconds=1))
    read_at = last_month + timedelta(days=9)
    handle: WorkflowHandle[StoreHealthWorkflow, None] = env.client.get_workflow_handle_for(
        StoreHealthWorkflow.run, store_workflow_id(seller)
    )
    ids = {"seller_id": seller}
    with env.with_time_skipping_disabled():
        async with Worker(
            env.client, task_queue=task_queue, workflows=[store_health_v1.StoreHealthWorkflow]
        ):
            await env.client.start_workflow(
                "StoreHealth",
                store_health_v1.StoreHealthInput(seller_id=seller),
                id=store_workflow_id(seller),
                task_queue=task_queue,
            )
            for i in range(3):
                shipped = ShippedRecord(**ids, order_id=f"o{i}", at=last_month + timedelta(days=1))
                await handle.signal(StoreHealthWorkflow.shipped, shipped)
            # What an order closed unfulfilled sent before R7's own voids.
            old = VoidedRecord(**ids, order_id="u1", at=last_month + timedelta(days=2))
            await handle.signal(StoreHealthWorkflow.voided, old)
            before = await handle.query(StoreHealthWorkflow.health, read_at)
            assert before.void_rate.count == 1  # as the earlier code read it
        async with Worker(env.client, task_queue=task_queue, workflows=[StoreHealthWorkflow]):
            void = VoidedRecord(**ids, order_id="v1", at=last_month + timedelta(days=3))
            await handle.signal(StoreHealthWorkflow.voided, void)
            await handle.signal(StoreHealthWorkflow.voided, old)  # redelivered: counts once
            health = await handle.query(StoreHealthWorkflow.health, read_at)
            history = await handle.fetch_history()
            await handle.terminate("test over")
    assert (health.void_rate.count, health.void_rate.total) == (1, 5)
    assert (health.unfulfilled_rate.count, health.unfulfilled_rate.total) == (1, 5)
    replayer = Replayer(workflows=[StoreHealthWorkflow], data_converter=pydantic_data_converter)
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None, replayed.replay_failure


async def test_unfulfilled_and_void_gauges_are_exported(env: WorkflowEnvironment) -> None:
    buffer = MetricBuffer(1000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    client = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        runtime=runtime,
        data_converter=pydantic_data_converter,
    )
    async with store(env, client) as s:
        ids = {"seller_id": s.seller_id, "at": s.month}
        await s.record(
            *(ShippedRecord(**ids, order_id=f"o{i}") for i in range(2)),
            VoidedRecord(**ids, order_id="v1"),
            UnfulfilledRecord(**ids, order_id="u1"),
        )
        health = await s.health()
    assert (health.void_rate.count, health.unfulfilled_rate.count) == (1, 1)
    values: dict[str, float] = {}
    for update in buffer.retrieve_updates():
        if update.attributes.get("seller_id") == s.seller_id:
            values[update.metric.name] = update.value
    assert values["parcelflow_store_void_rate"] == 0.25
    assert values["parcelflow_store_unfulfilled_rate"] == 0.25
    assert (values["parcelflow_store_orders"], values["parcelflow_store_orders_shipped"]) == (4, 2)


async def test_the_cli_shows_no_data_for_a_store_with_nothing_shipped(
    env: WorkflowEnvironment,
) -> None:
    async with store(env) as s:
        with env.with_time_skipping_disabled():
            await env.client.start_workflow(
                StoreHealthWorkflow.run,
                StoreHealthInput(seller_id=s.seller_id),
                id=store_workflow_id(s.seller_id),
                task_queue=s.task_queue,
            )
        address = {"PARCELFLOW_TEMPORAL_ADDRESS": env.client.service_client.config.target_host}
        runner = CliRunner()
        shown = await asyncio.to_thread(
            runner.invoke, health_app, ["show", s.seller_id], env=address
        )
        assert shown.exit_code == 0, shown.output
        lines = shown.output.splitlines()
        assert lines[0].endswith("to date: no data"), lines[0]
        # Each row: the figure (28 columns), its value (16), its level.
        rows = {line[2:30].strip(): (line[31:47].strip(), line[48:]) for line in lines[1:]}
        assert rows == {
            "withdrawals": ("0", "ok"),
            "withdrawal rate": ("0/0", "no data"),
            "void rate": ("0/0", "no data"),
            "unfulfilled rate": ("0/0", "no data"),
        }
        as_json = await asyncio.to_thread(
            runner.invoke, health_app, ["show", s.seller_id, "--json"], env=address
        )
        data = json.loads(as_json.output)
        assert data["level"] == "no_data"
        assert data["unfulfilled_rate"] == {"count": 0, "total": 0, "level": "no_data"}
        assert data["void_rate"]["level"] == data["withdrawal_rate"]["level"] == "no_data"
