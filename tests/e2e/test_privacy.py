"""The canary: buyer data sent through the hook server is nowhere in clear, with encryption on.

An order is created and fed over real HTTP with a buyer's name, address, phone and email (and
the carrier's scans naming the buyer as signer and the address as location, as real carriers
do). Then everything an operator or an attacker with access to Temporal or the logs could read
is exported: every touched workflow's id, history (JSON and wire bytes), search attributes and
memo (describe), and the process logs as rendered. No canary may appear in any of them.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import structlog
from google.protobuf.json_format import ParseDict
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from adapters.asgi_server import serve_in_thread
from domain.states import OrderState
from tests.e2e.test_hooks import NEW_SECRET, OLD_SECRET, TRACK_KEY, Hooks, events_path, order_hook
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from workers.codec import ENCODING, EncryptionCodec, data_converter
from workers.hooks import create_app
from workers.logging import configure_logging
from workers.orders import Orders
from workers.worker import build_worker
from workflows.messages import OrderOutcome

pytestmark = pytest.mark.temporal

NAME = "CANARY-Zhang-Wei-7f3a"
ADDRESS = "CANARY-88-Renmin-Road-7f3a"
PHONE = "+86-CANARY-7f3a-0000"
EMAIL = "canary-7f3a@buyer.example"
CANARIES = (NAME, ADDRESS, PHONE, EMAIL)


@contextmanager
def rendered_logs() -> Iterator[io.StringIO]:
    """The process logs as production renders them (JSON), at DEBUG, for the block's duration."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    configure_logging("json", stream=out, level=logging.DEBUG)
    try:
        yield out
    finally:
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)


def payloads_of(history: WorkflowHistory, *, data_only: bool = False) -> list[Payload]:
    """Every payload a history holds, wherever it sits in its events (read from its JSON).

    With ``data_only``, leave out what the codec must not encrypt: search attributes (the
    server indexes them, and they hold no personal data), the SDK's patch markers and its
    local-activity bookkeeping (sequence, attempt, activity type and times; the activity's
    result beside it is kept and checked).
    """
    found: list[Payload] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "data" in node and isinstance(node.get("metadata"), dict):
                found.append(ParseDict(node, Payload()))
                return
            kept = {k: v for k, v in node.items() if not (data_only and k == "searchAttributes")}
            node = list(kept.values())
        if isinstance(node, list):
            for item in node:
                walk(item)

    for event in history.to_json_dict()["events"]:
        marker = event.get("markerRecordedEventAttributes", {})
        if data_only and marker.get("markerName") == "core_patch":
            continue
        if data_only and marker.get("markerName") == "core_local_activity":
            walk(marker.get("details", {}).get("result", {}))
            continue
        walk(event)
    return found


def readable(history: WorkflowHistory) -> str:
    """A history as an exporter sees it: JSON, wire bytes, and the base64 in the JSON decoded."""
    parts = [history.to_json()]
    wire = b"".join(event.SerializeToString() for event in history.events)
    parts.append(wire.decode("utf-8", errors="replace"))
    parts.extend(p.data.decode("utf-8", errors="replace") for p in payloads_of(history))
    return "\n".join(parts)


async def touched(client: Client, task_queue: str) -> list[str]:
    return [e.id async for e in client.list_workflows(f"TaskQueue = '{task_queue}'")]


async def test_no_buyer_canary_is_in_clear_in_histories_ids_attributes_or_logs(
    env: WorkflowEnvironment,
) -> None:
    codec = EncryptionCodec([("k1", os.urandom(32))])
    # A plain client (no time skipping: the hook server starts workflows from its own thread).
    client = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=data_converter(codec),
    )
    task_queue = f"tq-privacy-{uuid.uuid4().hex[:8]}"
    orders = Orders(client, task_queue)
    order_id = f"p{uuid.uuid4().hex[:12]}"
    buyer = {"name": NAME, "address": ADDRESS, "phone": PHONE, "email": EMAIL}
    now = datetime.now(UTC).isoformat()
    scanned = {"kind": "carrier_scanned", "at": now, "status": "in_transit", "location": ADDRESS}
    delivered = {"kind": "parcel_delivered", "at": now, "proof": {"signer": NAME}}
    number = fresh_s10()
    for fact in (scanned, delivered):
        fact["tracking_number"] = number
    confirmed = {"kind": "buyer_confirmed", "at": now}

    app = create_app(orders, [OLD_SECRET, NEW_SECRET], seventeentrack_key=TRACK_KEY)
    with rendered_logs() as logs:
        async with build_worker(client, task_queue=task_queue, platform=FakePlatform()):
            with serve_in_thread(app) as url:
                async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                    hooks = Hooks(http=http, orders=orders)
                    created = await hooks.post("/hooks/orders", order_hook(order_id, buyer=buyer))
                    await orders.ship("aliexpress", order_id, "china_post", number)
                    for event in (scanned, delivered, confirmed):
                        answer = await hooks.post(events_path(order_id), event)
                        assert answer.status_code == 202, answer.text
                    outcome = await orders.handle("aliexpress", order_id).result()
            workflow_ids = await touched(client, task_queue)
            histories = {
                w: await client.get_workflow_handle(w).fetch_history() for w in workflow_ids
            }
            described = [await client.get_workflow_handle(w).describe() for w in workflow_ids]

    assert created.status_code == 202
    assert isinstance(outcome, OrderOutcome)
    assert outcome.state is OrderState.COMPLETED
    order_workflow = f"order-aliexpress-{order_id}"
    assert order_workflow in workflow_ids
    exported = {
        "workflow ids": "\n".join(workflow_ids),
        "logs": logs.getvalue(),
        "search attributes and memo": "\n".join(
            f"{d.raw_description}\n{d.typed_search_attributes}\n{d.static_summary}"
            for d in described
        ),
        **{f"history of {w}": readable(h) for w, h in histories.items()},
    }
    assert order_id in exported["logs"]  # the logs were captured, and name the order
    leaks = [(where, c) for where, text in exported.items() for c in CANARIES if c in text]
    assert leaks == []

    # The canaries the scans carried are in the history, but only as ciphertext.
    order_payloads = payloads_of(histories[order_workflow], data_only=True)
    assert len(order_payloads) >= 5
    assert all(p.metadata["encoding"] == ENCODING for p in order_payloads)
    opened = b"".join(p.data for p in await codec.decode(order_payloads))
    assert NAME.encode() in opened
    assert ADDRESS.encode() in opened
    assert PHONE.encode() not in opened  # the buyer object itself was dropped at the door
    assert base64.b64encode(NAME.encode()).decode() not in exported[f"history of {order_workflow}"]
    # Activity arguments (what the marketplace and carrier adapters are sent) are encrypted.
    activity_inputs = [
        payload
        for event in histories[order_workflow].events
        if event.HasField("activity_task_scheduled_event_attributes")
        for payload in event.activity_task_scheduled_event_attributes.input.payloads
    ]
    assert activity_inputs, "shipping ran at least one activity"
    for payload in activity_inputs:
        assert payload.metadata["encoding"] == b"binary/encrypted"
        assert payload.metadata["encryption-key-id"] == b"k1"
