"""The simulator's own token rules, spoken to in raw signed HTTP (no parcelflow client)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.aliexpress.signing import sign
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import SimState, create_app

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
KEY, SECRET = "sim-key", "sim-secret"
FIND = "aliexpress.trade.new.redefining.findorderbyid"
REFRESH = "/auth/token/refresh"


@pytest.fixture
def state() -> SimState:
    state = SimState(app_key=KEY, app_secret=SECRET)
    state.set_now(T0)
    state.add_order("1001", eta=T0 + timedelta(days=15))
    return state


@pytest.fixture
def base_url(state: SimState) -> Iterator[str]:
    with serve_in_thread(create_app(state)) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        yield http


def millis(state: SimState) -> str:
    return str(int(state.now().timestamp() * 1000))


async def find(http: httpx.AsyncClient, state: SimState, token: str) -> dict[str, Any]:
    form = {
        "app_key": KEY,
        "method": FIND,
        "timestamp": millis(state),
        "sign_method": "sha256",
        "session": token,
        "param1": '{"order_id": "1001"}',
    }
    form["sign"] = sign(SECRET, FIND, form)
    body: dict[str, Any] = (await http.post("/sync", data=form)).json()
    return body


async def refresh(
    http: httpx.AsyncClient, state: SimState, token: str, secret: str = SECRET
) -> dict[str, Any]:
    form = {
        "app_key": KEY,
        "timestamp": millis(state),
        "sign_method": "sha256",
        "refresh_token": token,
    }
    form["sign"] = sign(secret, REFRESH, form)
    body: dict[str, Any] = (await http.post("/rest" + REFRESH, data=form)).json()
    return body


def refused_for_token(body: dict[str, Any]) -> bool:
    error: dict[str, Any] = body.get("error_response", {})
    return error.get("code") == "IllegalAccessToken"


async def test_by_default_a_token_the_simulator_never_issued_still_works(
    http: httpx.AsyncClient, state: SimState
) -> None:
    state.advance(timedelta(days=400))
    assert not refused_for_token(await find(http, state, "any-configured-token"))


async def test_an_issued_token_works_until_its_expiry_and_not_from_then_on(
    http: httpx.AsyncClient, state: SimState
) -> None:
    grant = state.tokens.grant(access_ttl=timedelta(hours=1))
    state.set_now(grant.expires_at - timedelta(seconds=1))
    assert "aliexpress_trade_new_redefining_findorderbyid_response" in await find(
        http, state, grant.access_token
    )
    state.set_now(grant.expires_at)
    error = (await find(http, state, grant.access_token))["error_response"]
    assert (error["type"], error["code"]) == ("ISV", "IllegalAccessToken")
    assert error["msg"] == "The specified access token is invalid or expired"


async def test_a_strict_simulator_refuses_tokens_it_never_issued(
    http: httpx.AsyncClient, state: SimState
) -> None:
    state.tokens.open_access = False
    assert refused_for_token(await find(http, state, "made-up"))
    assert not refused_for_token(await find(http, state, state.tokens.grant().access_token))


async def test_a_refresh_issues_new_tokens_in_the_documented_shape_and_retires_the_old_one(
    http: httpx.AsyncClient, state: SimState
) -> None:
    grant = state.tokens.grant(access_ttl=timedelta(hours=1), refresh_ttl=timedelta(days=60))
    state.advance(timedelta(hours=2))
    body = await refresh(http, state, grant.refresh_token)
    assert body["code"] == "0"
    assert body["access_token"] not in {None, grant.access_token}
    assert body["refresh_token"] not in {None, grant.refresh_token}
    assert body["expires_in"] == int(state.tokens.access_ttl.total_seconds())
    assert body["expire_time"] == int((state.now() + state.tokens.access_ttl).timestamp() * 1000)
    # The refresh token's own validity is not extended by a refresh.
    assert body["refresh_token_valid_time"] == int(grant.refresh_expires_at.timestamp() * 1000)
    assert body["refresh_expires_in"] == int(
        (grant.refresh_expires_at - state.now()).total_seconds()
    )
    assert not refused_for_token(await find(http, state, body["access_token"]))
    again = await refresh(http, state, grant.refresh_token)
    assert again["code"] == "IllegalRefreshToken"
    assert state.tokens.refreshes == 1


async def test_an_expired_refresh_token_and_a_bad_signature_are_refused(
    http: httpx.AsyncClient, state: SimState
) -> None:
    grant = state.tokens.grant(refresh_ttl=timedelta(days=1))
    wrong = await refresh(http, state, grant.refresh_token, secret="another-secret")
    assert wrong["code"] == "IncompleteSignature"
    state.set_now(grant.refresh_expires_at)
    expired = await refresh(http, state, grant.refresh_token)
    assert (expired["type"], expired["code"]) == ("ISV", "IllegalRefreshToken")
    assert expired["message"] == "The specified refresh token is invalid or expired"
    assert state.tokens.refreshes == 0


async def test_the_admin_api_ends_the_grants_issued_so_far_and_later_ones_still_work(
    http: httpx.AsyncClient, state: SimState
) -> None:
    grant = state.tokens.grant()
    only_refresh = (await http.post("/sim/tokens/expire", json={"access": False})).json()
    assert only_refresh == {"expired": 1, "refreshes": 0}
    assert not refused_for_token(await find(http, state, grant.access_token))
    assert (await refresh(http, state, grant.refresh_token))["code"] == "IllegalRefreshToken"
    assert (await http.post("/sim/tokens/expire", json={})).json()["expired"] == 1
    assert refused_for_token(await find(http, state, grant.access_token))
    fresh = state.tokens.grant()  # the seller authorises the app again
    assert not refused_for_token(await find(http, state, fresh.access_token))
    assert (await refresh(http, state, fresh.refresh_token))["code"] == "0"
    assert (await http.post("/sim/tokens/expire", json={"soon": True})).status_code == 422
