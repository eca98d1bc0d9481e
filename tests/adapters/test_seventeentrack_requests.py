"""17TRACK requests are built as data: path, body with 17TRACK carrier keys, token header."""

from __future__ import annotations

import pytest

from adapters.seventeentrack.requests import build_gettrackinfo, build_register, build_stoptrack
from domain.polling import batches


def test_register_sends_each_number_with_its_17track_carrier_key_and_the_token() -> None:
    request = build_register([("china_post", "RR123456785CN"), ("yun", "YT2212345678901234")], "tk")

    assert (request.method, request.path) == ("POST", "register")
    assert request.json == [
        {"number": "RR123456785CN", "carrier": 3011},
        {"number": "YT2212345678901234", "carrier": 190008},
    ]
    assert request.headers["17token"] == "tk"


def test_a_carrier_17track_does_not_know_from_us_is_left_to_auto_detection() -> None:
    request = build_gettrackinfo([("dhl", "JD014600006281690245")], "tk")

    assert request.path == "gettrackinfo"
    assert request.json == [{"number": "JD014600006281690245"}]


def test_stop_uses_the_stoptrack_endpoint() -> None:
    assert build_stoptrack([("ems", "EE123456785CN")], "tk").path == "stoptrack"


def test_numbers_are_batched_in_request_order_without_exceeding_the_size() -> None:
    numbers = [("china_post", f"N{i}") for i in range(95)]

    split = list(batches(numbers, 40))

    assert [len(b) for b in split] == [40, 40, 15]
    assert [pair for batch in split for pair in batch] == numbers


@pytest.mark.parametrize("size", [0, 51])
def test_a_batch_size_outside_one_to_fifty_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 50"):
        list(batches([("sf", "SF1234567890123")], size))
