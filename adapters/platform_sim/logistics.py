"""The simulated logistics and order methods: declare, modify, withdraw, read (R1, R2, R4, R5).

Shipments are declared under a listed logistics service key (``LOGISTICS_SERVICES``); any other
``service_name`` is refused ``LOGISTICS_SERVICE_INVALID``, in the payload like the other
logistics refusals (the platform's own code and text for it are not public: an assumption).
"""

from __future__ import annotations

from typing import Any

from adapters.platform_sim import orders
from adapters.platform_sim.rules import (
    SimOrder,
    SimRefusal,
    SimShipment,
    normalise,
    withdrawal_lock,
)
from adapters.platform_sim.state import SimState
from adapters.platform_sim.wire import Params, json_param, required, wire_time

_S10 = "^[a-zA-z]{2}[A-Za-z0-9]{9}[a-zA-z]{2}$"  # CPAM's regex, verbatim (typo A-z included)
LOGISTICS_SERVICES: tuple[dict[str, Any], ...] = (
    # Verbatim from the listlogisticsservice sample (tests/contracts/SOURCES.md).
    {
        "service_name": "CPAM",
        "display_name": "China Post Registered Air Mail",
        "logistics_company": "CPAM",
        "tracking_no_regex": _S10,
        "min_process_day": 1,
        "max_process_day": 5,
        "recommend_order": 11,
    },
    # Documented: the key of sellershipmentfortop's request sample; the rest of the row is ours.
    {"service_name": "EMS", "display_name": "EMS", "logistics_company": "EMS"},
    # Documented (open.alitrip.com articleId=109549): a listlogisticsservice row.
    {
        "service_name": "CAINIAO_OVERSEA_STD_SERVICE_ES",
        "display_name": "Euro-business Parcel",
        "logistics_company": "CAINIAO_OVERSEA_STD_SERVICE_ES",
        "tracking_no_regex": "(^[0-9]{12}$)",
        "min_process_day": 1,
        "max_process_day": 5,
        "recommend_order": 10,
    },
    # Assumed rows: keys sellers use, with no public listing found.
    {"service_name": "CPAP", "display_name": "China Post Air Parcel", "logistics_company": "CPAP"},
    {
        "service_name": "YANWEN_JYT",
        "display_name": "Special Line-YW",
        "logistics_company": "YANWEN",
    },
    {
        "service_name": "CAINIAO_STANDARD",
        "display_name": "AliExpress Standard Shipping",
        "logistics_company": "CAINIAO",
    },
)
LISTED_KEYS = frozenset(str(service["service_name"]) for service in LOGISTICS_SERVICES)


def list_services(_state: SimState, _params: Params, _key: str | None) -> dict[str, Any]:
    """aliexpress.logistics.redefining.listlogisticsservice."""
    services = [
        {"min_process_day": 1, "max_process_day": 7, "recommend_order": 50, **service}
        for service in LOGISTICS_SERVICES
    ]
    return {"result_list": {"aeop_logistics_service_result": services}, "result_success": True}


def _listed(service_name: str) -> str:
    if service_name not in LISTED_KEYS:
        raise SimRefusal(
            "LOGISTICS_SERVICE_INVALID",
            f"{service_name!r} is not a logistics service (see listlogisticsservice)",
        )
    return service_name


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
    carrier = _listed(required(params, "service_name"))
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
        service = _listed(required(params, "new_service_name"))
        new = _attach(state, order, service, params.get("new_logistics_no", ""))
    except SimRefusal:
        order.shipments.append(old)
        raise
    detail = {"old_logistics_no": old.number, "logistics_no": new.number}
    state.record("tracking_modified", key, order_id=order.order_id, detail=detail)
    return {"result_success": True}


def find_order(state: SimState, params: Params, _key: str | None) -> dict[str, Any]:
    """aliexpress.trade.new.redefining.findorderbyid."""
    order = orders.settle(state, state.order(str(json_param(params, "param1").get("order_id", ""))))
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
        "order_amount": {"amount": order.total.decimal_str, "currency_code": order.total.currency},
        "logistic_info_list": {"aeop_order_logistics_info": infos},
        "estimated_delivery_time": wire_time(order.eta),
        "seller_operator_login_id": order.seller_id,
        "gmt_pay_success": wire_time(order.created_at),
        "end_reason": order.end_reason,
    }
    return {"target": target}
