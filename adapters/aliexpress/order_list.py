"""The seller's order list, ``aliexpress.solution.order.get``: pure builder and parser.

Documented (tests/contracts/SOURCES.md): the query ``param0`` (``OrderQuery``) with the required
``page_size`` and ``current_page`` and the optional ``order_status_list``; the answer's
``result.target_list.order_dto[]`` with ``order_id``, ``order_status``, ``pay_amount``,
``gmt_pay_time``, ``seller_login_id`` and ``end_reason``, and ``result.total_page``. The list
carries no estimated delivery date: that is read per order (``findorderbyid``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.aliexpress.requests import ApiCall
from adapters.aliexpress.responses import _items, money, parse_time, payload
from domain.errors import TransientPortError
from domain.marketplace import PlatformOrder, PlatformOrderPage

ORDER_LIST = "aliexpress.solution.order.get"
PAGE_SIZE = 50
"""Orders asked for per page (the documented maximum is not in the stored pages: ours)."""


def order_list(statuses: Sequence[str], page: int = 1, page_size: int = PAGE_SIZE) -> ApiCall:
    """One page of the seller's orders in any of ``statuses`` (the platform's words)."""
    query: dict[str, object] = {"current_page": page, "page_size": page_size}
    if statuses:
        query["order_status_list"] = list(statuses)
    return ApiCall(ORDER_LIST, {"param0": json.dumps(query)})


def _summary(item: Mapping[str, Any]) -> PlatformOrder:
    paid = item.get("pay_amount")
    paid = paid if isinstance(paid, Mapping) else {}
    seller = item.get("seller_login_id") or item.get("seller_operator_login_id")
    return PlatformOrder(
        order_id=str(item.get("order_id", "")),
        status=str(item.get("order_status", "")),
        seller_id=str(seller) if seller else None,
        total=money(paid.get("amount"), paid.get("currency_code")),
        paid_at=parse_time(item.get("gmt_pay_time")),
        end_reason=str(item.get("end_reason") or ""),
    )


def parse_order_list(body: object) -> PlatformOrderPage:
    """``aliexpress.solution.order.get``: one page of order summaries."""
    result = payload(ORDER_LIST, body).get("result")
    if not isinstance(result, Mapping):
        raise TransientPortError(f"{ORDER_LIST}: the response lacks result")
    if result.get("success") is False:
        why = result.get("error_message") or result.get("error_code") or "the listing failed"
        raise TransientPortError(f"{ORDER_LIST}: {why}")
    orders = tuple(
        _summary(item)
        for item in _items(result.get("target_list"), "order_dto")
        if item.get("order_id") not in (None, "")
    )
    page = int(result.get("current_page") or 1)
    pages = int(result.get("total_page") or page)
    return PlatformOrderPage(orders=orders, page=page, pages=pages)
