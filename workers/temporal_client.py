"""Connecting to Temporal with parcelflow's data converter (pydantic) and settings."""

from __future__ import annotations

from temporalio.client import Client, Interceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from workers.codec import EncryptionCodec, data_converter
from workers.config import TemporalSettings


async def connect(settings: TemporalSettings) -> Client:
    """A client for ``settings``: plain, mTLS (certificates) or API key (Temporal Cloud);
    payloads encrypted when ``settings.codec_keys`` is set."""
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
    codec = None
    if settings.codec_keys is not None:
        codec = EncryptionCodec.from_spec(settings.codec_keys.get_secret_value())
    return await Client.connect(
        settings.address,
        runtime=runtime,
        interceptors=tracing_interceptors(enabled=settings.tracing),
        namespace=settings.namespace,
        api_key=settings.api_key,
        tls=tls,
        data_converter=data_converter(codec),
    )


def tracing_interceptors(*, enabled: bool) -> list[Interceptor]:
    """OpenTelemetry spans for every start, signal, update, workflow and activity (optional:
    ``pip install 'parcelflow[otel]'`` and ``PARCELFLOW_TRACING=1``; configure the exporter the
    OpenTelemetry way, e.g. ``OTEL_EXPORTER_OTLP_ENDPOINT``)."""
    if not enabled:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor  # noqa: PLC0415 - optional

    return [TracingInterceptor()]
