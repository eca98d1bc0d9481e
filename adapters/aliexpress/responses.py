"""Pure parsers of AliExpress gateway responses into domain models, with the error mapping table.

A successful body is ``{"<method with dots as underscores>_response": {...}}``; a gateway
error is ``{"error_response": {"type", "code", "msg", "sub_code", "sub_msg", "request_id"}}``.
Writes may also answer 200 with a business failure inside the payload (``result_success:
false`` with ``result_error_code``/``result_error_desc``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.aliexpress.requests import (
    FIND_ORDER,
    ISSUE_DETAIL,
    ISSUE_IMAGE_UPLOAD,
    ISSUE_LIST,
    LIST_LOGISTICS_SERVICES,
    LIST_MESSAGES,
)
from domain.errors import (
    PermanentPortError,
    PlatformRefused,
    PortError,
    RefusalReason,
    TransientPortError,
)
from domain.marketplace import PlatformDispute, PlatformOrder
from domain.money import Money

PLATFORM_TZ = timezone(timedelta(hours=8))
"""Times come as ``yyyy-MM-dd HH:mm:ss`` without a zone; GMT+8 is the TOP convention (unconfirmed
for every AliExpress field)."""
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Throttling and the platform's own failures: worth retrying.
TRANSIENT_CODES = frozenset(
    {"ApiCallLimit", "AppCallLimit", "7", "15", "UnknownRuntimeException", "ServiceUnavailable"}
)
# Credentials and signatures: retrying cannot help, and it is not a business refusal.
CREDENTIAL_CODES = frozenset(
    {
        "IncompleteSignature",
        "InvalidSignature",
        "IllegalAccessToken",
        "AppWhiteIpLimit",
        "InvalidAppKey",
        "25",
        "27",
        "29",
    }
)
# The platform's business codes that name one of our refusal reasons (the simulator's codes;
# the real platform's codes for these cases are not public, they map to PLATFORM_REFUSED).
REFUSAL_REASONS: Mapping[str, RefusalReason] = {
    "LOGISTICS_NO_DUPLICATE": RefusalReason.DUPLICATE,
    "LOGISTICS_NO_INVALID": RefusalReason.INVALID_NUMBER,
    "WITHDRAW_WINDOW_CLOSED": RefusalReason.WINDOW_CLOSED,
    "WITHDRAW_CARRIER_SCANNED": RefusalReason.CARRIER_SCANNED,
    "WITHDRAW_DISPUTE_OPEN": RefusalReason.DISPUTE_OPEN,
    "WITHDRAW_ETA_TOO_CLOSE": RefusalReason.ETA_TOO_CLOSE,
    "WITHDRAW_UNSUPPORTED": RefusalReason.WITHDRAWAL_UNSUPPORTED,
    "ORDER_STATUS_INVALID": RefusalReason.WRONG_STATE,
    "ISSUE_STATUS_INVALID": RefusalReason.WRONG_STATE,
    "ISSUE_DEADLINE_PASSED": RefusalReason.DEADLINE_PASSED,
    "REFUND_AMOUNT_INVALID": RefusalReason.INVALID_AMOUNT,
    "SOLUTION_TYPE_INVALID": RefusalReason.INVALID_SOLUTION,
    # The client's own, before any call: no key for the carrier, or one the platform does not list.
    "LOGISTICS_SERVICE_UNMAPPED": RefusalReason.UNKNOWN_LOGISTICS_SERVICE,
    "LOGISTICS_SERVICE_UNLISTED": RefusalReason.UNKNOWN_LOGISTICS_SERVICE,
    # The simulator's answer to a service_name it does not list (the platform's is not public).
    "LOGISTICS_SERVICE_INVALID": RefusalReason.UNKNOWN_LOGISTICS_SERVICE,
}


def refusal_reason(code: str) -> RefusalReason:
    """Our reason for a ``PlatformRefused.code`` (``platform_refused`` when unknown)."""
    return REFUSAL_REASONS.get(code, RefusalReason.PLATFORM_REFUSED)


def refused(code: str, message: str) -> PlatformRefused:
    """The refusal for one platform code, carrying our reason for it."""
    return PlatformRefused(code, message, refusal_reason(code))


def error_from(error: Mapping[str, Any]) -> PortError:
    """The exception for one ``error_response`` object (the mapping table)."""
    code = str(error.get("code", ""))
    sub_code = str(error.get("sub_code") or "")
    message = str(error.get("sub_msg") or error.get("msg") or error.get("message") or code)
    kind = str(error.get("type", "")).upper()
    if code in CREDENTIAL_CODES:
        return PermanentPortError(f"{code}: {message}")
    if sub_code.startswith("isv."):
        return refused(sub_code, message)
    if code in TRANSIENT_CODES or kind in {"ISP", "SYSTEM"} or sub_code.startswith("isp."):
        return TransientPortError(f"{code} {sub_code}: {message}".strip())
    return refused(sub_code or code, message)


def payload(method: str, body: object) -> Mapping[str, Any]:
    """The method's response object, or the mapped error raised."""
    if not isinstance(body, Mapping):
        raise TransientPortError(f"{method}: the gateway answered something other than JSON")
    if "error_response" in body:
        raise error_from(body["error_response"])
    if {"code", "type"} <= body.keys() and str(body["code"]) != "0":
        raise error_from(body)  # The GOP-style error shape of the REST endpoints.
    key = method.replace(".", "_") + "_response"
    inner = body.get(key)
    if not isinstance(inner, Mapping):
        raise TransientPortError(f"{method}: the response lacks {key}")
    return inner


def parse_write(method: str, body: object) -> None:
    """Accept a write's answer or raise: the gateway error or the business refusal inside."""
    inner = payload(method, body)
    nested = inner.get("result")
    result: Mapping[str, Any] = nested if isinstance(nested, Mapping) else inner
    if result.get("result_success") is False or result.get("is_success") is False:
        code = str(result.get("result_error_code") or result.get("error_code") or "REFUSED")
        desc = result.get("result_error_desc") or result.get("error_message") or code
        raise refused(code, str(desc))
    if result.get("result_object") is False:
        raise refused("REFUSED", f"{method} returned result_object=false")


def parse_image_upload(body: object) -> str | None:
    """``aliexpress.issue.image.upload``: the stored image's URL when the answer names one.

    The documented answer is only ``result_object: true``; a URL (as ``result_object`` itself or
    inside it as ``file_path``/``image_url``/``url``) is taken when present, else None: the
    caller then finds the new attachment on the dispute.
    """
    parse_write(ISSUE_IMAGE_UPLOAD, body)
    result = payload(ISSUE_IMAGE_UPLOAD, body).get("result_object")
    if isinstance(result, str) and result:
        return result
    if isinstance(result, Mapping):
        for name in ("file_path", "image_url", "url"):
            if result.get(name):
                return str(result[name])
    return None


def parse_time(value: object) -> datetime | None:
    """A platform time (zone-less, ``PLATFORM_TZ``) as an aware datetime; empty is None."""
    if not value:
        return None
    return datetime.strptime(str(value), TIME_FORMAT).replace(tzinfo=PLATFORM_TZ)


def money(amount: object, currency: object) -> Money | None:
    """``"12.30"`` + ``"USD"`` as Money; None when the amount is empty."""
    if amount in (None, ""):
        return None
    major, _, minor = str(amount).partition(".")
    return Money(minor=int(major) * 100 + int((minor + "00")[:2]), currency=str(currency or "USD"))


def _items(container: object, key: str) -> list[Mapping[str, Any]]:
    """The list the platform wraps in ``{"<dto name>": [...]}`` (absent means empty)."""
    if not isinstance(container, Mapping):
        return []
    value = container.get(key, [])
    return [item for item in value if isinstance(item, Mapping)]


class LogisticsService(BaseModel):
    """One logistics service the seller may declare shipments under."""

    model_config = ConfigDict(frozen=True)

    service_name: str
    """The key ``sellershipmentfortop`` takes as its ``service_name``."""
    display_name: str = ""
    tracking_no_regex: str = ""


def parse_logistics_services(body: object) -> list[LogisticsService]:
    """``aliexpress.logistics.redefining.listlogisticsservice``: the services the platform lists."""
    inner = payload(LIST_LOGISTICS_SERVICES, body)
    if inner.get("result_success") is False:
        desc = inner.get("error_desc") or "the listing failed"
        raise TransientPortError(f"{LIST_LOGISTICS_SERVICES}: {desc}")
    return [
        LogisticsService(
            service_name=str(item["service_name"]),
            display_name=str(item.get("display_name", "")),
            tracking_no_regex=str(item.get("tracking_no_regex", "")),
        )
        for item in _items(inner.get("result_list"), "aeop_logistics_service_result")
        if item.get("service_name")
    ]


class Shipment(BaseModel):
    """A tracking number declared on an order."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    tracking_number: str
    sent_at: datetime | None = None


class OrderSnapshot(BaseModel):
    """An order with what the client needs to reconcile writes: buyer and declared numbers."""

    model_config = ConfigDict(frozen=True)

    order: PlatformOrder
    buyer_login_id: str
    shipments: tuple[Shipment, ...] = ()


def parse_order(body: object) -> OrderSnapshot:
    """``aliexpress.trade.new.redefining.findorderbyid``."""
    target = payload(FIND_ORDER, body).get("target") or {}
    infos = _items(target.get("logistic_info_list"), "aeop_order_logistics_info")
    shipments = tuple(
        Shipment(
            carrier=str(info.get("logistics_service", "")),
            tracking_number=str(info.get("logistics_no", "")),
            sent_at=parse_time(info.get("gmt_send")),
        )
        for info in infos
    )
    amount = target.get("order_amount")
    amount = amount if isinstance(amount, Mapping) else {}
    seller = target.get("seller_operator_login_id")
    order = PlatformOrder(
        order_id=str(target.get("id", "")),
        status=str(target.get("order_status", "")),
        # Neither field name is in the public docs; the simulator sends both.
        estimated_delivery=parse_time(target.get("estimated_delivery_time")),
        status_deadline=parse_time(target.get("status_deadline_time")),
        # Documented field names (TpOpenOrderDetailDTO); past the stored copy of the sample.
        seller_id=str(seller) if seller else None,
        total=money(amount.get("amount"), amount.get("currency_code")),
        paid_at=parse_time(target.get("gmt_pay_success")),
        end_reason=str(target.get("end_reason") or ""),
    )
    buyer = target.get("buyerloginid") or (target.get("buyer_info") or {}).get("login_id", "")
    return OrderSnapshot(order=order, buyer_login_id=str(buyer), shipments=shipments)


class SolutionLine(BaseModel):
    """One solution on a dispute, whoever proposed it."""

    model_config = ConfigDict(frozen=True)

    solution_id: str
    owner: str
    solution_type: str
    refund: Money | None = None
    status: str = ""


class Attachment(BaseModel):
    """An image attached to a dispute's process record (evidence), with who attached it."""

    model_config = ConfigDict(frozen=True)

    file_path: str
    owner: str
    attached_at: datetime | None = None


class DisputeSnapshot(BaseModel):
    """A dispute with the buyer, the solutions on the table and the evidence attached."""

    model_config = ConfigDict(frozen=True)

    dispute: PlatformDispute
    buyer_login_id: str
    buyer_solutions: tuple[SolutionLine, ...] = ()
    seller_solutions: tuple[SolutionLine, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    def evidence_of(self, owner: str) -> tuple[str, ...]:
        """The file paths ``owner`` (``seller`` or ``buyer``) attached, oldest first."""
        return tuple(a.file_path for a in self.attachments if a.owner == owner)


def _solutions(container: object) -> tuple[SolutionLine, ...]:
    return tuple(
        SolutionLine(
            solution_id=str(item.get("id", "")),
            owner=str(item.get("solution_owner", "")),
            solution_type=str(item.get("solution_type", "")),
            refund=money(item.get("refund_money"), item.get("refund_money_currency")),
            status=str(item.get("status", "")),
        )
        for item in _items(container, "solution_api_dto")
    )


def _attachments(container: object) -> tuple[Attachment, ...]:
    """``process_dto_list.api_issue_process_dto[].attachments.api_attachment_dto[]``."""
    return tuple(
        Attachment(
            file_path=str(item.get("file_path", "")),
            owner=str(item.get("owner", "")),
            attached_at=parse_time(item.get("gmt_create")),
        )
        for process in _items(container, "api_issue_process_dto")
        for item in _items(process.get("attachments"), "api_attachment_dto")
        if item.get("file_path")
    )


def parse_dispute(body: object) -> DisputeSnapshot:
    """``aliexpress.issue.detail.get``."""
    result = payload(ISSUE_DETAIL, body).get("result_object") or {}
    dispute = PlatformDispute(
        dispute_id=str(result.get("id", "")),
        order_id=str(result.get("order_id", "")),
        reason=str(result.get("issue_reason") or result.get("issue_reason_id", "")),
        status=str(result.get("issue_status", "")),
        opened_at=parse_time(result.get("gmt_create")) or datetime.min.replace(tzinfo=PLATFORM_TZ),
        # Not in the public docs (the seller centre shows them); the simulator sends both.
        response_deadline=parse_time(result.get("seller_response_deadline")),
        solution_deadline=parse_time(result.get("seller_solution_deadline")),
    )
    return DisputeSnapshot(
        dispute=dispute,
        buyer_login_id=str(result.get("buyer_login_id", "")),
        buyer_solutions=_solutions(result.get("buyer_solution_list")),
        seller_solutions=_solutions(result.get("seller_solution_list")),
        attachments=_attachments(result.get("process_dto_list")),
    )


def parse_dispute_list(body: object) -> list[tuple[PlatformDispute, str]]:
    """``aliexpress.issue.issuelist.get``: each dispute with its buyer's login id."""
    result = payload(ISSUE_LIST, body).get("result_object") or {}
    return [
        (
            PlatformDispute(
                dispute_id=str(item.get("issue_id", "")),
                order_id=str(item.get("order_id", "")),
                reason=str(item.get("reason_english") or item.get("reason_chinese", "")),
                status=str(item.get("issue_status", "")),
                opened_at=parse_time(item.get("gmt_create"))
                or datetime.min.replace(tzinfo=PLATFORM_TZ),
            ),
            str(item.get("buyer_login_id", "")),
        )
        for item in _items(result.get("data_list"), "issue_api_issue_dto")
    ]


class Message(BaseModel):
    """One message of an order's conversation."""

    model_config = ConfigDict(frozen=True)

    content: str
    sender_login_id: str = ""
    sent_at: datetime | None = None


def parse_messages(body: object) -> list[Message]:
    """``aliexpress.message.redefining.versiontwo.querymsgdetaillist`` (shape not confirmed)."""
    inner = payload(LIST_MESSAGES, body)
    result = inner.get("result") or {}
    return [
        Message(
            content=str(item.get("content", "")),
            sender_login_id=str(item.get("sender_login_id", "")),
            sent_at=parse_time(item.get("gmt_create")),
        )
        for item in _items(result.get("message_detail_list"), "message_detail")
    ]
