"""Token refresh: the real client against the simulator over real HTTP, on the simulator's clock."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import structlog

from adapters.aliexpress import AliExpressClient
from adapters.aliexpress.signing import verify
from adapters.aliexpress.tokens import (
    REFRESH_PATH,
    AccessTokens,
    RefreshTokenExpired,
    TokenGrant,
    TokenState,
    parse_refresh,
    refused_access,
)
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import Fault, SimState, create_app
from adapters.platform_sim.tokens import SimGrant
from domain.errors import InvalidInput, PermanentPortError, TransientPortError
from workers.worker import build_platform_from_env

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
KEY, SECRET = "sim-key", "sim-secret"
NUMBER = "RR123456785CN"
CONTRACTS = Path(__file__).resolve().parents[1] / "contracts" / "aliexpress"
REFRESH = "/rest" + REFRESH_PATH


@dataclass
class Wire:
    """Every exchange the client had: (path, API method or path, refused for its token)."""

    calls: list[tuple[str, str, bool]] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)

    async def record(self, response: httpx.Response) -> None:
        await response.aread()
        form = dict(parse_qsl(response.request.content.decode()))
        body = response.json() if response.content else None
        path = response.request.url.path
        self.calls.append((path, form.get("method", path), refused_access(body)))
        self.forms.append(form)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.calls]

    def refused(self) -> int:
        return sum(refused for _, _, refused in self.calls)


@pytest.fixture
def state() -> SimState:
    state = SimState(app_key=KEY, app_secret=SECRET, open_tokens=False)
    state.tokens.access_ttl = timedelta(hours=1)
    state.set_now(T0)
    state.add_order("1001", eta=T0 + timedelta(days=15))
    return state


@pytest.fixture
def grant(state: SimState) -> SimGrant:
    return state.tokens.grant(access_ttl=timedelta(hours=1), refresh_ttl=timedelta(days=2))


@pytest.fixture
def base_url(state: SimState) -> Iterator[str]:
    with serve_in_thread(create_app(state)) as url:
        yield url


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
async def http(wire: Wire) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(event_hooks={"response": [wire.record]}) as http:
        yield http


def sim_client(
    base_url: str, state: SimState, grant: SimGrant, http: httpx.AsyncClient, *, expiry_known: bool
) -> AliExpressClient:
    return AliExpressClient(
        base_url,
        KEY,
        SECRET,
        grant.access_token,
        http=http,
        clock=state.now,
        timeout=2.0,
        retry_delay=0,
        refresh_token=grant.refresh_token,
        token_expires_at=grant.expires_at if expiry_known else None,
    )


@pytest.fixture
def client(
    base_url: str, state: SimState, grant: SimGrant, http: httpx.AsyncClient
) -> AliExpressClient:
    return sim_client(base_url, state, grant, http, expiry_known=True)


@pytest.fixture
def blind_client(
    base_url: str, state: SimState, grant: SimGrant, http: httpx.AsyncClient
) -> AliExpressClient:
    """A client that was not told when its access token expires."""
    return sim_client(base_url, state, grant, http, expiry_known=False)


async def test_a_token_about_to_expire_is_refreshed_before_the_call_and_no_call_fails(
    client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at - timedelta(minutes=5))
    order = await client.get_order("1001")
    assert order.order_id == "1001"
    assert wire.paths() == [REFRESH, "/sync"]
    assert wire.refused() == 0
    assert client.token_status().access_expires_at == state.now() + state.tokens.access_ttl
    state.set_now(grant.expires_at + timedelta(minutes=5))  # The old token is dead by now.
    await client.get_order("1001")
    assert state.tokens.refreshes == 1
    assert wire.refused() == 0


async def test_a_token_well_before_its_expiry_is_not_refreshed(
    client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at - timedelta(minutes=30))
    await client.get_order("1001")
    assert wire.paths() == ["/sync"]
    assert state.tokens.refreshes == 0


async def test_a_read_refused_for_an_expired_token_is_refreshed_once_and_succeeds(
    blind_client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at + timedelta(seconds=1))
    order = await blind_client.get_order("1001")
    assert order.order_id == "1001"
    assert wire.calls == [
        ("/sync", "aliexpress.trade.new.redefining.findorderbyid", True),
        (REFRESH, REFRESH, False),
        ("/sync", "aliexpress.trade.new.redefining.findorderbyid", False),
    ]
    assert state.tokens.refreshes == 1
    # Now the expiry is known (from the refresh answer): the next one comes before the call.
    assert blind_client.token_status().access_expires_at == state.now() + state.tokens.access_ttl


async def test_a_write_refused_for_its_token_is_sent_again_once_without_a_read_back(
    blind_client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at + timedelta(seconds=1))
    await blind_client.upload_tracking("1001", "china_post", NUMBER, "wf-1001:upload")
    ship = "aliexpress.logistics.sellershipmentfortop"
    assert [(path, method) for path, method, _ in wire.calls] == [
        ("/sync", ship),
        (REFRESH, REFRESH),
        ("/sync", ship),
    ]
    assert [e.kind for e in state.effects("wf-1001:upload")] == ["tracking_uploaded"]
    # The key is complete: the same write again sends nothing.
    await blind_client.upload_tracking("1001", "china_post", NUMBER, "wf-1001:upload")
    assert len(wire.calls) == 3


async def test_ten_concurrent_calls_with_an_expired_token_cause_exactly_one_refresh(
    blind_client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at + timedelta(seconds=1))
    orders = await asyncio.gather(*(blind_client.get_order("1001") for _ in range(10)))
    assert [o.order_id for o in orders] == ["1001"] * 10
    assert state.tokens.refreshes == 1
    assert wire.paths().count(REFRESH) == 1
    assert wire.paths().count("/sync") == 10 + wire.refused()


async def test_ten_concurrent_calls_near_expiry_cause_exactly_one_refresh_and_no_refusal(
    client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at - timedelta(minutes=1))
    await asyncio.gather(*(client.get_order("1001") for _ in range(10)))
    assert wire.paths() == [REFRESH] + ["/sync"] * 10
    assert wire.refused() == 0


async def test_an_expired_refresh_token_is_a_clear_error_logged_once_without_token_text(
    blind_client: AliExpressClient,
    state: SimState,
    grant: SimGrant,
    wire: Wire,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state.set_now(grant.refresh_expires_at + timedelta(seconds=1))
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as events:
        for _ in range(2):
            with pytest.raises(RefreshTokenExpired) as caught:
                await blind_client.get_order("1001")
    error = caught.value
    assert isinstance(error, PermanentPortError)
    assert str(error).startswith("the AliExpress refresh token has expired: authorise the app")
    assert "IllegalRefreshToken" in str(error)
    assert wire.paths().count(REFRESH) == 1  # The dead refresh token is not tried again.
    assert [e["event"] for e in events if e["log_level"] == "error"] == [
        "aliexpress refresh token expired"
    ]
    status = blind_client.token_status()
    assert not status.can_refresh
    assert status.problem is not None
    assert "authorise the app again" in status.line()
    report = status.as_json()
    assert (report["state"], report["code"]) == ("expired_refresh_token", "IllegalRefreshToken")
    assert report["problem"] == str(error)
    shown = " ".join(
        [str(error), repr(error), repr(status), status.line(), json.dumps(report)]
        + [json.dumps(e, default=str) for e in events]
        + [caplog.text]
    )
    for secret in (grant.access_token, grant.refresh_token):
        assert secret not in shown


async def test_a_refresh_the_platform_cannot_answer_is_retryable_and_the_next_call_refreshes(
    blind_client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at + timedelta(seconds=1))
    state.inject(REFRESH_PATH, Fault.ERROR_5XX)
    with pytest.raises(TransientPortError) as caught:
        await blind_client.get_order("1001")
    assert not isinstance(caught.value, PermanentPortError)
    assert grant.refresh_token not in str(caught.value)
    failing = blind_client.token_status()
    assert (failing.state, failing.code) == (TokenState.REFRESHING, None)
    assert failing.problem is not None
    assert "tried again" in failing.problem
    assert "503" in failing.problem
    await blind_client.get_order("1001")
    assert state.tokens.refreshes == 1
    recovered = blind_client.token_status()
    assert recovered.can_refresh
    assert (recovered.state, recovered.problem) == (TokenState.OK, None)


async def test_the_refresh_is_a_signed_rest_call_with_only_the_documented_parameters(
    blind_client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at + timedelta(seconds=1))
    await blind_client.get_order("1001")
    [form] = [f for (path, _, _), f in zip(wire.calls, wire.forms, strict=True) if path == REFRESH]
    assert set(form) == {"app_key", "timestamp", "sign_method", "refresh_token", "sign"}
    assert form["refresh_token"] == grant.refresh_token
    assert form["timestamp"] == str(int(state.now().timestamp() * 1000))
    assert verify(SECRET, REFRESH_PATH, form)
    assert not verify(SECRET, "method-style", form)  # The path is part of the signed text.


async def test_a_client_with_a_refreshed_token_uses_the_new_refresh_token_next_time(
    blind_client: AliExpressClient, state: SimState, grant: SimGrant, wire: Wire
) -> None:
    state.set_now(grant.expires_at + timedelta(seconds=1))
    await blind_client.get_order("1001")
    state.advance(state.tokens.access_ttl)  # The refreshed token expires in its turn.
    await blind_client.get_order("1001")
    pairs = zip(wire.calls, wire.forms, strict=True)
    used = [form["refresh_token"] for (path, _, _), form in pairs if path == REFRESH]
    assert len(used) == 2
    assert used[0] == grant.refresh_token
    assert used[1] != grant.refresh_token  # The simulator retired the first one.
    assert state.tokens.refreshes == 2


def contract(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CONTRACTS / name).read_text())
    return loaded


def test_the_documented_refresh_answer_gives_the_documented_expiries() -> None:
    sample = contract("auth_token_refresh_response.json")
    assert sample["access_token"] is None  # The documentation blanks the tokens out.
    filled = {**sample, "access_token": "at-new", "refresh_token": "rt-new"}
    parsed = parse_refresh(filled, now=T0)
    assert parsed.access_token == "at-new"
    assert parsed.refresh_token == "rt-new"
    assert parsed.expires_at == datetime.fromtimestamp(1714192160, UTC)
    assert parsed.refresh_expires_at == datetime.fromtimestamp(1716784148, UTC)


def test_without_absolute_times_the_expiries_count_from_now() -> None:
    sample = contract("auth_token_refresh_response.json")
    absolute = {"expire_time", "refresh_token_valid_time"}
    relative = {k: v for k, v in sample.items() if k not in absolute}
    parsed = parse_refresh({**relative, "access_token": "at-new"}, now=T0)
    assert parsed.expires_at == T0 + timedelta(seconds=2592000)
    assert parsed.refresh_expires_at == T0 + timedelta(seconds=5183988)
    assert parsed.refresh_token is None  # null: the client keeps the refresh token it has.


def test_the_documented_answer_as_printed_carries_no_token_and_is_not_a_grant() -> None:
    with pytest.raises(TransientPortError, match="no access token"):
        parse_refresh(contract("auth_token_refresh_response.json"), now=T0)


def test_a_refused_refresh_token_is_the_clear_permanent_error() -> None:
    body = {
        "type": "ISV",
        "code": "IllegalRefreshToken",
        "message": "The specified refresh token is invalid or expired",
        "request_id": "0ba2887315178178017221014",
    }
    with pytest.raises(RefreshTokenExpired, match="authorise the app again"):
        parse_refresh(body, now=T0)


@pytest.mark.parametrize(
    ("body", "expired"),
    [
        ({"error_response": {"type": "ISV", "code": "IllegalAccessToken", "msg": "x"}}, True),
        ({"type": "ISV", "code": "IllegalAccessToken", "message": "x", "request_id": "1"}, True),
        ({"error_response": {"code": "27", "msg": "Invalid session"}}, True),
        ({"error_response": {"code": "IncompleteSignature", "msg": "x"}}, False),
        (contract("error_response_invalid_parameter.json"), False),
        ({"aliexpress_trade_new_redefining_findorderbyid_response": {}}, False),
        ([], False),
    ],
)
def test_only_an_invalid_or_expired_access_token_answer_triggers_a_refresh(
    body: object, expired: bool
) -> None:
    assert refused_access(body) is expired


async def test_the_token_holder_never_shows_a_token() -> None:
    async def refresher(_: str) -> TokenGrant:
        return TokenGrant("at-after-secret", T0 + timedelta(days=30), "rt-after-secret", None)

    held = AccessTokens(
        "at-before-secret",
        refresher=refresher,
        clock=lambda: T0,
        refresh_token="rt-before-secret",
        expires_at=T0,
    )
    shown = [repr(held), str(held), repr(held.status()), held.status().line()]
    assert await held.current() == "at-after-secret"
    grant = TokenGrant("at-x-secret", None, "rt-x-secret", None)
    shown += [repr(held), str(held), repr(held.status()), repr(grant)]
    assert "2025-03-31" in held.status().line()
    assert not [text for text in shown if "secret" in text]
    assert held.redact("echo at-after-secret rt-after-secret") == "echo *** ***"


async def test_the_status_says_refreshing_while_a_refresh_is_under_way() -> None:
    answered = asyncio.Event()

    async def refresher(_: str) -> TokenGrant:
        await answered.wait()
        return TokenGrant("at-new", T0 + timedelta(days=30), "rt-new", T0 + timedelta(days=60))

    held = AccessTokens(
        "at-old", refresher=refresher, clock=lambda: T0, refresh_token="rt-old", expires_at=T0
    )
    assert held.status().state is TokenState.OK
    call = asyncio.create_task(held.current())
    await asyncio.sleep(0)
    during = held.status()
    answered.set()
    assert await call == "at-new"
    assert (during.state, during.problem) == (TokenState.REFRESHING, None)
    assert held.status().as_json() == {
        "state": "ok",
        "code": None,
        "problem": None,
        "access_expires_at": "2025-03-31T08:00:00+00:00",
        "refresh_expires_at": "2025-04-30T08:00:00+00:00",
        "can_refresh": True,
        "refreshes": 1,
    }


ENV = {
    "PARCELFLOW_ALIEXPRESS_BASE_URL": "http://127.0.0.1:1",
    "PARCELFLOW_ALIEXPRESS_APP_KEY": KEY,
    "PARCELFLOW_ALIEXPRESS_APP_SECRET": SECRET,
    "PARCELFLOW_ALIEXPRESS_ACCESS_TOKEN": "at-configured",
}


def test_the_worker_reads_the_refresh_token_and_the_expiry_from_its_environment() -> None:
    platform = build_platform_from_env(
        {
            **ENV,
            "PARCELFLOW_ALIEXPRESS_REFRESH_TOKEN": "rt-configured",
            "PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT": "2025-03-31T08:00:00Z",
        }
    )
    status = platform.token_status()
    assert status.access_expires_at == datetime(2025, 3, 31, 8, 0, tzinfo=UTC)
    assert status.can_refresh
    bare = build_platform_from_env(ENV).token_status()
    assert (bare.access_expires_at, bare.can_refresh) == (None, False)


@pytest.mark.parametrize("value", ["next tuesday", "2025-03-31T08:00:00"])
def test_an_expiry_that_is_not_an_iso_time_with_an_offset_is_bad_configuration(
    value: str,
) -> None:
    with pytest.raises(InvalidInput, match="PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT"):
        build_platform_from_env({**ENV, "PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT": value})
