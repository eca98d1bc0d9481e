"""Connecting to Temporal with parcelflow's data converter (pydantic) and settings."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from workers.config import TemporalSettings


async def connect(settings: TemporalSettings) -> Client:
    """A client for ``settings``: plain, mTLS (certificates) or API key (Temporal Cloud)."""
    tls: TLSConfig | bool = False
    if settings.tls_cert and settings.tls_key:
        tls = TLSConfig(
            client_cert=settings.tls_cert.read_bytes(),
            client_private_key=settings.tls_key.read_bytes(),
            server_root_ca_cert=settings.tls_ca.read_bytes() if settings.tls_ca else None,
        )
    elif settings.api_key:
        tls = True
    runtime = None
    if settings.metrics_address:
        # The SDK's own metrics (workflow and activity latencies, task slots, ...) and the
        # store-health gauges the workflows record, served for Prometheus.
        metrics = PrometheusConfig(bind_address=settings.metrics_address)
        runtime = Runtime(telemetry=TelemetryConfig(metrics=metrics))
    return await Client.connect(
        settings.address,
        runtime=runtime,
        namespace=settings.namespace,
        api_key=settings.api_key,
        tls=tls,
        data_converter=pydantic_data_converter,
    )
