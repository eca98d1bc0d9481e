"""The worker process: the one composition root that wires ports into activities."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.carrier import CarrierActivities, UnconfiguredTracking
from activities.claims import ClaimActivities, UnconfiguredClaims
from activities.discovery import DiscoveryActivities
from activities.disputes import DisputeActivities
from activities.evidence import EvidenceActivities
from activities.health import HealthActivities
from activities.numbers import NumberActivities
from activities.platform import PlatformActivities
from activities.tracking import TrackingActivities
from adapters.aliexpress.client import AliExpressClient
from adapters.aliexpress.services import ENV_VARIABLE as SERVICE_KEYS_ENV
from adapters.aliexpress.services import ServiceKeys
from adapters.aliexpress.tokens import TokenStatus
from adapters.easypost import EasyPostClaims
from adapters.seventeentrack.client import SeventeenTrackClient
from adapters.seventeentrack.units import BASE_URL as SEVENTEENTRACK_URL
from domain.errors import InvalidInput, PortError
from domain.polling import PollingPolicy
from domain.ports import CarrierClaims, CarrierTracking, Platform
from workers.config import ClaimsSettings, TemporalSettings, WorkerHealthSettings
from workers.exits import EXIT_BAD_CONFIG, EXIT_UNREACHABLE, exit_process
from workers.logging import configure_logging, get_logger
from workers.orders import Orders
from workers.temporal_client import connect
from workers.worker_health import WorkerHealth, serving
from workflows.carrier_claim import CarrierClaimWorkflow
from workflows.dispute_poller import DISPUTE_POLLER_ID, DisputePollerInput, DisputePollerWorkflow
from workflows.number_hold import NumberHoldWorkflow, RetiredNumberWorkflow
from workflows.order import OrderWorkflow
from workflows.order_discovery import (
    DISCOVERY_POLLER_ID,
    DiscoveryPollerInput,
    DiscoveryPollerWorkflow,
)
from workflows.store_health import StoreHealthWorkflow
from workflows.tracking_poller import POLLER_ID, PollerInput, TrackingPollerWorkflow

_TRUE = frozenset({"1", "true", "yes", "on"})

Input = TypeVar("Input")


def build_worker(
    client: Client,
    *,
    task_queue: str,
    platform: Platform,
    tracking: CarrierTracking | None = None,
    claims: CarrierClaims | None = None,
) -> Worker:
    """A worker running every parcelflow workflow and activity against ``platform`` and
    ``tracking`` (without one, the R8 carrier check reports that none is configured)."""
    numbers = NumberActivities(client, task_queue)
    carrier = CarrierActivities(tracking)
    polling = TrackingActivities(client, tracking or UnconfiguredTracking(), task_queue)
    discovery = DiscoveryActivities(platform, Orders(client, task_queue))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            OrderWorkflow,
            NumberHoldWorkflow,
            RetiredNumberWorkflow,
            StoreHealthWorkflow,
            TrackingPollerWorkflow,
            CarrierClaimWorkflow,
            DisputePollerWorkflow,
            DiscoveryPollerWorkflow,
        ],
        activities=[
            *PlatformActivities(platform).all(),
            EvidenceActivities(platform).upload,
            DisputeActivities(platform, client, task_queue).poll,
            discovery.list_awaiting,
            discovery.check,
            numbers.claim,
            numbers.release,
            *carrier.all(),
            *HealthActivities(client).all(),
            *polling.all(),
            *ClaimActivities(claims or UnconfiguredClaims()).all(),
        ],
    )


async def ensure_tracking_poller(client: Client, task_queue: str, batch_size: int) -> None:
    """Start the singleton tracking poller of ``task_queue`` unless it already runs."""
    run = PollerInput(polling=PollingPolicy(batch_size=batch_size))
    await _ensure(client, TrackingPollerWorkflow.run, run, POLLER_ID, task_queue)


async def ensure_dispute_poller(client: Client, task_queue: str) -> None:
    """Start the singleton dispute poller of ``task_queue`` unless it already runs."""
    await _ensure(
        client, DisputePollerWorkflow.run, DisputePollerInput(), DISPUTE_POLLER_ID, task_queue
    )


async def ensure_discovery_poller(
    client: Client, task_queue: str, inp: DiscoveryPollerInput | None = None
) -> None:
    """Start the singleton order-discovery poller of ``task_queue`` unless it already runs
    (``inp``: its periods, the platform's by default; a running poller keeps its own)."""
    run = inp or DiscoveryPollerInput()
    await _ensure(client, DiscoveryPollerWorkflow.run, run, DISCOVERY_POLLER_ID, task_queue)


async def _ensure(
    client: Client,
    run: Callable[[Any, Input], Awaitable[None]],
    inp: Input,
    singleton: str,
    task_queue: str,
) -> None:
    """Start ``run`` as ``{singleton}-{task_queue}`` unless that workflow already runs."""
    await client.start_workflow(
        run,
        inp,
        id=f"{singleton}-{task_queue}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


def build_tracking_from_env(env: Mapping[str, str] | None = None) -> SeventeenTrackClient | None:
    """The 17TRACK client from ``PARCELFLOW_17TRACK_TOKEN`` (and ``_BASE_URL``), or None."""
    env = os.environ if env is None else env
    token = env.get("PARCELFLOW_17TRACK_TOKEN", "").strip()
    if not token:
        return None
    base_url = env.get("PARCELFLOW_17TRACK_BASE_URL", "").strip() or SEVENTEENTRACK_URL
    return SeventeenTrackClient(base_url, token)


def build_claims_from_env(env: Mapping[str, str] | None = None) -> EasyPostClaims | None:
    """The EasyPost claims client from ``PARCELFLOW_EASYPOST_*`` and
    ``PARCELFLOW_CLAIM_CARRIERS``, or None: every claim then goes to an operator."""
    settings = ClaimsSettings.from_env(env)
    if settings.api_key is None:
        return None
    return EasyPostClaims(
        settings.url,
        settings.api_key.get_secret_value(),
        carriers=settings.carriers,
        contact_email=settings.contact_email,
    )


def build_platform_from_env(env: Mapping[str, str] | None = None) -> AliExpressClient:
    """The marketplace client from ``PARCELFLOW_ALIEXPRESS_*`` (base URL, app key and secret,
    access token, the per-store logistics service keys ``..._SERVICE_KEYS``; optionally the
    refresh token ``..._REFRESH_TOKEN`` and ``..._TOKEN_EXPIRES_AT``) and
    ``PARCELFLOW_PLATFORM_SUPPORTS_WITHDRAWAL``."""
    env = os.environ if env is None else env
    values: dict[str, str] = {}
    for name in ("BASE_URL", "APP_KEY", "APP_SECRET", "ACCESS_TOKEN"):
        variable = f"PARCELFLOW_ALIEXPRESS_{name}"
        value = env.get(variable, "").strip()
        if not value:
            raise InvalidInput(variable, "must be set")
        values[name] = value
    withdrawal = env.get("PARCELFLOW_PLATFORM_SUPPORTS_WITHDRAWAL", "false").strip().lower()
    services = ServiceKeys.from_json(env.get(SERVICE_KEYS_ENV, ""))
    return AliExpressClient(
        values["BASE_URL"],
        values["APP_KEY"],
        values["APP_SECRET"],
        values["ACCESS_TOKEN"],
        supports_withdrawal=withdrawal in _TRUE,
        services=services,
        refresh_token=env.get("PARCELFLOW_ALIEXPRESS_REFRESH_TOKEN", "").strip() or None,
        token_expires_at=_token_expiry(env),
    )


def _token_expiry(env: Mapping[str, str]) -> datetime | None:
    """``PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT`` (ISO 8601 with an offset), None when unset:
    an unknown expiry is refreshed only when the platform refuses the token."""
    variable = "PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT"
    text = env.get(variable, "").strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(variable, f"is not an ISO 8601 time ({error})") from error
    if when.tzinfo is None:
        raise InvalidInput(variable, "needs a UTC offset, e.g. 2025-04-01T08:00:00+00:00")
    return when


async def check_service_keys(
    platform: AliExpressClient, *, retry_every: float = 30.0, max_wait: float = 600.0
) -> frozenset[str]:
    """The start check: list the platform's logistics services and warn, once, about the
    table's keys it does not list (uploads under them are refused). A listing that fails is
    logged and tried again (``retry_every`` seconds, doubling up to ``max_wait``) until it
    succeeds or the task is cancelled; it never stops the worker."""
    log = get_logger("parcelflow.worker")
    wait = retry_every
    while True:
        try:
            unlisted = await platform.unlisted_service_keys()
        except PortError as error:
            log.warning(
                "logistics services could not be listed: will try again",
                error=str(error),
                retry_in_seconds=wait,
            )
            await asyncio.sleep(wait)
            wait = min(wait * 2, max_wait)
            continue
        if unlisted:
            log.warning(
                "logistics service keys the platform does not list: uploads under them are"
                f" refused ({SERVICE_KEYS_ENV})",
                unlisted=sorted(unlisted),
            )
        else:
            log.info("logistics service keys checked: every key is listed")
        return unlisted


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_worker(
    client: Client,
    task_queue: str,
    platform: Platform,
    stop: asyncio.Event,
    claims: CarrierClaims | None = None,
    *,
    health: WorkerHealthSettings | None = None,
    token_status: Callable[[], TokenStatus] | None = None,
) -> None:
    """Poll ``task_queue`` until ``stop`` is set, then shut down gracefully. With a ``health``
    port, ``GET /healthz`` reports Temporal, the worker and ``token_status`` meanwhile."""
    log = get_logger("parcelflow.worker", task_queue=task_queue)
    tracking = build_tracking_from_env()
    worker = build_worker(
        client, task_queue=task_queue, platform=platform, tracking=tracking, claims=claims
    )
    async with worker, AsyncExitStack() as endpoints:
        if health is not None and health.port is not None:
            report = WorkerHealth(client, task_queue, tokens=token_status, worker=worker)
            url = await endpoints.enter_async_context(serving(report, health))
            log.info("worker health endpoint", url=url)
        if tracking is not None:
            await ensure_tracking_poller(client, task_queue, tracking.batch_size)
        await ensure_dispute_poller(client, task_queue)
        await ensure_discovery_poller(client, task_queue)
        log.info("worker started", tracking=tracking is not None, claims_api=claims is not None)
        await stop.wait()
        log.info("worker stopping: finishing running tasks")
    log.info("worker stopped")


async def _serve(
    settings: TemporalSettings,
    platform: AliExpressClient,
    claims: EasyPostClaims | None,
    health: WorkerHealthSettings,
) -> int:
    stop = stop_on_signals()
    try:
        client = await connect(settings)
    except Exception as error:  # noqa: BLE001 - any failure to connect means "unreachable".
        get_logger("parcelflow.worker").error(
            "temporal unreachable", address=settings.address, error=str(error)
        )
        return EXIT_UNREACHABLE
    async with AsyncExitStack() as clients:
        await clients.enter_async_context(platform)
        get_logger("parcelflow.worker").info(platform.token_status().line())
        if claims is not None:
            await clients.enter_async_context(claims)
        check = asyncio.create_task(check_service_keys(platform))
        try:
            await run_worker(
                client,
                settings.task_queue,
                platform,
                stop,
                claims,
                health=health,
                token_status=platform.token_status,
            )
        except InvalidInput as error:  # the health port cannot be taken
            get_logger("parcelflow.worker").error("bad configuration", problem=str(error))
            return EXIT_BAD_CONFIG
        finally:
            check.cancel()
    return 0


def main() -> None:
    """``python -m workers.worker``: run the worker until SIGINT or SIGTERM."""
    configure_logging()
    settings = TemporalSettings.from_env()
    try:
        platform = build_platform_from_env()
        claims = build_claims_from_env()
        health = WorkerHealthSettings.from_env()
    except InvalidInput as error:
        get_logger("parcelflow.worker").error("bad configuration", problem=str(error))
        exit_process(EXIT_BAD_CONFIG)
    exit_process(asyncio.run(_serve(settings, platform, claims, health)))


if __name__ == "__main__":
    main()
