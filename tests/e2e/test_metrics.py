"""The SDK's metrics are exported for Prometheus when an address is configured."""

from __future__ import annotations

import uuid

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
