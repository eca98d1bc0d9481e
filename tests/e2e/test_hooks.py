"""The hook server over real HTTP and a real Temporal server: signed hooks start and feed orders."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from adapters.asgi_server import serve_in_thread
from adapters.seventeentrack import webhook as seventeentrack
from domain.order import OrderFacts, workflow_id_for
from domain.states import OrderState
from tests.fakes import FakePlatform
from tests.numbers import fresh_s10
from workers.hooks import HookSettings, create_app
from workers.orders import Delivery, OrderNotFound, Orders
from workers.webhook_signatures import sign
from workers.worker import build_worker
from workflows.messages import OrderOutcome

pytestmark = pytest.mark.temporal

OLD_SECRET = "whsec_" + base64.b64encode(b"the-old-hook-secret-0123456789").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"the-new-hook-secret-9876543210").decode()
TRACK_KEY = "17track-security-key"
PUSH = Path(__file__).parent.parent / "adapters" / "payloads" / "seventeentrack"
BUYER_NAME = "Zhang Wei-Buyer"


@dataclass
class Hooks:
    """The hook server at ``http``, the orders behind it, and a way to sign deliveries."""

    http: httpx.AsyncClient
    orders: Orders

    async def post(
        self,
        path: str,
        payload: dict[str, Any] | bytes,
        *,
        secret: str = OLD_SECRET,
        webhook_id: str | None = None,
        signed_at: datetime | None = None,
        skew: timedelta = timedelta(0),
        signature: str | None = None,
    ) -> httpx.Response:
        """POST ``payload`` signed the Standard Webhooks way (or with ``signature`` as given)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        timestamp = int(((signed_at or datetime.now(UTC)) + skew).timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature or sign(secret, msg_id, timestamp, body),
        }
        return await self.http.post(path, content=body, headers=headers)

    async def push(self, payload: dict[str, Any], key: str = TRACK_KEY) -> httpx.Response:
        """POST a 17TRACK push signed with ``key``."""
        body = json.dumps(payload).encode()
        headers = {"content-type": "application/json", "sign": seventeentrack.sign(body, key)}
        return await self.http.post("/hooks/17track", content=body, headers=headers)

    async def assert_no_workflow(self, order_id: str) -> None:
        """Nothing was started for the order: no run to query, none listed."""
        with pytest.raises(OrderNotFound):
            await self.orders.view("aliexpress", order_id)
        workflow_id = workflow_id_for("aliexpress", order_id)
        assert await self.orders.list(f"WorkflowId = '{workflow_id}'") == []


def new_order_id() -> str:
    return f"h{uuid.uuid4().hex[:12]}"


def order_hook(order_id: str, /, **changes: Any) -> dict[str, Any]:
    """An AliExpress order-created hook: $20 paid now, ETA in 15 days."""
    paid_at = datetime.now(UTC).replace(microsecond=0)
    payload: dict[str, Any] = {
        "marketplace": "aliexpress",
        "order_id": order_id,
        "seller_id": "store-1",
        "total": {"minor": 2000, "currency": "USD"},
        "paid_at": paid_at.isoformat(),
        "eta": (paid_at + timedelta(days=15)).isoformat(),
        "platform_supports_withdrawal": True,
    }
    payload.update(changes)
    return payload


def events_path(order_id: str) -> str:
    return f"/hooks/marketplace/aliexpress/orders/{order_id}/events"


async def plain_client(env: WorkflowEnvironment) -> Client:
    """A client to the test server that never stamps time skipping on the workflows it starts.

    The hook server starts workflows from its own thread, where the environment's
    ``with_time_skipping_disabled()`` does not reach; an idle order must keep real time.
    """
    return await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
    )


@contextmanager
def served(orders: Orders) -> Iterator[str]:
    app = create_app(orders, [OLD_SECRET, NEW_SECRET], seventeentrack_key=TRACK_KEY)
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
async def hooks(env: WorkflowEnvironment) -> AsyncIterator[Hooks]:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    orders = Orders(await plain_client(env), task_queue)
    async with build_worker(env.client, task_queue=task_queue, platform=FakePlatform()):
        with served(orders) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                yield Hooks(http=http, orders=orders)


async def test_the_same_creation_hook_delivered_three_times_at_once_starts_one_workflow(
    hooks: Hooks,
) -> None:
    order_id = new_order_id()
    payload = order_hook(order_id)
    answers = await asyncio.gather(
        *(hooks.post("/hooks/orders", payload, webhook_id=f"msg_{order_id}") for _ in range(3))
    )

    statuses = [answer.json()["status"] for answer in answers]
    assert all(answer.is_success for answer in answers)
    assert "accepted" in statuses
    assert set(statuses) <= {"accepted", "duplicate"}
    workflow_id = workflow_id_for("aliexpress", order_id)
    assert len(await hooks.orders.list(f"WorkflowId = '{workflow_id}'")) == 1
    view = await hooks.orders.view("aliexpress", order_id)
    assert view.state is OrderState.AWAITING_SHIPMENT


async def test_a_creation_hook_redelivered_after_the_order_completed_is_already_processed(
    hooks: Hooks,
) -> None:
    order_id = new_order_id()
    first = await hooks.post("/hooks/orders", order_hook(order_id), webhook_id=f"c_{order_id}")
    assert (first.status_code, first.json()["status"]) == (202, "accepted")
    assert first.json()["workflow_id"] == f"order-aliexpress-{order_id}"
    await hooks.orders.ship("aliexpress", order_id, "china_post", fresh_s10())
    confirmed = {"kind": "buyer_confirmed", "at": datetime.now(UTC).isoformat()}
    assert (await hooks.post(events_path(order_id), confirmed)).status_code == 202
    outcome = await hooks.orders.handle("aliexpress", order_id).result()
    assert isinstance(outcome, OrderOutcome)
    assert outcome.state is OrderState.COMPLETED

    same_message = await hooks.post(
        "/hooks/orders", order_hook(order_id), webhook_id=f"c_{order_id}"
    )
    new_message = await hooks.post("/hooks/orders", order_hook(order_id))
    late_event = await hooks.post(events_path(order_id), confirmed)

    assert (same_message.status_code, same_message.json()["status"]) == (200, "duplicate")
    assert (new_message.status_code, new_message.json()["status"]) == (200, "already_processed")
    assert (late_event.status_code, late_event.json()["status"]) == (200, "already_processed")
    workflow_id = workflow_id_for("aliexpress", order_id)
    assert len(await hooks.orders.list(f"WorkflowId = '{workflow_id}'")) == 1


async def test_a_marketplace_event_before_its_creation_hook_is_on_the_order_once_it_exists(
    hooks: Hooks,
) -> None:
    order_id = new_order_id()
    scan = {"kind": "carrier_scanned", "at": datetime.now(UTC).isoformat()}
    scan |= {"status": "info_received", "code": "IR", "tracking_number": fresh_s10()}
    early = await hooks.post(events_path(order_id), scan, webhook_id=f"scan_{order_id}")
    assert (early.status_code, early.json()["status"]) == (202, "accepted")

    created = await hooks.post("/hooks/orders", order_hook(order_id))

    assert created.status_code == 202
    view = await hooks.orders.view("aliexpress", order_id)
    assert view.state is OrderState.AWAITING_SHIPMENT
    assert [(e.kind, e.event_id) for e in view.order.timeline] == [("scan", f"scan_{order_id}")]


@pytest.mark.parametrize(
    ("signing", "reason"),
    [
        ({"signature": "v1," + base64.b64encode(b"x" * 32).decode()}, "bad_signature"),
        ({"secret": "whsec_" + base64.b64encode(b"someone-else").decode()}, "bad_signature"),
        # Offsets from the moment of sending, not of collection (the suite takes minutes).
        ({"skew": -timedelta(minutes=6)}, "stale_timestamp"),
        ({"skew": timedelta(minutes=6)}, "future_timestamp"),
    ],
    ids=["forged", "unknown-secret", "6-minutes-old", "6-minutes-ahead"],
)
async def test_a_hook_with_a_wrong_signature_or_timestamp_is_refused_and_starts_nothing(
    hooks: Hooks, signing: dict[str, Any], reason: str
) -> None:
    order_id = new_order_id()
    order = await hooks.post("/hooks/orders", order_hook(order_id), **signing)
    scan = {"kind": "eta_changed", "at": datetime.now(UTC).isoformat()}
    scan |= {"eta": datetime.now(UTC).isoformat()}
    event = await hooks.post(events_path(order_id), scan, **signing)

    for refused in (order, event):
        assert refused.status_code == 401
        assert refused.json()["error"] == reason
        assert refused.json()["detail"]
    await hooks.assert_no_workflow(order_id)


async def test_a_hook_without_its_signature_headers_is_refused(hooks: Hooks) -> None:
    order_id = new_order_id()
    body = json.dumps(order_hook(order_id)).encode()

    refused = await hooks.http.post("/hooks/orders", content=body)

    assert refused.status_code == 401
    assert refused.json()["error"] == "missing_header"
    assert "webhook-signature" in refused.json()["detail"]
    await hooks.assert_no_workflow(order_id)


async def test_a_hook_signed_with_the_second_secret_is_accepted_during_rotation(
    hooks: Hooks,
) -> None:
    order_id = new_order_id()

    accepted = await hooks.post("/hooks/orders", order_hook(order_id), secret=NEW_SECRET)

    assert (accepted.status_code, accepted.json()["status"]) == (202, "accepted")
    assert (await hooks.orders.view("aliexpress", order_id)).order.facts.order_id == order_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order_id": None}, "order_id"),
        ({"total": {"minor": "twenty", "currency": "USD"}}, "total.minor"),
        ({"total": {"minor": 2000, "currency": "dollars"}}, "total.currency"),
        ({"paid_at": "yesterday"}, "paid_at"),
        ({"policy": {"cancel_window": "PT1S"}}, "policy"),
        ({"seller_id": "store 1; DROP"}, "seller_id"),
    ],
    ids=["missing-order-id", "amount-as-text", "bad-currency", "bad-date", "unknown-field", "id"],
)
async def test_a_malformed_order_hook_is_refused_naming_the_field_and_starts_nothing(
    hooks: Hooks, change: dict[str, Any], field: str
) -> None:
    order_id = new_order_id()
    payload = order_hook(order_id, **change)
    payload = {key: value for key, value in payload.items() if value is not None}

    refused = await hooks.post("/hooks/orders", payload)

    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_body"
    assert field in [problem["field"] for problem in refused.json()["fields"]]
    assert all(problem["problem"] for problem in refused.json()["fields"])
    await hooks.assert_no_workflow(order_id)


async def test_a_hook_body_that_is_not_json_is_a_400(hooks: Hooks) -> None:
    refused = await hooks.post("/hooks/orders", b'{"order_id": "42",')

    assert refused.status_code == 400
    assert refused.json()["error"] == "malformed_json"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"kind": "parcel_teleported"}, "kind"),
        ({"kind": "dispute_opened"}, "dispute_id"),
        ({"kind": "eta_changed", "eta": "soon"}, "eta"),
    ],
)
async def test_a_malformed_marketplace_event_is_refused_naming_the_field(
    hooks: Hooks, event: dict[str, Any], field: str
) -> None:
    order_id = new_order_id()

    refused = await hooks.post(events_path(order_id), {**event, "at": "2026-03-02T05:00:00Z"})

    assert refused.status_code == 422
    assert field in [problem["field"] for problem in refused.json()["fields"]]
    await hooks.assert_no_workflow(order_id)


async def test_an_event_for_a_malformed_order_id_is_refused_naming_it(hooks: Hooks) -> None:
    event = {"kind": "buyer_confirmed", "at": datetime.now(UTC).isoformat()}

    refused = await hooks.post("/hooks/marketplace/aliexpress/orders/-42/events", event)

    assert refused.status_code == 422
    assert [problem["field"] for problem in refused.json()["fields"]] == ["order_id"]


async def test_buyer_personal_data_is_accepted_and_kept_nowhere(hooks: Hooks) -> None:
    order_id = new_order_id()
    buyer = {"name": BUYER_NAME, "phone": "+86 138 0000 0000", "address": "1 Buyer Road"}

    with structlog.testing.capture_logs() as logs:
        accepted = await hooks.post(
            "/hooks/orders", order_hook(order_id, buyer=buyer), webhook_id=f"b_{order_id}"
        )

    assert accepted.status_code == 202
    history = await hooks.orders.handle("aliexpress", order_id).fetch_history()
    recorded = b"".join(event.SerializeToString() for event in history.events)
    assert order_id.encode() in recorded
    assert BUYER_NAME.encode() not in recorded
    assert b"1 Buyer Road" not in recorded
    assert {"event": "order_hook", "webhook_id": f"b_{order_id}"}.items() <= logs[-1].items()
    assert logs[-1]["workflow_id"] == f"order-aliexpress-{order_id}"
    assert BUYER_NAME not in repr(logs)


async def test_a_17track_push_puts_its_scans_on_the_order_named_by_its_tag(hooks: Hooks) -> None:
    order_id, number = new_order_id(), fresh_s10()
    assert (await hooks.post("/hooks/orders", order_hook(order_id))).status_code == 202
    await hooks.orders.ship("aliexpress", order_id, "china_post", number)
    push = json.loads((PUSH / "push_tracking_updated.json").read_text())
    push["data"] |= {"tag": workflow_id_for("aliexpress", order_id), "number": number}

    accepted = await hooks.push(push)
    again = await hooks.push(push)

    assert (accepted.status_code, accepted.json()["status"]) == (202, "accepted")
    assert accepted.json()["facts"] == 2
    assert again.status_code == 202
    view = await hooks.orders.view("aliexpress", order_id)
    scans = [(e.code, e.tracking_number) for e in view.order.timeline if e.source == "carrier"]
    assert scans == [("InfoReceived", number), ("InTransit_PickedUp", number)]
    assert view.order.first_scan_at == datetime(2026, 3, 2, 5, tzinfo=UTC)


async def test_a_17track_push_about_a_number_the_order_no_longer_carries_changes_nothing(
    hooks: Hooks,
) -> None:
    order_id, withdrawn, current = new_order_id(), fresh_s10(), fresh_s10("LX")
    assert (await hooks.post("/hooks/orders", order_hook(order_id))).status_code == 202
    await hooks.orders.ship("aliexpress", order_id, "china_post", withdrawn)
    await hooks.orders.withdraw("aliexpress", order_id)
    await hooks.orders.ship("aliexpress", order_id, "china_post", current)
    push = json.loads((PUSH / "push_tracking_updated.json").read_text())
    push["data"] |= {"tag": workflow_id_for("aliexpress", order_id), "number": withdrawn}

    accepted = await hooks.push(push)

    assert (accepted.status_code, accepted.json()["facts"]) == (202, 2)
    view = await hooks.orders.view("aliexpress", order_id)
    assert (view.state, view.order.locked_at, view.order.first_scan_at) == (
        OrderState.SHIPPED,
        None,
        None,
    )
    kept = [e.tracking_number for e in view.order.timeline if e.source == "carrier"]
    assert kept == [withdrawn, withdrawn]
    withdrawn_again = await hooks.orders.withdraw("aliexpress", order_id)
    assert withdrawn_again.state is OrderState.AWAITING_SHIPMENT


async def test_a_17track_push_without_a_tag_reaches_the_order_holding_its_number(
    hooks: Hooks,
) -> None:
    order_id, number = new_order_id(), fresh_s10()
    assert (await hooks.post("/hooks/orders", order_hook(order_id))).status_code == 202
    await hooks.orders.ship("aliexpress", order_id, "china_post", number)
    push = json.loads((PUSH / "push_tracking_updated.json").read_text())
    push["data"] |= {"tag": None, "number": number}

    accepted = await hooks.push(push)

    assert (accepted.status_code, accepted.json()["status"]) == (202, "accepted")
    assert accepted.json()["workflow_id"] == workflow_id_for("aliexpress", order_id)
    view = await hooks.orders.view("aliexpress", order_id)
    assert view.order.first_scan_at == datetime(2026, 3, 2, 5, tzinfo=UTC)


async def test_a_17track_push_with_a_stale_tag_reaches_the_numbers_holder_not_the_tagged_order(
    hooks: Hooks,
) -> None:
    first, second, number = new_order_id(), new_order_id(), fresh_s10()
    for order_id in (first, second):
        assert (await hooks.post("/hooks/orders", order_hook(order_id))).status_code == 202
    await hooks.orders.ship("aliexpress", first, "china_post", number)
    await hooks.orders.withdraw("aliexpress", first)  # the number is free: the second takes it
    await hooks.orders.ship("aliexpress", second, "china_post", number)
    push = json.loads((PUSH / "push_tracking_updated.json").read_text())
    push["data"] |= {"tag": workflow_id_for("aliexpress", first), "number": number}

    accepted = await hooks.push(push)

    assert accepted.json()["workflow_id"] == workflow_id_for("aliexpress", second)
    holder = await hooks.orders.view("aliexpress", second)
    assert holder.order.first_scan_at == datetime(2026, 3, 2, 5, tzinfo=UTC)
    tagged = await hooks.orders.view("aliexpress", first)
    assert [e for e in tagged.order.timeline if e.source == "carrier"] == []


async def test_a_carrier_fact_without_its_tracking_number_is_refused_naming_the_field(
    hooks: Hooks,
) -> None:
    order_id = new_order_id()
    scan = {"kind": "carrier_scanned", "at": datetime.now(UTC).isoformat(), "status": "in_transit"}

    refused = await hooks.post(events_path(order_id), scan)

    assert refused.status_code == 422
    assert [problem["field"] for problem in refused.json()["fields"]] == ["tracking_number"]
    await hooks.assert_no_workflow(order_id)


async def test_an_order_voided_by_the_platform_ends_as_a_void(hooks: Hooks) -> None:
    order_id = new_order_id()
    hook = order_hook(order_id, category="Watches")
    assert (await hooks.post("/hooks/orders", hook)).status_code == 202
    void = {"kind": "order_voided", "at": datetime.now(UTC).isoformat(), "reason": "buyer asked"}

    accepted = await hooks.post(events_path(order_id), void)

    assert accepted.status_code == 202
    outcome = await hooks.orders.handle("aliexpress", order_id).result()
    assert isinstance(outcome, OrderOutcome)
    assert outcome.state is OrderState.VOIDED
    assert outcome.order is not None
    assert outcome.order.facts.category == "Watches"


async def test_a_17track_push_with_a_bad_signature_is_refused(hooks: Hooks) -> None:
    order_id = new_order_id()
    push = json.loads((PUSH / "push_tracking_updated.json").read_text())
    push["data"]["tag"] = workflow_id_for("aliexpress", order_id)

    refused = await hooks.push(push, key="not-the-key")

    assert refused.status_code == 401
    assert refused.json()["error"] == "bad_signature"
    await hooks.assert_no_workflow(order_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": ""}, "data.number"),
        (
            {"track_info": {"tracking": {"providers": [{"events": [{"time_utc": "noon"}]}]}}},
            "data.track_info",
        ),
        ({"track_info": {"tracking": {"providers": "china post"}}}, "data.track_info"),
    ],
    ids=["no-number", "bad-time", "bad-providers"],
)
async def test_a_malformed_17track_push_is_refused_naming_the_field(
    hooks: Hooks, change: dict[str, Any], field: str
) -> None:
    order_id = new_order_id()
    push = json.loads((PUSH / "push_tracking_updated.json").read_text())
    push["data"] |= {"tag": workflow_id_for("aliexpress", order_id), **change}

    refused = await hooks.push(push)

    assert refused.status_code == 422
    assert [problem["field"] for problem in refused.json()["fields"]] == [field]
    await hooks.assert_no_workflow(order_id)


@pytest.mark.parametrize("tag", [None, "order-1001", "customer-7", 42])
async def test_a_17track_push_whose_tag_names_no_order_is_ignored(
    hooks: Hooks, tag: object
) -> None:
    push = json.loads((PUSH / "push_tracking_updated.json").read_text())
    push["data"]["tag"] = tag

    ignored = await hooks.push(push)

    assert (ignored.status_code, ignored.json()["status"]) == (202, "ignored")
    assert ignored.json()["reason"]


async def test_an_unreachable_temporal_is_a_503_never_a_500(env: WorkflowEnvironment) -> None:
    class UnreachableOrders(Orders):
        async def create(self, facts: OrderFacts) -> Delivery:  # noqa: ARG002 - the seam's signature
            raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    orders = UnreachableOrders(await plain_client(env), "nowhere")
    with served(orders) as url, structlog.testing.capture_logs() as logs:
        async with httpx.AsyncClient(base_url=url) as http:
            hooks = Hooks(http=http, orders=orders)
            order_id = new_order_id()
            failed = await hooks.post(
                "/hooks/orders", order_hook(order_id, buyer={"n": BUYER_NAME})
            )

    assert failed.status_code == 503
    assert failed.json() == {"error": "unavailable", "detail": "try again later"}
    assert [entry["event"] for entry in logs] == ["hook_failed"]
    assert logs[0]["error_type"] == "RPCError"
    assert BUYER_NAME not in repr(logs)


async def test_the_openapi_document_lists_every_endpoint_and_the_hook_bodies(
    hooks: Hooks,
) -> None:
    health = await hooks.http.get("/healthz")
    document = (await hooks.http.get("/openapi.json")).json()

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert set(document["paths"]) == {
        "/healthz",
        "/hooks/orders",
        "/hooks/marketplace/{marketplace}/orders/{order_id}/events",
        "/hooks/17track",
        "/hooks/easypost",
    }
    order_body = document["paths"]["/hooks/orders"]["post"]["requestBody"]["content"]
    assert order_body["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderCreatedHook"
    }
    schemas = document["components"]["schemas"]
    assert {"order_id", "total", "buyer"} <= set(schemas["OrderCreatedHook"]["properties"])
    assert {"Money", "DisputeOpened", "Refusal", "HookAnswer"} <= set(schemas)
    assert "401" in document["paths"]["/hooks/17track"]["post"]["responses"]


async def test_an_unknown_path_is_a_json_404(hooks: Hooks) -> None:
    missing = await hooks.http.post("/hooks/nothing-here", content=b"{}")

    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


def test_the_hook_server_reads_its_settings_from_the_environment() -> None:
    settings = HookSettings.from_env(
        {
            "PARCELFLOW_WEBHOOK_SECRETS": f"{OLD_SECRET}, {NEW_SECRET}",
            "PARCELFLOW_17TRACK_TOKEN": TRACK_KEY,
            "PARCELFLOW_EASYPOST_WEBHOOK_SECRET": "easypost-secret",
            "PARCELFLOW_HOOKS_PORT": "8080",
        }
    )

    assert settings.secrets == (OLD_SECRET, NEW_SECRET)
    assert (settings.seventeentrack_token, settings.host, settings.port) == (
        TRACK_KEY,
        "127.0.0.1",
        8080,
    )
    assert settings.easypost_webhook_secret == "easypost-secret"
    assert HookSettings.from_env({}).secrets == ()
    assert HookSettings.from_env({}).easypost_webhook_secret is None
