"""The client's transport over httpx.MockTransport: reconcile by reading before any resend."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.aliexpress.client import AliExpressClient
from adapters.aliexpress.signing import verify
from domain.errors import (
    AmbiguousWriteError,
    PermanentPortError,
    PlatformRefused,
    TransientPortError,
)
from domain.ports import Platform

SHIP = "aliexpress.logistics.sellershipmentfortop"
FIND = "aliexpress.trade.new.redefining.findorderbyid"


class FakeGateway:
    """A scripted gateway: records each call; the next outcomes per method can be forced."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.numbers: list[str] = []
        self.script: dict[str, list[str]] = {}

    def methods(self) -> list[str]:
        return [call["method"] for call in self.calls]

    def handle(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        assert verify("secret", form["method"], form)
        self.calls.append(form)
        step = (self.script.get(form["method"]) or ["ok"]).pop(0)
        if step == "refuse":
            body = {"result_success": False, "result_error_code": "LOGISTICS_NO_DUPLICATE"}
            return httpx.Response(
                200, json={"aliexpress_logistics_sellershipmentfortop_response": body}
            )
        if step == "not_sent":
            raise httpx.ConnectError("refused", request=request)
        if step == "drop_before":
            raise httpx.ReadTimeout("lost", request=request)
        if form["method"] == SHIP:
            self.numbers.append(form["logistics_no"])
        if step == "drop_after":
            return httpx.Response(502)
        if step == "bad_token":
            return httpx.Response(200, json={"error_response": {"code": "IllegalAccessToken"}})
        return httpx.Response(200, json=self._answer(form["method"]))

    def _answer(self, method: str) -> dict[str, Any]:
        if method == FIND:
            infos = [{"logistics_no": n, "logistics_service": "CPAM"} for n in self.numbers]
            target = {
                "id": "1001",
                "order_status": "WAIT_BUYER_ACCEPT_GOODS",
                "buyerloginid": "b1",
                "logistic_info_list": {"aeop_order_logistics_info": infos},
            }
            return {"aliexpress_trade_new_redefining_findorderbyid_response": {"target": target}}
        return {"aliexpress_logistics_sellershipmentfortop_response": {"result_success": True}}


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def client(gateway: FakeGateway) -> AliExpressClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(gateway.handle))
    return AliExpressClient(
        "https://api-sg.aliexpress.com", "key", "secret", "tok", http=http, retry_delay=0
    )


async def test_an_upload_sends_one_signed_shipment_declaration(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    assert gateway.methods() == [SHIP]
    assert gateway.calls[0]["parcelflow_idempotency_key"] == "wf:upload"
    assert gateway.calls[0]["session"] == "tok"


async def test_a_key_already_completed_is_not_sent_again(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    assert gateway.numbers == ["RR123456785CN"]
    assert gateway.methods() == [SHIP]


async def test_a_write_whose_answer_was_lost_is_read_back_and_not_resent(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    gateway.script[SHIP] = ["drop_after"]
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    assert gateway.methods() == [SHIP, FIND]
    assert gateway.numbers == ["RR123456785CN"]


async def test_a_write_that_timed_out_before_landing_is_resent_after_the_read(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    gateway.script[SHIP] = ["drop_before"]
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    assert gateway.methods() == [SHIP, FIND, SHIP]
    assert gateway.numbers == ["RR123456785CN"]


async def test_a_request_that_never_left_is_resent_without_reading(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    gateway.script[SHIP] = ["not_sent"]
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    assert gateway.methods() == [SHIP, SHIP]


async def test_an_outcome_still_unknown_after_every_attempt_is_an_ambiguous_write(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    gateway.script[SHIP] = ["drop_before"] * 3
    with pytest.raises(AmbiguousWriteError):
        await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    assert gateway.numbers == []
    gateway.script[SHIP] = ["drop_after"]
    gateway.numbers.append("RR123456785CN")  # It landed late, e.g. a slow platform queue.
    await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
    assert gateway.methods()[-1] == FIND
    assert gateway.numbers == ["RR123456785CN"]


async def test_a_refused_key_raises_its_refusal_again_without_a_call(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    gateway.script[SHIP] = ["refuse"]
    for _ in range(2):
        with pytest.raises(PlatformRefused) as caught:
            await client.upload_tracking("1001", "CPAM", "RR123456785CN", "wf:upload")
        assert caught.value.code == "LOGISTICS_NO_DUPLICATE"
    assert gateway.methods() == [SHIP]


async def test_the_real_platform_cannot_withdraw_and_says_so_without_a_call(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    platform: Platform = client  # mypy checks the client satisfies the port structurally.
    assert platform.supports_withdrawal is False
    with pytest.raises(PlatformRefused) as caught:
        await platform.withdraw_tracking("1001", "RR123456785CN", "wf:withdraw")
    assert caught.value.code == "WITHDRAW_UNSUPPORTED"
    assert gateway.calls == []


async def test_a_read_on_a_server_error_is_transient(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    gateway.script[FIND] = ["drop_after"]
    with pytest.raises(TransientPortError):
        await client.get_order("1001")


async def test_a_rejected_access_token_is_permanent(
    client: AliExpressClient, gateway: FakeGateway
) -> None:
    gateway.script[FIND] = ["bad_token"]
    with pytest.raises(PermanentPortError):
        await client.get_order("1001")
