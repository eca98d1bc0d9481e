"""The simulated order list and the end of an order: ``aliexpress.solution.order.get``, the
buyer's confirmation and the platform's auto-confirmation on the simulator's own clock.

Documented: the list's query and answer shapes (tests/contracts/SOURCES.md), the statuses
``WAIT_SELLER_SEND_GOODS``, ``SELLER_PART_SEND_GOODS``, ``WAIT_BUYER_ACCEPT_GOODS``, ``FINISH``
and the end reason ``buyer_confirm_goods``. Assumed (the simulator's own): the auto-confirmation
comes when the buyer's confirm-receipt countdown ends, at the estimated delivery date
(DOMAIN.md R4.4), with the end reason ``buyer_accept_goods_timeout``.
"""

from __future__ import annotations

from typing import Any

from adapters.platform_sim.rules import SimOrder, SimRefusal
from adapters.platform_sim.state import SimState
from adapters.platform_sim.wire import Params, json_param, wire_time

SHIPPED = "WAIT_BUYER_ACCEPT_GOODS"
FINISHED = "FINISH"
BUYER_CONFIRMED = "buyer_confirm_goods"
AUTO_CONFIRMED = "buyer_accept_goods_timeout"
MAX_PAGE_SIZE = 100


def settle(state: SimState, order: SimOrder) -> SimOrder:
    """The order after the platform's own clock: a shipped order whose confirm-receipt
    countdown has ended (its ETA passed) is auto-confirmed."""
    if order.status == SHIPPED and state.now() >= order.eta:
        finish(state, order, AUTO_CONFIRMED)
    return order


def finish(state: SimState, order: SimOrder, reason: str) -> None:
    """End the order (``FINISH``) with ``reason``, and ledger it."""
    order.status, order.end_reason = FINISHED, reason
    state.record("order_finished", None, order_id=order.order_id, detail={"end_reason": reason})


def buyer_confirms(state: SimState, order_id: str) -> SimOrder:
    """The buyer confirms receipt of a shipped order."""
    with state.lock:
        order = settle(state, state.order(order_id))
        if order.status != SHIPPED:
            raise SimRefusal("ORDER_STATUS_INVALID", f"order {order_id} is {order.status}")
        finish(state, order, BUYER_CONFIRMED)
        return order


def summary(order: SimOrder) -> dict[str, Any]:
    """One ``order_dto`` of the list, in the documented field names."""
    paid = {"amount": order.total.decimal_str, "currency_code": order.total.currency}
    return {
        "order_id": order.order_id,
        "order_status": order.status,
        "seller_login_id": order.seller_id,
        "seller_operator_login_id": order.seller_id,
        "pay_amount": paid,
        "gmt_create": wire_time(order.created_at),
        "gmt_pay_time": wire_time(order.created_at),
        "end_reason": order.end_reason,
        "buyer_login_id": order.buyer_login_id,
    }


def order_list(state: SimState, params: Params, _key: str | None) -> dict[str, Any]:
    """aliexpress.solution.order.get: the seller's orders, oldest first, one page."""
    query = json_param(params, "param0")
    try:
        page, size = int(query["current_page"]), int(query["page_size"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SimRefusal(
            "isv.invalid-parameter", "current_page and page_size are required"
        ) from exc
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise SimRefusal("isv.invalid-parameter", f"page {page} of size {size}")
    wanted = set(query.get("order_status_list") or [])
    if query.get("order_status"):
        wanted.add(str(query["order_status"]))
    orders = sorted(
        (settle(state, o) for o in list(state.orders.values())), key=lambda o: o.created_at
    )
    listed = [o for o in orders if not wanted or o.status in wanted]
    pages = max(1, -(-len(listed) // size))
    rows = [summary(o) for o in listed[(page - 1) * size : page * size]]
    result = {
        "success": True,
        "total_count": len(listed),
        "current_page": page,
        "page_size": size,
        "total_page": pages,
        "target_list": {"order_dto": rows},
    }
    return {"result": result}
