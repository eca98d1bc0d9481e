"""R13 in any currency and for dispute-prone categories: who needs photo proof and a video."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from domain.lifecycle import advance
from domain.money import Money
from domain.order import DeadlineKind, pending_deadlines
from domain.photo_proof import category_key, photo_proof_reason
from domain.policy import Policy
from tests.unit.builders import U, shipped

H = timedelta(hours=1)


def video_due(**kw: object) -> list[DeadlineKind]:
    order = shipped(**kw)  # type: ignore[arg-type]
    return [d.kind for d in pending_deadlines(order) if d.kind is DeadlineKind.PACKING_VIDEO]


@pytest.mark.parametrize(
    ("total", "needed"),
    [
        (Money(minor=500_00, currency="EUR"), True),
        (Money(minor=46_00, currency="EUR"), False),  # about 49.68 USD
        (Money(minor=47_00, currency="EUR"), True),  # about 50.76 USD
        (Money(minor=500_00, currency="USD"), True),
        (Money(minor=50_00, currency="USD"), False),  # not *above* the threshold
        (Money(minor=300_00, currency="CNY"), False),  # about 42 USD
        (Money(minor=400_00, currency="CNY"), True),  # about 56 USD
        (Money(minor=9_000_00, currency="JPY"), True),  # about 60 USD
    ],
)
def test_the_threshold_applies_in_any_currency_the_policy_rates(total: Money, needed: bool) -> None:
    assert (photo_proof_reason(total, None, Policy()) is not None) is needed
    assert bool(video_due(total=total)) is needed


def test_a_500_euro_order_gets_the_r13_notice_and_its_packing_video_deadline() -> None:
    order = shipped(total=Money(minor=500_00, currency="EUR"))
    notices = [n for n in order.notices if "R13" in n]
    assert len(notices) == 1
    assert "500.00 EUR (about 540.00 USD) is above 50.00 USD" in notices[0]
    video = [d for d in pending_deadlines(order) if d.kind is DeadlineKind.PACKING_VIDEO]
    assert [d.at for d in video] == [U + 2 * H]
    warned = advance(order, U + 2 * H).order
    assert any("packing-video" in n for n in warned.notices)


def test_an_order_in_a_currency_the_policy_cannot_convert_is_treated_as_high_value() -> None:
    order = shipped(total=Money(minor=1_00, currency="XOF"))
    notices = [n for n in order.notices if "R13" in n]
    assert len(notices) == 1
    assert "no rate for XOF" in notices[0]
    assert "treated as high-value" in notices[0]
    assert video_due(total=Money(minor=1_00, currency="XOF")) == [DeadlineKind.PACKING_VIDEO]


def test_the_policy_carries_its_own_rates() -> None:
    policy = Policy(currency_rates={"USD": Decimal(1), "EUR": Decimal("0.5")})
    assert photo_proof_reason(Money(minor=90_00, currency="EUR"), None, policy) is None
    assert photo_proof_reason(Money(minor=101_00, currency="EUR"), None, policy) is not None
    with pytest.raises(ValidationError, match="rate USD"):
        Policy(currency_rates={"USD": Decimal(2)})


@pytest.mark.parametrize("category", ["watches", "Jewellery", "jewelry", "Phone accessories"])
def test_a_dispute_prone_category_needs_photo_proof_whatever_the_value(category: str) -> None:
    order = shipped(total=Money(minor=5_00), category=category)
    notices = [n for n in order.notices if "R13" in n]
    assert len(notices) == 1
    assert f"dispute-prone category {category_key(category)}" in notices[0]
    assert video_due(total=Money(minor=5_00), category=category) == [DeadlineKind.PACKING_VIDEO]


def test_an_ordinary_category_under_the_threshold_needs_no_photo_proof() -> None:
    order = shipped(total=Money(minor=5_00), category="home_garden")
    assert not any("R13" in n for n in order.notices)
    assert video_due(total=Money(minor=5_00), category="home_garden") == []
