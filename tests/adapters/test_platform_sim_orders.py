"""The simulator's order list and the end of an order, read through the real client over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.aliexpress import AliExpressClient
from adapters.asgi_server import serve_in_thread
from adapters.platform_sim import SimState, create_app
from adapters.platform_sim.gateway import dispatch
from adapters.platform_sim.orders import buyer_confirms
from adapters.platform_sim.rules import SimRefusal
from domain.money import Money

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
AWAITING = ("WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS")
SECRET = "sim-secret"


@pytest.fixture
def state() -> SimState:
    state = SimState(app_key="sim-key", app_secret=SECRET)
    state.set_now(T0)
    state.add_order("1001", eta=T0 + 15 * DAY, total=Money(minor=40_00), seller_id="store-3")
    state.advance(timedelta(minutes=5))
    state.add_order("1002", eta=T0 + 15 * DAY)
    state.advance(timedelta(minutes=5))
    state.add_order("1003", eta=T0 + 9 * DAY)
    return state


@pytest.fixture
def base_url(state: SimState) -> Iterator[str]:
    with serve_in_thread(create_app(state)) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[AliExpressClient]:
    async with AliExpressClient(base_url, "sim-key", SECRET, "tok", timeout=2.0) as client:
        yield client


async def test_the_list_shows_the_orders_awaiting_shipment_with_store_total_and_payment(
    client: AliExpressClient,
) -> None:
    await client.upload_tracking("1002", "CPAM", "RR123456785CN", "wf-1002:upload")

    page = await client.list_orders(AWAITING)

    assert [o.order_id for o in page.orders] == ["1001", "1003"]
    first = page.orders[0]
    assert (first.seller_id, first.total, first.paid_at) == ("store-3", Money(minor=40_00), T0)
    assert (page.page, page.pages) == (1, 1)
    read = await client.get_order("1001")
    assert (read.seller_id, read.total, read.paid_at) == ("store-3", Money(minor=40_00), T0)
    assert read.estimated_delivery == T0 + 15 * DAY


def test_the_list_is_paged_oldest_first(state: SimState) -> None:
    def page(n: int) -> dict[str, Any]:
        query = '{"current_page": %d, "page_size": 2}' % n  # noqa: UP031 - JSON braces
        body = dispatch(state, "aliexpress.solution.order.get", {"param0": query})
        result = body["aliexpress_solution_order_get_response"]["result"]
        assert isinstance(result, dict)
        return result

    first, second = page(1), page(2)
    assert [o["order_id"] for o in first["target_list"]["order_dto"]] == ["1001", "1002"]
    assert [o["order_id"] for o in second["target_list"]["order_dto"]] == ["1003"]
    assert first["total_page"] == second["total_page"] == 2


async def test_a_shipped_order_is_auto_confirmed_when_its_countdown_ends(
    client: AliExpressClient, state: SimState
) -> None:
    await client.upload_tracking("1003", "CPAM", "RR123456785CN", "wf-1003:upload")
    state.advance(9 * DAY - timedelta(minutes=11))
    assert (await client.get_order("1003")).status == "WAIT_BUYER_ACCEPT_GOODS"

    state.advance(timedelta(minutes=2))
    order = await client.get_order("1003")

    assert (order.status, order.end_reason) == ("FINISH", "buyer_accept_goods_timeout")
    assert [e.kind for e in state.ledger()][-1] == "order_finished"
    unshipped = await client.get_order("1001")
    assert unshipped.status == "WAIT_SELLER_SEND_GOODS"  # nothing to confirm: not shipped


async def test_the_buyer_confirms_a_shipped_order_through_the_admin_api(
    client: AliExpressClient, base_url: str
) -> None:
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf-1001:upload")
    async with httpx.AsyncClient(base_url=base_url) as admin:
        confirmed = await admin.post("/sim/orders/1001/confirm")
        again = await admin.post("/sim/orders/1001/confirm")

    assert confirmed.status_code == 200
    assert (confirmed.json()["status"], confirmed.json()["end_reason"]) == (
        "FINISH",
        "buyer_confirm_goods",
    )
    assert again.status_code == 409
    order = await client.get_order("1001")
    assert (order.status, order.end_reason) == ("FINISH", "buyer_confirm_goods")


def test_confirming_an_order_not_shipped_is_refused(state: SimState) -> None:
    with pytest.raises(SimRefusal) as refused:
        buyer_confirms(state, "1002")
    assert refused.value.code == "ORDER_STATUS_INVALID"


async def test_an_order_added_through_the_admin_api_keeps_the_payment_time_it_was_given(
    client: AliExpressClient, base_url: str, state: SimState
) -> None:
    paid = state.now() - timedelta(hours=2)  # its hook is two hours overdue
    order = {"order_id": "1004", "eta": (T0 + 15 * DAY).isoformat(), "paid_at": paid.isoformat()}
    async with httpx.AsyncClient(base_url=base_url) as admin:
        added = await admin.post("/sim/orders", json=order)
        naive = await admin.post("/sim/orders", json=order | {"paid_at": "2025-03-01T06:00:00"})

    assert added.status_code == 201
    assert naive.status_code == 422  # a payment time without its offset is refused
    listed = {o.order_id: o for o in (await client.list_orders(AWAITING)).orders}
    assert listed["1004"].paid_at == paid
    assert (await client.get_order("1004")).paid_at == paid
