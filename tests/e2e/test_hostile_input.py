"""Hostile input: every hook endpoint fuzzed over real HTTP; never a 5xx, never a stray workflow.

Hypothesis sends random bodies (JSON-ish values, near-valid hooks, garbage bytes) with valid,
forged, stale, future, missing or garbage signature headers to every endpoint, and random path
segments, to the hook server served over HTTP with a real Temporal behind it. A ledger records,
for every request, the workflow ids it names and whether it may start one (validly signed and
valid). At the end, visibility lists every workflow on the server's task queue: each one must
belong to a validly signed, valid request; everything else touched nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.asgi_server import serve_in_thread
from adapters.seventeentrack import webhook as seventeentrack
from domain.errors import InvalidInput
from domain.order import workflow_id_for
from tests.e2e.test_hooks import NEW_SECRET, OLD_SECRET, PUSH, TRACK_KEY, plain_client
from workers import hooks_wire as wire
from workers.hooks import create_app
from workers.orders import Orders
from workers.webhook_signatures import sign

pytestmark = pytest.mark.temporal

UNKNOWN_SECRET = "whsec_dGhlLWZ1enplcnMtb3duLXNlY3JldA=="
VALID_SIGNINGS = ("old_secret", "new_secret")
SIGNINGS = (
    *VALID_SIGNINGS,
    "forged",
    "unknown_secret",
    "stale",
    "future",
    "missing",
    "garbage",
)
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- what the fuzzer sends ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True) | st.text(max_size=70)
order_ids = st.builds(lambda s: f"fz{s}", ids) | ids
DROP = object()


def order_body(order_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A valid order-created hook with some fields replaced, added or dropped."""
    now = datetime.now(UTC).replace(microsecond=0)
    body: dict[str, Any] = {
        "marketplace": "aliexpress",
        "order_id": order_id,
        "seller_id": "store-1",
        "total": {"minor": 2000, "currency": "USD"},
        "paid_at": now.isoformat(),
        "eta": (now + timedelta(days=15)).isoformat(),
        "buyer": {"name": "Fuzz Buyer"},
    }
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


order_fields = st.sampled_from(
    ["marketplace", "order_id", "seller_id", "total", "paid_at", "eta", "buyer", "policy", "x"]
)
order_bodies = st.builds(
    order_body, order_ids, st.dictionaries(order_fields, json_values | st.just(DROP), max_size=3)
)
fact_bodies = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(wire.FACT_KINDS) | st.text(max_size=12),
        "at": st.just(datetime.now(UTC).isoformat()) | json_values,
    },
    optional={
        "event_id": st.text(max_size=30) | json_values,
        "status": st.text(max_size=10),
        "eta": st.just("2030-01-01T00:00:00Z") | json_values,
        "dispute_id": st.text(max_size=10),
        "known": st.booleans(),
        "code": st.text(max_size=5),
        "proof": json_values,
        "extra": json_values,
    },
)
push_template = json.loads((PUSH / "push_tracking_updated.json").read_text())
push_bodies = st.builds(
    lambda tag, data: {**push_template, "data": {**push_template["data"], "tag": tag, **data}},
    st.builds(lambda o: f"order-aliexpress-{o}", order_ids) | json_values,
    st.dictionaries(st.sampled_from(["number", "track_info", "carrier"]), json_values, max_size=2),
)


def encoded(values: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """``values`` as JSON, any JSON-ish value, or bytes that are not JSON at all."""
    as_json = st.builds(lambda v: json.dumps(v).encode(), values | json_values)
    return as_json | st.binary(max_size=300)


header_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)


# --- the ledger -----------------------------------------------------------------------------


def named_workflow(marketplace: object, order_id: object) -> str | None:
    """The workflow id a request names, or None when its ids are malformed."""
    if not (isinstance(marketplace, str) and isinstance(order_id, str)):
        return None
    try:
        return workflow_id_for(marketplace, order_id)
    except ValueError:
        return None


def valid(read: Callable[[], object]) -> bool:
    """Whether the domain reads a body (the oracle, independent of HTTP and signatures)."""
    try:
        read()
    except Exception:  # noqa: BLE001 - any refusal to read means "invalid"
        return False
    return True


@dataclass
class Ledger:
    """Every request sent: the workflow ids it named and which of them it may start."""

    http: httpx.Client
    statuses: list[tuple[int, str]] = field(default_factory=list)
    named: set[str] = field(default_factory=set)
    may_start: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)

    def headers(self, body: bytes, signing: str, garbage: list[str]) -> dict[str, str]:
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = int(time.time())
        signed_at = {"stale": now - 400, "future": now + 400}.get(signing, now)
        secret = {"new_secret": NEW_SECRET, "unknown_secret": UNKNOWN_SECRET}.get(signing)
        signature = sign(secret or OLD_SECRET, msg_id, signed_at, body)
        if signing == "forged":
            signature = f"v1,{signature[3:][::-1]}"
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(signed_at)}
        headers["webhook-signature"] = signature
        names = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        if signing == "missing":  # one header, chosen by the junk's length, or all three
            pick = len(garbage[0]) % 4 if garbage else 3
            gone = names[pick : pick + 1] if pick < 3 else names
            headers = {k: v for k, v in headers.items() if k not in gone}
        if signing == "garbage":
            headers.update(zip(names, garbage, strict=False))
        return {"content-type": "application/json", **headers}

    def send(
        self, method: str, path: str, body: bytes, headers: dict[str, str], names: set[str]
    ) -> httpx.Response:
        answer = self.http.request(method, path, content=body, headers=headers)
        self.statuses.append((answer.status_code, path))
        self.named |= names
        assert answer.status_code < 500, (answer.status_code, path, body[:200], answer.text)
        taken = answer.json() if answer.status_code == 202 else {}
        # A push whose record holds no scans is accepted with ``facts: 0``: it starts nothing.
        if taken.get("status") == "accepted" and taken.get("facts") != 0:
            self.accepted.add(taken["workflow_id"])
        return answer


def fuzz(ledger: Ledger) -> None:
    """Every endpoint, about 2,200 cases in all."""

    @settings(FUZZ, max_examples=700)
    @given(
        order_bodies,
        st.sampled_from(SIGNINGS),
        st.lists(header_text, min_size=1, max_size=3),
        st.data(),
    )
    def order_created(
        payload: dict[str, Any], signing: str, junk: list[str], data: st.DataObject
    ) -> None:
        body = data.draw(st.just(json.dumps(payload).encode()) | encoded(order_bodies))
        names = {n for n in [named_workflow(*_ids(body))] if n}
        answer = ledger.send(
            "POST", "/hooks/orders", body, ledger.headers(body, signing, junk), names
        )
        if signing in VALID_SIGNINGS and valid(lambda: wire.order_facts(body)):
            ledger.may_start |= names
        else:
            assert answer.status_code >= 400

    @settings(FUZZ, max_examples=700)
    @given(
        st.sampled_from(["aliexpress", "AliExpress"]) | ids,
        order_ids,
        encoded(fact_bodies),
        st.sampled_from(SIGNINGS),
        st.lists(header_text, min_size=1, max_size=3),
    )
    def marketplace_event(
        marketplace: str, order_id: str, body: bytes, signing: str, junk: list[str]
    ) -> None:
        path = f"/hooks/marketplace/{_segment(marketplace)}/orders/{_segment(order_id)}/events"
        headers = ledger.headers(body, signing, junk)
        name = named_workflow(marketplace, order_id)
        answer = ledger.send("POST", path, body, headers, {name} if name else set())
        if (
            name
            and signing in VALID_SIGNINGS
            and valid(lambda: wire.fact(body, headers["webhook-id"]))
        ):
            ledger.may_start.add(name)
        else:
            assert answer.status_code >= 400

    @settings(FUZZ, max_examples=450)
    @given(encoded(push_bodies), st.booleans(), header_text)
    def seventeentrack_push(body: bytes, signed: bool, junk: str) -> None:
        sign_header = seventeentrack.sign(body, TRACK_KEY) if signed else junk
        headers = {"content-type": "application/json", "sign": sign_header} if junk else {}
        order = _push_order(body)
        names = {workflow_id_for(*order)} if isinstance(order, tuple) else set()
        answer = ledger.send("POST", "/hooks/17track", body, headers, names)
        if headers.get("sign") == seventeentrack.sign(body, TRACK_KEY) and valid(
            lambda: seventeentrack.parse_push(body)
        ):
            ledger.may_start |= names
        else:
            assert answer.status_code >= 400 or answer.json()["status"] == "ignored"

    @settings(FUZZ, max_examples=350)
    @given(
        st.lists(st.text(min_size=1, max_size=15), min_size=1, max_size=6),
        st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH"]),
        encoded(order_bodies),
        st.sampled_from(SIGNINGS),
    )
    def random_path(segments: list[str], method: str, body: bytes, signing: str) -> None:
        path = "/hooks/" + "/".join(_segment(s) for s in segments)
        if _routed(path, segments):
            return  # a real endpoint: fuzzed above
        headers = ledger.headers(body, signing, [])
        answer = ledger.send(
            method, path, body, headers, {n for n in [named_workflow(*_ids(body))] if n}
        )
        assert answer.status_code in (404, 405)

    order_created()
    marketplace_event()
    seventeentrack_push()
    random_path()


def _ids(body: bytes) -> tuple[object, object]:
    try:
        data = json.loads(body)
    except ValueError:
        return (None, None)
    if not isinstance(data, dict):
        return (None, None)
    return (data.get("marketplace", "aliexpress"), data.get("order_id"))


def _push_order(body: bytes) -> tuple[str, str] | None:
    """The order a push's tag names (no number of these pushes is held by an order)."""
    try:
        wire.json_object(body)
        tag = seventeentrack.parse_push(body).tag
    except (wire.BodyError, InvalidInput, ValueError, TypeError, AttributeError):
        return None
    return wire.order_of_tag(tag)


def _segment(text: str) -> str:
    """A path segment as sent: percent-encoded, and dot segments (normalised away) spelled out."""
    return quote(text, safe="") if text not in (".", "..") else text.replace(".", "%2E")


def _routed(path: str, segments: list[str]) -> bool:
    shape = [s if i % 2 == 0 else "*" for i, s in enumerate(segments)]
    return path in ("/hooks/orders", "/hooks/17track") or (
        len(segments) == 5 and shape[0::2] == ["marketplace", "orders", "events"]
    )


async def listed(client: Client, task_queue: str) -> set[str]:
    return {e.id async for e in client.list_workflows(f"TaskQueue = '{task_queue}'")}


async def test_fuzzed_hooks_never_answer_5xx_and_start_only_validly_signed_valid_orders(
    env: WorkflowEnvironment,
) -> None:
    client = await plain_client(env)
    task_queue = f"tq-fuzz-{uuid.uuid4().hex[:8]}"
    app = create_app(
        Orders(client, task_queue), [OLD_SECRET, NEW_SECRET], seventeentrack_key=TRACK_KEY
    )
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        ledger = Ledger(http)
        await asyncio.to_thread(fuzz, ledger)

    existing = await listed(client, task_queue)
    for _ in range(50):  # visibility is eventually consistent
        if ledger.accepted <= existing:
            break
        await asyncio.sleep(0.1)
        existing = await listed(client, task_queue)
    try:
        assert len(ledger.statuses) >= 2000
        assert [s for s in ledger.statuses if s[0] >= 500] == []
        assert ledger.accepted, "some fuzzed hooks were valid and accepted"
        assert ledger.accepted <= existing
        assert existing <= ledger.may_start, "a workflow no valid, signed hook asked for"
        assert not existing & (ledger.named - ledger.may_start)
        statuses = {status for status, _ in ledger.statuses}
        assert {202, 400, 401, 404, 422} <= statuses
    finally:
        for workflow_id in existing:
            await client.get_workflow_handle(workflow_id).terminate("fuzzing done")
