"""The SDK's metrics are exported for Prometheus when an address is configured."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.asgi_server import free_port
from tests.fakes import FakePlatform
from workers.config import TemporalSettings
from workers.temporal_client import connect
from workers.worker import build_worker

pytestmark = pytest.mark.temporal


async def test_a_worker_with_a_metrics_address_serves_prometheus_metrics(
    env: WorkflowEnvironment,
) -> None:
    address = f"127.0.0.1:{free_port()}"
    settings = TemporalSettings(
        address=env.client.service_client.config.target_host, metrics_address=address
    )
    client = await connect(settings)
    async with (
        build_worker(client, task_queue=f"tq-{uuid.uuid4().hex[:8]}", platform=FakePlatform()),
        httpx.AsyncClient() as http,
    ):
        response = await http.get(f"http://{address}/metrics")
    assert response.status_code == 200
    assert "temporal_" in response.text


def test_the_metrics_address_comes_from_the_environment() -> None:
    settings = TemporalSettings.from_env({"PARCELFLOW_METRICS_ADDRESS": "0.0.0.0:9464"})
    assert settings.metrics_address == "0.0.0.0:9464"


async def test_tracing_on_records_a_span_for_each_order_start(env: WorkflowEnvironment) -> None:
    from opentelemetry import trace  # noqa: PLC0415 - the optional extra under test
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: PLC0415
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: PLC0415
        InMemorySpanExporter,
    )

    from tests.workflows.harness import order_facts  # noqa: PLC0415
    from workers.orders import Orders  # noqa: PLC0415

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    settings = TemporalSettings(address=env.client.service_client.config.target_host, tracing=True)
    client = await connect(settings)
    facts = order_facts(datetime.now(UTC))
    await Orders(client, f"tq-{uuid.uuid4().hex[:8]}").create(facts)
    names = [span.name for span in exporter.get_finished_spans()]
    assert any(name.startswith("SignalWithStartWorkflow:Order") for name in names), names
    await client.get_workflow_handle(facts.workflow_id).terminate("test over")


def test_tracing_is_off_unless_asked() -> None:
    assert TemporalSettings.from_env({}).tracing is False
    assert TemporalSettings.from_env({"PARCELFLOW_TRACING": "1"}).tracing is True
