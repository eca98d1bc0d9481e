"""R13: which orders must ship on a photo-proof line and have their packing video recorded."""

from __future__ import annotations

from decimal import Decimal

from domain.money import Money
from domain.policy import Policy


def category_key(category: str) -> str:
    """A category as policies list it: lower-case, spaces and dashes read as underscores."""
    return "_".join(category.strip().lower().replace("-", " ").split())


def in_threshold_currency(amount: Money, policy: Policy) -> Decimal | None:
    """``amount`` in the currency of ``policy.high_value`` (major units), None if not rated."""
    rate = policy.currency_rates.get(amount.currency)
    if amount.currency == policy.high_value.currency:
        rate = Decimal(1)
    return None if rate is None else Decimal(amount.minor) / 100 * rate


def photo_proof_reason(total: Money, category: str | None, policy: Policy) -> str | None:
    """Why an order needs photo proof of delivery and a packing video, or None if it does not.

    Above ``policy.high_value`` in any currency the policy can convert; an order in a currency
    it cannot convert is treated as high-value (a missed proof costs more than a video); an
    order in a dispute-prone category needs it whatever its value.
    """
    limit = policy.high_value
    if category is not None and category_key(category) in policy.dispute_prone_categories:
        return f"dispute-prone category {category_key(category)}"
    value = in_threshold_currency(total, policy)
    if value is None:
        return (
            f"high-value order: the policy has no rate for {total.currency} to tell whether"
            f" {total} is above {limit}, so it is treated as high-value"
        )
    if value * 100 <= limit.minor:
        return None
    if total.currency == limit.currency:
        return f"high-value order: {total} is above {limit}"
    return f"high-value order: {total} (about {value:.2f} {limit.currency}) is above {limit}"
