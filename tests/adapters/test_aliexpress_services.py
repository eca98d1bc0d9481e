"""Logistics service keys: the table, the client's mapping, and the start check, against the
simulator over real HTTP (what it recorded is what the platform would have been told)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import httpx
import pytest
import structlog

from adapters.aliexpress import AliExpressClient, refusal_reason
from adapters.aliexpress.responses import parse_logistics_services
from adapters.aliexpress.services import ServiceKeys
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import Fault, SimState, create_app
from domain.errors import InvalidInput, PlatformRefused, RefusalReason, TransientPortError
from workers.worker import build_platform_from_env, check_service_keys

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
KEY, SECRET = "sim-key", "sim-secret"
SHIP = "aliexpress.logistics.sellershipmentfortop"
LIST = "aliexpress.logistics.redefining.listlogisticsservice"
REGISTERED, EMS_NUMBER = "RR123456785CN", "EE123456785CN"


@pytest.mark.parametrize(
    ("carrier", "number", "key"),
    [
        ("china_post", REGISTERED, "CPAM"),
        ("China Post", "LX123456785CN", "CPAM"),
        ("china_post", EMS_NUMBER, "EMS"),
        ("china_post:ems", REGISTERED, "EMS"),
        ("china_post_ordinary", "RA123456785CN", "CPAP"),
        ("ems", EMS_NUMBER, "EMS"),
        ("yanwen", "UG123456785CN", "YANWEN_JYT"),
        ("cainiao", "LP00143017183663", "CAINIAO_STANDARD"),
        ("4px", "4PX1234567890123", None),
        ("china_post:surface", REGISTERED, None),
    ],
)
def test_each_carrier_and_line_has_its_platform_key_or_none(
    carrier: str, number: str, key: str | None
) -> None:
    assert ServiceKeys().key_for(carrier, number) == key


def test_a_stores_own_key_wins_over_every_store_and_the_defaults() -> None:
    keys = ServiceKeys.from_json(
        '{"store-7": {"China Post": "CPAP"}, "*": {"china_post": "EMS", "4px:rm": "FOURPX_RM"}}'
    )
    assert keys.key_for("china_post", REGISTERED, "store-7") == "CPAP"
    assert keys.key_for("china_post", REGISTERED, "store-8") == "EMS"
    assert keys.key_for("4px:rm", "4PX1234567890123", "store-8") == "FOURPX_RM"
    assert keys.key_for("yanwen", "UG123456785CN", "store-7") == "YANWEN_JYT"
    assert {"CPAP", "EMS", "FOURPX_RM"} <= keys.keys()


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"s": "CPAM"}', '{"s": {"china_post": ""}}', '{"s": {"x": 1}}']
)
def test_a_malformed_override_names_the_variable(text: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        ServiceKeys.from_json(text)
    assert bad.value.field == "PARCELFLOW_ALIEXPRESS_SERVICE_KEYS"


def test_the_worker_reads_the_overrides_from_its_environment() -> None:
    env = {
        "PARCELFLOW_ALIEXPRESS_BASE_URL": "http://127.0.0.1:1",
        "PARCELFLOW_ALIEXPRESS_APP_KEY": KEY,
        "PARCELFLOW_ALIEXPRESS_APP_SECRET": SECRET,
        "PARCELFLOW_ALIEXPRESS_ACCESS_TOKEN": "tok",
        "PARCELFLOW_ALIEXPRESS_SERVICE_KEYS": '{"store-7": {"china_post": "EMS"}}',
    }
    client = build_platform_from_env(env)
    assert client.service_name("china_post", REGISTERED, "store-7") == "EMS"
    assert client.service_name("china_post", REGISTERED, "store-8") == "CPAM"
    with pytest.raises(InvalidInput):
        build_platform_from_env({**env, "PARCELFLOW_ALIEXPRESS_SERVICE_KEYS": "{"})


def test_a_listing_that_reports_failure_is_worth_trying_again() -> None:
    body = {
        "aliexpress_logistics_redefining_listlogisticsservice_response": {
            "result_success": False,
            "error_desc": "System error",
        }
    }
    with pytest.raises(TransientPortError, match="System error"):
        parse_logistics_services(body)


@pytest.fixture
def state() -> SimState:
    state = SimState(app_key=KEY, app_secret=SECRET, fault_sleep=1.0)
    state.set_now(T0)
    state.add_order("1001", eta=T0 + timedelta(days=15))
    return state


@pytest.fixture
def base_url(state: SimState) -> Iterator[str]:
    with serve_in_thread(create_app(state)) as url:
        yield url


class Sent:
    """The gateway methods the client sent, in order (an httpx request hook)."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.methods.append(dict(parse_qsl(request.content.decode()))["method"])


def sim_client(base_url: str, sent: Sent, services: ServiceKeys | None = None) -> AliExpressClient:
    http = httpx.AsyncClient(event_hooks={"request": [sent]})
    return AliExpressClient(
        base_url, KEY, SECRET, "tok", http=http, timeout=0.5, retry_delay=0, services=services
    )


def uploads(state: SimState) -> list[dict[str, object]]:
    return [e.detail for e in state.ledger() if e.kind == "tracking_uploaded"]


async def test_a_china_post_upload_is_declared_under_cpam(base_url: str, state: SimState) -> None:
    async with sim_client(base_url, Sent()) as client:
        await client.upload_tracking("1001", "china_post", REGISTERED, "wf:upload:1")
    assert uploads(state) == [{"logistics_no": REGISTERED, "service_name": "CPAM"}]
    assert [s.carrier for s in state.order("1001").shipments] == ["CPAM"]


async def test_a_stores_override_is_what_the_platform_receives(
    base_url: str, state: SimState
) -> None:
    state.add_order("1002", eta=T0 + timedelta(days=15))
    services = ServiceKeys.from_json('{"store-7": {"china_post": "EMS"}}')
    async with sim_client(base_url, Sent(), services) as client:
        await client.upload_tracking("1001", "china_post", REGISTERED, "a:upload:1")
        await client.upload_tracking(
            "1002", "china_post", "RR123456790CN", "b:upload:1", store_id="store-7"
        )
    assert [d["service_name"] for d in uploads(state)] == ["CPAM", "EMS"]


@pytest.mark.parametrize(
    ("carrier", "named"), [("4px", "'4px'"), ("china_post:surface", "'china_post:surface'")]
)
async def test_a_carrier_or_line_without_a_key_is_refused_before_anything_is_sent(
    base_url: str, state: SimState, carrier: str, named: str
) -> None:
    sent = Sent()
    async with sim_client(base_url, sent) as client:
        with pytest.raises(PlatformRefused) as refused:
            await client.upload_tracking("1001", carrier, "4PX1234567890123", "wf:upload:1")
    assert refused.value.reason is RefusalReason.UNKNOWN_LOGISTICS_SERVICE
    assert named in refused.value.message
    assert sent.methods == []
    assert uploads(state) == []


async def test_a_key_the_platform_does_not_list_is_reported_and_refused_without_a_call(
    base_url: str, state: SimState
) -> None:
    sent = Sent()
    services = ServiceKeys.from_json('{"*": {"china_post": "CPAM_PLUS"}}')
    async with sim_client(base_url, sent, services) as client:
        with structlog.testing.capture_logs() as logs:
            unlisted = await check_service_keys(client)
        with pytest.raises(PlatformRefused) as refused:
            await client.upload_tracking("1001", "china_post", REGISTERED, "wf:upload:1")
    assert unlisted == {"CPAM_PLUS"}
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [w["unlisted"] for w in warnings] == [["CPAM_PLUS"]]
    assert refused.value.reason is RefusalReason.UNKNOWN_LOGISTICS_SERVICE
    assert "'CPAM_PLUS'" in refused.value.message
    assert sent.methods == [LIST]
    assert uploads(state) == []


async def test_the_start_check_tries_again_when_the_listing_fails(
    base_url: str, state: SimState
) -> None:
    state.inject(LIST, Fault.ERROR_5XX, count=2)
    sent = Sent()
    async with sim_client(base_url, sent) as client:
        with structlog.testing.capture_logs() as logs:
            unlisted = await check_service_keys(client, retry_every=0.01)
    assert unlisted == frozenset()
    assert [e["event"].split(":")[0] for e in logs] == [
        "logistics services could not be listed",
        "logistics services could not be listed",
        "logistics service keys checked",
    ]
    assert sent.methods == [LIST, LIST, LIST]


async def test_the_simulator_lists_every_default_key_and_refuses_any_other(
    base_url: str, state: SimState
) -> None:
    # A client that never listed sends the key; the platform's own rule refuses it.
    services = ServiceKeys.from_json('{"*": {"china_post": "CPAM_PLUS"}}')
    async with sim_client(base_url, Sent(), services) as client:
        listed = {service.service_name for service in await client.logistics_services()}
        fresh = sim_client(base_url, Sent(), services)
        async with fresh:
            with pytest.raises(PlatformRefused) as refused:
                await fresh.upload_tracking("1001", "china_post", REGISTERED, "wf:upload:1")
    assert ServiceKeys().keys() <= listed
    assert refused.value.code == "LOGISTICS_SERVICE_INVALID"
    assert refusal_reason(refused.value.code) is RefusalReason.UNKNOWN_LOGISTICS_SERVICE
    assert uploads(state) == []
