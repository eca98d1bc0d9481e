"""17TRACK's tag, request frequency limit and quota: the client and the simulator, over HTTP.

17TRACK keeps the ``tag`` a number is registered with and echoes it in the number's look-ups
and pushes; it answers HTTP 429 above 3 requests a second per key, and refuses registrations
once the key's quota is used up (error -18019908).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters import carrier_sim
from adapters.asgi_server import serve_in_thread
from adapters.seventeentrack import SeventeenTrackClient
from adapters.seventeentrack.client import QuotaExhausted
from adapters.seventeentrack.requests import MAX_TAG, build_register
from tests.numbers import fresh_s10

TOKEN = "sim-key"


@pytest.fixture
def served() -> Iterator[tuple[carrier_sim.SimState, str]]:
    state = carrier_sim.SimState(TOKEN, rate_limit=3)
    with serve_in_thread(carrier_sim.create_app(state)) as url:
        yield state, f"{url}/track/v2.2"


def test_each_registered_number_carries_its_tag() -> None:
    request = build_register(
        [("china_post", "RR123456785CN"), ("yanwen", "UG123456785CN")],
        "key",
        ["order-aliexpress-1", None],
    )

    assert request.json == [
        {"number": "RR123456785CN", "carrier": 3011, "tag": "order-aliexpress-1"},
        {"number": "UG123456785CN", "carrier": 190012},
    ]
    with pytest.raises(ValueError, match="at most 100"):
        build_register([("china_post", "RR123456785CN")], "key", ["x" * (MAX_TAG + 1)])


async def test_the_simulator_keeps_the_tag_and_echoes_it_in_look_ups(
    served: tuple[carrier_sim.SimState, str],
) -> None:
    state, url = served
    number = fresh_s10()
    async with SeventeenTrackClient(url, TOKEN) as client:
        await client.register_tagged([("china_post", number)], ["order-aliexpress-77"])

    assert state.tag_of(number) == "order-aliexpress-77"
    assert carrier_sim.protocol.gettrackinfo(state, [{"number": number}])["accepted"][0]["tag"] == (
        "order-aliexpress-77"
    )


async def test_a_paced_client_never_meets_the_rate_limit_an_unpaced_one_is_throttled(
    served: tuple[carrier_sim.SimState, str],
) -> None:
    state, url = served
    pairs = [("china_post", fresh_s10())]
    async with SeventeenTrackClient(url, TOKEN) as paced:
        for _ in range(7):
            await paced.lookup(pairs)
    assert state.throttled == 0

    async with SeventeenTrackClient(url, TOKEN, max_rate=None) as hasty:
        records = [await hasty.lookup(pairs) for _ in range(7)]

    assert state.throttled > 0  # answered 429 with Retry-After, and retried
    assert [len(r) for r in records] == [1] * 7


async def test_a_registration_past_the_quota_is_a_clear_error_naming_the_quota() -> None:
    state = carrier_sim.SimState(TOKEN, quota=1)
    first, second = fresh_s10(), fresh_s10()
    with serve_in_thread(carrier_sim.create_app(state)) as url:
        async with SeventeenTrackClient(f"{url}/track/v2.2", TOKEN) as client:
            await client.register([("china_post", first)])
            with pytest.raises(QuotaExhausted, match="no registration quota left") as refused:
                await client.register([("china_post", second)])
            [record] = await client.lookup([("china_post", second)])

    assert second in str(refused.value)
    assert (state.is_registered(first), state.is_registered(second)) == (True, False)
    assert record.known is False
