"""A retried platform write warns the adapter that an earlier attempt may have landed."""

from __future__ import annotations

import dataclasses

import pytest
from temporalio.testing import ActivityEnvironment

from activities.platform import PlatformActivities
from domain.commands import SendTrackingUpload
from tests.fakes import FakePlatform

UPLOAD = SendTrackingUpload(
    idempotency_key="order-aliexpress-1:upload:1",
    order_id="1",
    carrier="china_post",
    tracking_number="RR123456785CN",
)


@pytest.mark.parametrize(("attempt", "warned"), [(1, []), (2, [UPLOAD.idempotency_key])])
async def test_only_a_retry_asks_the_adapter_to_read_back_first(
    attempt: int, warned: list[str]
) -> None:
    platform = FakePlatform()
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    await env.run(PlatformActivities(platform).upload_tracking, UPLOAD)
    assert platform.retried == warned
    assert platform.keys("upload_tracking") == [UPLOAD.idempotency_key]
