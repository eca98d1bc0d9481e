"""The simulated logistics and order methods: declare, modify, withdraw, read (R1, R2, R4, R5)."""

from __future__ import annotations

from typing import Any

from adapters.platform_sim.rules import (
    SimOrder,
    SimRefusal,
    SimShipment,
    normalise,
    withdrawal_lock,
)
from adapters.platform_sim.state import SimState
from adapters.platform_sim.wire import Params, amount, json_param, required, wire_time


def _holder(state: SimState, number: str) -> SimOrder | None:
    for order in state.orders.values():
        if any(normalise(s.number) == number for s in order.shipments):
            return order
    return None


def _attach(state: SimState, order: SimOrder, carrier: str, raw_number: str) -> SimShipment:
    number = normalise(raw_number)
    holder = _holder(state, number)
    if holder is not None:
        raise SimRefusal(
            "LOGISTICS_NO_DUPLICATE", f"{number} is already used by order {holder.order_id}"
        )
    shipment = SimShipment(carrier, number, state.now())
    order.shipments.append(shipment)
    order.status = "WAIT_BUYER_ACCEPT_GOODS"
    state.relock(order)
    return shipment


def ship(state: SimState, params: Params, key: str | None) -> dict[str, Any]:
    """aliexpress.logistics.sellershipmentfortop (R1, R2)."""
    order = state.order(required(params, "out_ref"))
    if order.status != "WAIT_SELLER_SEND_GOODS":
        raise SimRefusal("ORDER_STATUS_INVALID", f"order {order.order_id} is {order.status}")
    carrier = required(params, "service_name")
    shipment = _attach(state, order, carrier, required(params, "logistics_no"))
    detail = {"logistics_no": shipment.number, "service_name": carrier}
    state.record("tracking_uploaded", key, order_id=order.order_id, detail=detail)
    return {"result_success": True}


def _withdrawable(
    state: SimState, order: SimOrder, raw_number: str, key: str | None
) -> SimShipment:
    number = normalise(raw_number)
    shipment = next((s for s in order.shipments if s.number == number), None)
    if shipment is None:
        raise SimRefusal("ORDER_STATUS_INVALID", f"{number} is not declared on {order.order_id}")
    disputes = state.order_disputes(order.order_id)
    code = withdrawal_lock(order, shipment, disputes, state.now(), state.rules)
    if code is None:
        return shipment
    shipment.locked = code
    order.withdrawal_refusals += 1
    detail = {"logistics_no": number, "code": code, "attempt": order.withdrawal_refusals}
    state.record("withdrawal_refused", key, order_id=order.order_id, detail=detail)
    if order.withdrawal_refusals >= state.rules.refusals_before_risk:
        state.record("risk_flagged", key, order_id=order.order_id, detail=detail)
    raise SimRefusal(code, f"{number} can no longer be withdrawn from {order.order_id}")


def withdraw(state: SimState, params: Params, key: str | None) -> dict[str, Any]:
    """sim.logistics.withdrawshipment (R4, R5): simulator only, AliExpress has none."""
    order = state.order(required(params, "out_ref"))
    shipment = _withdrawable(state, order, required(params, "logistics_no"), key)
    order.shipments.remove(shipment)
    if not order.shipments:
        order.status = "WAIT_SELLER_SEND_GOODS"
    detail = {"logistics_no": shipment.number}
    state.record("tracking_withdrawn", key, order_id=order.order_id, detail=detail)
    return {"result_success": True}


def modify(state: SimState, params: Params, key: str | None) -> dict[str, Any]:
    """aliexpress.logistics.sellermodifiedshipmentfortop: a withdrawal and an upload at once."""
    order = state.order(required(params, "out_ref"))
    old = _withdrawable(state, order, required(params, "old_logistics_no"), key)
    order.shipments.remove(old)
    try:
        new = _attach(
            state, order, required(params, "new_service_name"), params.get("new_logistics_no", "")
        )
    except SimRefusal:
        order.shipments.append(old)
        raise
    detail = {"old_logistics_no": old.number, "logistics_no": new.number}
    state.record("tracking_modified", key, order_id=order.order_id, detail=detail)
    return {"result_success": True}


def find_order(state: SimState, params: Params, _key: str | None) -> dict[str, Any]:
    """aliexpress.trade.new.redefining.findorderbyid."""
    order = state.order(str(json_param(params, "param1").get("order_id", "")))
    infos = [
        {
            "logistics_no": s.number,
            "logistics_service": s.carrier,
            "gmt_send": wire_time(s.uploaded_at),
        }
        for s in order.shipments
    ]
    target = {
        "id": order.order_id,
        "order_status": order.status,
        "buyerloginid": order.buyer_login_id,
        "gmt_create": wire_time(order.created_at),
        "order_amount": {"amount": amount(order.total), "currency_code": order.total.currency},
        "logistic_info_list": {"aeop_order_logistics_info": infos},
        "estimated_delivery_time": wire_time(order.eta),
    }
    return {"target": target}
