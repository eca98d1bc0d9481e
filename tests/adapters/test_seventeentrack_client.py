"""The 17TRACK client batches, retries throttling and outages, and never retries a refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.seventeentrack import SeventeenTrackClient
from domain.errors import PermanentPortError, TransientPortError
from domain.ports import CarrierTracking
from domain.tracking import CarrierRecord

DELIVERED = json.loads(
    (
        Path(__file__).parent / "payloads" / "seventeentrack" / "gettrackinfo_delivered.json"
    ).read_text()
)
OK_EMPTY = {"code": 0, "data": {"accepted": [], "rejected": []}}


class Recorder:
    """A scripted 17TRACK: answers from a list, records every request and every sleep."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, **options: Any) -> SeventeenTrackClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        options.setdefault("max_rate", None)  # pacing has tests of its own
        return SeventeenTrackClient(
            "https://17track.test/track/v2.2", "tk", http, sleep=self.sleep, **options
        )


async def follow(port: CarrierTracking, pair: tuple[str, str]) -> list[CarrierRecord]:
    """How the workflow's activities use the port: register, then look up."""
    await port.register([pair])
    return await port.lookup([pair])


async def test_the_client_works_wherever_the_carrier_tracking_port_is_expected() -> None:
    fake = Recorder(httpx.Response(200, json=DELIVERED))

    records = await follow(fake.client(), ("china_post", "RR123456785CN"))

    assert [r.known for r in records] == [True]
    assert [r.url.path for r in fake.requests] == [
        "/track/v2.2/register",
        "/track/v2.2/gettrackinfo",
    ]


async def test_a_throttled_lookup_is_retried_after_retry_after_and_returns_one_result() -> None:
    fake = Recorder(
        httpx.Response(429, headers={"Retry-After": "3"}, json={"code": 429}),
        httpx.Response(200, json=DELIVERED),
    )

    records = await fake.client().lookup([("china_post", "RR123456785CN")])

    assert [(r.tracking_number, r.known) for r in records] == [("RR123456785CN", True)]
    assert len(fake.requests) == 2
    assert fake.sleeps == [3.0]
    sent = fake.requests[0]
    assert str(sent.url) == "https://17track.test/track/v2.2/gettrackinfo"
    assert sent.headers["17token"] == "tk"
    assert json.loads(sent.content) == [{"number": "RR123456785CN", "carrier": 3011}]


async def test_a_bad_request_is_not_retried() -> None:
    fake = Recorder(
        httpx.Response(400, json={"code": -18010012, "data": {"errors": [{"message": "bad"}]}})
    )

    with pytest.raises(PermanentPortError, match="bad"):
        await fake.client().lookup([("china_post", "RR123456785CN")])

    assert len(fake.requests) == 1
    assert fake.sleeps == []


async def test_an_outage_is_retried_with_growing_backoff_then_reported_transient() -> None:
    fake = Recorder(httpx.Response(503, text="unavailable"))

    with pytest.raises(TransientPortError, match="after 4 attempts"):
        await fake.client(attempts=4, backoff=0.5).register([("ems", "EE123456785CN")])

    assert len(fake.requests) == 4
    assert fake.sleeps == [0.5, 1.0, 2.0]


async def test_a_network_failure_is_retried() -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=OK_EMPTY)

    async def no_wait(_: float) -> None:
        return None

    http = httpx.AsyncClient(transport=httpx.MockTransport(flaky))
    client = SeventeenTrackClient("https://17track.test/track/v2.2", "tk", http, sleep=no_wait)

    await client.stop([("sf", "SF1234567890123")])

    assert len(calls) == 2


async def test_a_wrong_token_is_a_permanent_error_at_once() -> None:
    body = {
        "code": -18010002,
        "data": {"errors": [{"code": -18010002, "message": "Invalid access key."}]},
    }
    fake = Recorder(httpx.Response(401, json=body))

    with pytest.raises(PermanentPortError, match="credentials"):
        await fake.client().lookup([("china_post", "RR123456785CN")])

    assert len(fake.requests) == 1


async def test_a_hundred_numbers_go_in_batches_of_the_apis_forty_and_come_back_in_order() -> None:
    fake = Recorder(httpx.Response(200, json=OK_EMPTY))
    numbers = [("china_post", f"RR{i:09d}CN") for i in range(100)]

    records = await fake.client().lookup(numbers)

    assert [len(json.loads(r.content)) for r in fake.requests] == [40, 40, 20]
    assert [r.tracking_number for r in records] == [n for _, n in numbers]
    assert not any(r.known for r in records)


def test_a_batch_size_above_fifty_is_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and 50"):
        SeventeenTrackClient(token="tk", batch_size=51)


async def test_register_reports_rejected_numbers_but_does_not_fail_the_batch() -> None:
    body = {
        "code": 0,
        "data": {
            "accepted": [{"number": "RR123456785CN", "carrier": 3011}],
            "rejected": [{"number": "XX", "error": {"code": -18010012, "message": "invalid"}}],
        },
    }
    fake = Recorder(httpx.Response(200, json=body))

    rejected = await fake.client().register_numbers(
        [("china_post", "RR123456785CN"), ("china_post", "XX")]
    )

    assert [(r.number, r.code) for r in rejected] == [("XX", -18010012)]
