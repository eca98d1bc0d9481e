"""The order workflow's search attributes: what an operator filters on in the Temporal UI."""

from __future__ import annotations

from typing import Final

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

ORDER_STATE: Final = SearchAttributeKey.for_keyword("OrderState")
CARRIER: Final = SearchAttributeKey.for_keyword("Carrier")
NEXT_DEADLINE: Final = SearchAttributeKey.for_datetime("NextDeadline")
DISPUTE_OPEN: Final = SearchAttributeKey.for_bool("DisputeOpen")
SELLER_ID: Final = SearchAttributeKey.for_keyword("SellerId")
MARKETPLACE: Final = SearchAttributeKey.for_keyword("Marketplace")
TRACKING_NUMBER: Final = SearchAttributeKey.for_keyword("TrackingNumber")
"""The current tracking number (not personal data): lets the poller list what to track."""
UPLOADED_AT: Final = SearchAttributeKey.for_datetime("UploadedAt")

ALL: Final = (
    ORDER_STATE,
    CARRIER,
    NEXT_DEADLINE,
    DISPUTE_OPEN,
    SELLER_ID,
    MARKETPLACE,
    TRACKING_NUMBER,
    UPLOADED_AT,
)
_TYPE_NAMES: Final = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}


def registrations() -> list[str]:
    """``Name=Type`` pairs, as ``temporal server start-dev --search-attribute`` takes them."""
    return [f"{key.name}={_TYPE_NAMES[key.indexed_value_type.name]}" for key in ALL]


def dev_server_args() -> list[str]:
    """The dev server's command-line arguments that register every search attribute."""
    return [arg for pair in registrations() for arg in ("--search-attribute", pair)]


def initial(marketplace: str) -> TypedSearchAttributes:
    """The attributes an order workflow starts with, before its first state is published."""
    return TypedSearchAttributes([SearchAttributePair(MARKETPLACE, marketplace)])
