"""17TRACK answers parse into the carrier port's records, each scan read by its status table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.seventeentrack.responses import (
    Rejection,
    parse_envelope,
    parse_rejections,
    parse_track_info,
)
from domain.errors import PermanentPortError, TransientPortError
from domain.tracking_codes import TrackingStatus
from tests.scan_history import DeliveryProof, current_status, proof_of_delivery, scan_events

PAYLOADS = Path(__file__).parent / "payloads" / "seventeentrack"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


REQUESTED = [
    ("china_post", "RR123456785CN"),
    ("china_post", "LX123456785CN"),
    ("yanwen", "UG123456789YW"),
]


def test_a_delivered_parcel_comes_back_with_every_scan_oldest_first() -> None:
    data = parse_envelope(200, payload("gettrackinfo_delivered.json"))

    delivered = parse_track_info(data, REQUESTED)[0]

    assert (delivered.carrier, delivered.tracking_number, delivered.known) == (
        "china_post",
        "RR123456785CN",
        True,
    )
    assert [scan.code for scan in delivered.events] == [
        "InfoReceived",
        "InTransit_PickedUp",
        "InTransit_Departure",
        "InTransit_CustomsProcessing",
        "OutForDelivery_Other",
        "Delivered_Other",
    ]
    assert delivered.events[1].at == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert delivered.events[1].location == "Shenzhen"


def test_a_delivered_parcel_normalises_to_delivered_with_its_proof() -> None:
    data = parse_envelope(200, payload("gettrackinfo_delivered.json"))

    events = scan_events(parse_track_info(data, REQUESTED)[0])

    assert current_status(events) is TrackingStatus.DELIVERED
    assert proof_of_delivery(events) == DeliveryProof(
        signer="Li Wei",
        at=datetime(2026, 3, 11, 8, 5, tzinfo=UTC),
        photo_url="https://pod.example/RR123456785CN.jpg",
    )


def test_a_number_without_a_carrier_record_yet_or_rejected_is_unknown() -> None:
    data = parse_envelope(200, payload("gettrackinfo_delivered.json"))

    _, silent, rejected = parse_track_info(data, REQUESTED)

    assert (silent.known, silent.events) == (False, ())
    assert (rejected.carrier, rejected.tracking_number, rejected.known) == (
        "yanwen",
        "UG123456789YW",
        False,
    )


def test_the_same_scan_read_twice_gets_the_same_event_id() -> None:
    data = parse_envelope(200, payload("gettrackinfo_delivered.json"))

    first = parse_track_info(data, REQUESTED)[0]
    second = parse_track_info(data, REQUESTED)[0]

    assert [s.event_id for s in first.events] == [s.event_id for s in second.events]
    assert len({s.event_id for s in first.events}) == len(first.events)


def test_register_rejections_are_listed_with_their_codes() -> None:
    data = parse_envelope(200, payload("register_mixed.json"))

    assert parse_rejections(data) == [
        Rejection(
            "LX123456785CN",
            -18019901,
            "The tracking number 'LX123456785CN' has been registered,"
            " don't need to repeat registration.",
        ),
        Rejection("XX", -18010012, "The format of 'XX' is invalid."),
    ]


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, payload("error_invalid_token.json"), PermanentPortError),
        (401, payload("error_invalid_token.json"), PermanentPortError),
        (400, {"code": -18010012, "data": {"errors": [{"message": "bad"}]}}, PermanentPortError),
        (429, None, TransientPortError),
        (503, None, TransientPortError),
        (200, {"code": -18010003, "data": {}}, TransientPortError),
    ],
)
def test_an_error_answer_raises_the_port_error_that_says_whether_to_retry(
    status: int, body: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        parse_envelope(status, body)


def test_a_bad_token_error_names_the_credentials() -> None:
    with pytest.raises(PermanentPortError, match="credentials: Invalid access key"):
        parse_envelope(200, payload("error_invalid_token.json"))
