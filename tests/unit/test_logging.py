"""Process logs: JSON lines off a terminal, bound order ids kept, buyer personal data dropped."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from workers.logging import configure_logging, get_logger


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging("json", stream=out)
    yield out
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_a_structlog_event_is_one_json_line_with_its_bound_order_and_workflow_ids(
    stream: io.StringIO,
) -> None:
    log = get_logger("test", order_id="8001", workflow_id="order-aliexpress-8001")
    log.info("tracking uploaded", carrier="china_post")
    [event] = lines(stream)
    assert event["event"] == "tracking uploaded"
    assert event["order_id"] == "8001"
    assert event["workflow_id"] == "order-aliexpress-8001"
    assert event["carrier"] == "china_post"
    assert event["level"] == "info"


def test_buyer_personal_data_never_reaches_the_log(stream: io.StringIO) -> None:
    log = get_logger("test", order_id="8002")
    log.warning(
        "dispute opened",
        buyer="Ivan Petrov",
        buyer_name="Ivan",
        address="Lenina 1, Moscow",
        phone="+7 900 000 00 00",
        email="ivan@example.com",
        details={"email": "ivan@example.com", "reason": "not_received"},
    )
    [event] = lines(stream)
    for key in ("buyer", "buyer_name", "address", "phone", "email"):
        assert key not in event
    assert event["details"] == {"reason": "not_received"}
    assert "Ivan" not in stream.getvalue()
    assert event["order_id"] == "8002"


def test_stdlib_logs_from_the_temporal_sdk_come_out_as_json_without_personal_data(
    stream: io.StringIO,
) -> None:
    logging.getLogger("temporalio.worker").warning(
        "activity failed for %s", "8003", extra={"order_id": "8003", "phone": "+86 123"}
    )
    [event] = lines(stream)
    assert event["event"] == "activity failed for 8003"
    assert event["logger"] == "temporalio.worker"
    assert event["order_id"] == "8003"
    assert "phone" not in event


def test_the_format_comes_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setenv("PARCELFLOW_LOG_FORMAT", "console")
    configure_logging(stream=out)
    try:
        get_logger("test").info("hello", order_id="8004")
        text = out.getvalue()
        assert "hello" in text
        assert "order_id" in text
        with pytest.raises(json.JSONDecodeError):
            json.loads(text.splitlines()[0])
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
