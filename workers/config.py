"""Process configuration, read from ``PARCELFLOW_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr


class TemporalSettings(BaseModel):
    """Where the Temporal cluster is and how to reach it (local, self-hosted or Cloud)."""

    model_config = ConfigDict(frozen=True)

    address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = "parcelflow"
    api_key: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    metrics_address: str | None = None
    tracing: bool = False
    """OpenTelemetry tracing through the SDK's interceptor (needs the ``otel`` extra)."""
    """host:port where the SDK's metrics are served for Prometheus (``/metrics``)."""
    codec_keys: SecretStr | None = None
    """``id:<base64 32 bytes>,...``: payloads are encrypted (first key) and decrypted (any key)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TemporalSettings:
        """Read ``PARCELFLOW_TEMPORAL_ADDRESS``, ``_NAMESPACE``, ``PARCELFLOW_TASK_QUEUE``, ..."""
        env = os.environ if env is None else env
        pairs = {
            "address": env.get("PARCELFLOW_TEMPORAL_ADDRESS"),
            "namespace": env.get("PARCELFLOW_TEMPORAL_NAMESPACE"),
            "task_queue": env.get("PARCELFLOW_TASK_QUEUE"),
            "api_key": env.get("PARCELFLOW_TEMPORAL_API_KEY"),
            "tls_cert": env.get("PARCELFLOW_TEMPORAL_TLS_CERT"),
            "tls_key": env.get("PARCELFLOW_TEMPORAL_TLS_KEY"),
            "tls_ca": env.get("PARCELFLOW_TEMPORAL_TLS_CA"),
            "metrics_address": env.get("PARCELFLOW_METRICS_ADDRESS"),
            "tracing": env.get("PARCELFLOW_TRACING"),
            "codec_keys": env.get("PARCELFLOW_CODEC_KEYS"),
        }
        return cls.model_validate({k: v for k, v in pairs.items() if v})
