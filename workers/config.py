"""Process configuration, read from ``PARCELFLOW_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from adapters.easypost.units import API_ROOT as EASYPOST_ROOT
from domain.carriers import carrier_codes, parse_carrier
from domain.errors import InvalidInput

MAX_PORT = 65535


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


class ClaimsSettings(BaseModel):
    """Carrier claims by API (R17): EasyPost's Claims API and the carriers insured through it.

    Without an API key nothing is claimed by API: every claim goes to an operator.
    """

    model_config = ConfigDict(frozen=True)

    url: str = EASYPOST_ROOT
    api_key: SecretStr | None = None
    carriers: tuple[str, ...] = ()
    """Our carrier codes whose parcels are insured, hence claimed, through EasyPost."""
    contact_email: str = ""
    """The seller's claims address: EasyPost requires one on every claim."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClaimsSettings:
        """Read ``PARCELFLOW_EASYPOST_URL``, ``_API_KEY``, ``_CONTACT_EMAIL`` and
        ``PARCELFLOW_CLAIM_CARRIERS`` (comma-separated carrier names, as sellers spell them);
        ``InvalidInput`` names the variable that is missing or wrong."""
        env = os.environ if env is None else env
        url = env.get("PARCELFLOW_EASYPOST_URL", "").strip() or EASYPOST_ROOT
        key = env.get("PARCELFLOW_EASYPOST_API_KEY", "").strip()
        listed = env.get("PARCELFLOW_CLAIM_CARRIERS", "").split(",")
        names = [name.strip() for name in listed if name.strip()]
        email = env.get("PARCELFLOW_EASYPOST_CONTACT_EMAIL", "").strip()
        if not key:
            if names:
                problem = "must be set for PARCELFLOW_CLAIM_CARRIERS to be claimed by API"
                raise InvalidInput("PARCELFLOW_EASYPOST_API_KEY", problem)
            return cls(url=url)
        carriers = []
        for name in names:
            carrier = parse_carrier(name)
            if carrier is None:
                problem = f"unknown carrier {name!r} (known: {', '.join(carrier_codes())})"
                raise InvalidInput("PARCELFLOW_CLAIM_CARRIERS", problem)
            carriers.append(carrier.value)
        if not carriers:
            problem = "must name the carriers whose parcels are insured through EasyPost"
            raise InvalidInput("PARCELFLOW_CLAIM_CARRIERS", problem)
        if "@" not in email:
            problem = "must be the seller's claims email address (EasyPost requires one)"
            raise InvalidInput("PARCELFLOW_EASYPOST_CONTACT_EMAIL", problem)
        return cls(
            url=url,
            api_key=SecretStr(key),
            carriers=tuple(dict.fromkeys(carriers)),
            contact_email=email,
        )


class WorkerHealthSettings(BaseModel):
    """The worker's health endpoint (``GET /healthz``): off unless a port is given."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    """Where it listens: the loopback is enough for a container's own healthcheck."""
    port: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerHealthSettings:
        """Read ``PARCELFLOW_WORKER_HEALTH_PORT`` (unset or empty: off) and
        ``PARCELFLOW_WORKER_HEALTH_HOST``; ``InvalidInput`` names a port that is not one."""
        env = os.environ if env is None else env
        host = env.get("PARCELFLOW_WORKER_HEALTH_HOST", "").strip() or "127.0.0.1"
        text = env.get("PARCELFLOW_WORKER_HEALTH_PORT", "").strip()
        if not text:
            return cls(host=host)
        if not text.isdigit() or not 1 <= int(text) <= MAX_PORT:
            problem = f"must be a TCP port from 1 to {MAX_PORT}, got {text!r}"
            raise InvalidInput("PARCELFLOW_WORKER_HEALTH_PORT", problem)
        return cls(host=host, port=int(text))
