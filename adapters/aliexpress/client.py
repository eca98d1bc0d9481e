"""The AliExpress Open Platform client: a thin httpx transport over the pure builders and parsers.

The platform's writes are not idempotent. A write whose outcome is unknown (a timeout after
sending, a dropped connection, a 5xx, a platform-side failure) is never blindly resent: the
client first READS (the order's declared numbers, the dispute's solutions, the conversation)
and only resends when the read shows the write did not land. Keys that completed are
remembered, and so are refusals, so one idempotency key never yields two side effects.

Evidence upload reconciles by the dispute's attachments: the seller's file paths are read
before the first send, and a new path afterwards means the image landed (that new path is
also the evidence's URL, as the documented answer carries none).

Uploads declare the carrier's logistics service key (``adapters.aliexpress.services``): a
carrier without a key, or a key the platform's listing does not hold, is refused before any call.

Tokens (``adapters.aliexpress.tokens``): a call the gateway refuses for its access token was
not executed, so after one refresh it is sent again as it was, whatever kind of call it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

import httpx

from adapters.aliexpress import order_list, tokens
from adapters.aliexpress import requests as build
from adapters.aliexpress import responses as parse
from adapters.aliexpress.idempotency import KeyMemory
from adapters.aliexpress.services import ENV_VARIABLE as SERVICE_KEYS_VARIABLE
from adapters.aliexpress.services import ServiceKeys
from domain.disputes import Solution, SolutionKind
from domain.errors import AmbiguousWriteError, PlatformRefused, PortError, TransientPortError
from domain.evidence_files import Evidence
from domain.marketplace import PlatformDispute, PlatformOrder, PlatformOrderPage
from domain.money import Money


class _NotSent(Exception):
    """The request never reached the platform: resending is safe."""


class AliExpressClient:
    """``domain.ports.Platform`` over the AliExpress Open Platform gateway (or the simulator)."""

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        supports_withdrawal: bool = False,
        timeout: float = 10.0,
        max_write_attempts: int = 3,
        retry_delay: float = 0.2,
        refresh_token: str | None = None,
        token_expires_at: datetime | None = None,
        refresh_margin: timedelta = tokens.DEFAULT_MARGIN,
        services: ServiceKeys | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + build.GATEWAY_PATH
        self._refresh_url = base_url.rstrip("/") + tokens.REST_PREFIX + tokens.REFRESH_PATH
        self._app_key = app_key
        self._app_secret = app_secret
        self._tokens = tokens.AccessTokens(
            access_token,
            refresher=self._refresh,
            clock=clock,
            refresh_token=refresh_token,
            expires_at=token_expires_at,
            margin=refresh_margin,
        )
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self._clock = clock
        self._supports_withdrawal = supports_withdrawal
        self._timeout = timeout
        self._max_write_attempts = max_write_attempts
        self._retry_delay = retry_delay
        self._keys = KeyMemory()
        self._buyers: dict[str, str] = {}
        # Per evidence key: the seller's attachments before its first send (for reconciling).
        self._evidence_before: dict[str, frozenset[str]] = {}
        self._services = services or ServiceKeys()
        # The keys the platform listed (None until a listing succeeded: then the platform judges).
        self._listed: frozenset[str] | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    @property
    def supports_withdrawal(self) -> bool:
        """False for the real platform (no public withdraw API); the simulator has one."""
        return self._supports_withdrawal

    def token_status(self) -> tokens.TokenStatus:
        """The tokens' expiries and whether refreshing works (never the tokens)."""
        return self._tokens.status()

    # Reads.

    async def order_snapshot(self, order_id: str) -> parse.OrderSnapshot:
        """The order with its buyer and the tracking numbers declared on it."""
        return parse.parse_order(await self._read(build.find_order(order_id)))

    async def get_order(self, order_id: str) -> PlatformOrder:
        """The order's status, estimated delivery and the platform's own deadline."""
        return (await self.order_snapshot(order_id)).order

    async def list_orders(self, statuses: Sequence[str], page: int = 1) -> PlatformOrderPage:
        """One page of the seller's orders in any of ``statuses``."""
        return order_list.parse_order_list(await self._read(order_list.order_list(statuses, page)))

    async def list_disputes(self, order_id: str | None = None) -> list[PlatformDispute]:
        """The seller's disputes (first page), optionally one order's."""
        found = parse.parse_dispute_list(await self._read(build.issue_list(order_id)))
        self._buyers.update((dispute.dispute_id, buyer) for dispute, buyer in found)
        return [dispute for dispute, _ in found]

    async def dispute_snapshot(self, dispute_id: str) -> parse.DisputeSnapshot:
        """The dispute with its buyer and every solution on the table."""
        call = build.issue_detail(dispute_id, self._buyers.get(dispute_id))
        snapshot = parse.parse_dispute(await self._read(call))
        self._buyers[dispute_id] = snapshot.buyer_login_id
        return snapshot

    async def get_dispute(self, dispute_id: str) -> PlatformDispute:
        """One dispute with the platform's own deadlines."""
        return (await self.dispute_snapshot(dispute_id)).dispute

    async def messages(self, order_id: str) -> list[parse.Message]:
        """The order's conversation with the buyer."""
        return parse.parse_messages(await self._read(build.list_messages(order_id)))

    # Writes.

    def may_have_landed(self, idempotency_key: str) -> None:
        """An activity retry: the next write under this key reads back first."""
        self._keys.maybe_sent(idempotency_key)

    async def logistics_services(self) -> list[parse.LogisticsService]:
        """The logistics services the platform lists for the seller (remembered for uploads)."""
        services = parse.parse_logistics_services(await self._read(build.list_logistics_services()))
        self._listed = frozenset(service.service_name for service in services)
        return services

    async def unlisted_service_keys(self) -> frozenset[str]:
        """List the platform's services; the table's keys it does not list (refused at upload)."""
        await self.logistics_services()
        return self._services.keys() - (self._listed or frozenset())

    def service_name(self, carrier: str, tracking_number: str, store_id: str | None = None) -> str:
        """The logistics service key to declare this parcel under, or PlatformRefused (no call)."""
        key = self._services.key_for(carrier, tracking_number, store_id)
        if key is None:
            raise parse.refused(
                "LOGISTICS_SERVICE_UNMAPPED",
                f"no AliExpress logistics service key for carrier {carrier!r}"
                f" (store {store_id or '-'}): set one in {SERVICE_KEYS_VARIABLE}",
            )
        if self._listed is not None and key not in self._listed:
            raise parse.refused(
                "LOGISTICS_SERVICE_UNLISTED",
                f"logistics service key {key!r} (for {carrier!r}) is not among the services"
                " the platform lists for this seller",
            )
        return key

    async def upload_tracking(
        self,
        order_id: str,
        carrier: str,
        tracking_number: str,
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        """Declare the order shipped (R1) under the logistics service key of ``carrier``;
        refusals (no key, duplicate, state) raise PlatformRefused."""
        if self._keys.done(idempotency_key):
            return
        service = self.service_name(carrier, tracking_number, store_id)

        async def landed() -> bool:
            snapshot = await self.order_snapshot(order_id)
            return any(s.tracking_number == tracking_number for s in snapshot.shipments)

        call = build.ship(order_id, service, tracking_number, idempotency_key)
        await self._write(call, idempotency_key, landed)

    async def modify_tracking(
        self,
        order_id: str,
        old: tuple[str, str],
        new: tuple[str, str],
        idempotency_key: str,
        *,
        store_id: str | None = None,
    ) -> None:
        """Replace the declared (carrier, number) ``old`` with ``new`` (each carrier sent as its
        logistics service key)."""
        if self._keys.done(idempotency_key):
            return
        old_service = self._services.key_for(old[0], old[1], store_id) or old[0]
        new_service = self.service_name(new[0], new[1], store_id)

        async def landed() -> bool:
            numbers = {s.tracking_number for s in (await self.order_snapshot(order_id)).shipments}
            return new[1] in numbers and old[1] not in numbers

        call = build.modify_shipment(
            order_id, (old_service, old[1]), (new_service, new[1]), idempotency_key
        )
        await self._write(call, idempotency_key, landed)

    async def withdraw_tracking(
        self, order_id: str, tracking_number: str, idempotency_key: str
    ) -> None:
        """Withdraw the tracking number (R4); refusals carry the reason as their code."""
        if not self._supports_withdrawal:
            raise parse.refused(
                "WITHDRAW_UNSUPPORTED", "AliExpress has no public API to withdraw a tracking number"
            )

        async def landed() -> bool:
            snapshot = await self.order_snapshot(order_id)
            return all(s.tracking_number != tracking_number for s in snapshot.shipments)

        call = build.withdraw_shipment(order_id, tracking_number, idempotency_key)
        await self._write(call, idempotency_key, landed)

    async def answer_dispute(self, dispute_id: str, message: str, idempotency_key: str) -> None:
        """The first response (R14): a message on the disputed order's conversation."""
        if self._keys.done(idempotency_key):
            return
        snapshot = await self.dispute_snapshot(dispute_id)
        await self.message_buyer(snapshot.dispute.order_id, message, idempotency_key)

    async def propose_solution(
        self, dispute_id: str, solution: Solution, idempotency_key: str
    ) -> None:
        """Offer a solution (R14). A full refund without an amount accepts the buyer's own."""
        if self._keys.done(idempotency_key):
            return
        snapshot = await self.dispute_snapshot(dispute_id)
        buyer_solution = next(iter(snapshot.buyer_solutions), None)
        if solution.kind is SolutionKind.FULL_REFUND and solution.refund is None:
            if buyer_solution is None:
                raise parse.refused("SOLUTION_TYPE_INVALID", "no buyer solution to accept")
            await self._agree(
                dispute_id, snapshot.buyer_login_id, buyer_solution.solution_id, idempotency_key
            )
            return
        wanted = (build.solution_type(solution), solution.refund or Money(minor=0))
        buyer_solution_id = buyer_solution.solution_id if buyer_solution else None
        call = build.save_solution(
            dispute_id, snapshot.buyer_login_id, buyer_solution_id, solution, idempotency_key
        )

        async def landed() -> bool:
            seller = (await self.dispute_snapshot(dispute_id)).seller_solutions
            return any((line.solution_type, line.refund) == wanted for line in seller)

        await self._write(call, idempotency_key, landed)

    async def _agree(
        self, dispute_id: str, buyer_login_id: str, solution_id: str, idempotency_key: str
    ) -> None:
        async def landed() -> bool:
            buyer = (await self.dispute_snapshot(dispute_id)).buyer_solutions
            return any(s.solution_id == solution_id and s.status == "reached" for s in buyer)

        call = build.agree_solution(dispute_id, buyer_login_id, solution_id, idempotency_key)
        await self._write(call, idempotency_key, landed)

    async def message_buyer(self, order_id: str, text: str, idempotency_key: str) -> None:
        """Send the buyer a message on the order (R16: a reship's new number)."""
        if self._keys.done(idempotency_key):
            return
        buyer = (await self.order_snapshot(order_id)).buyer_login_id

        async def landed() -> bool:
            return any(m.content == text for m in await self.messages(order_id))

        call = build.add_message(order_id, buyer, text, idempotency_key)
        await self._write(call, idempotency_key, landed)

    async def upload_evidence(
        self, dispute_id: str, evidence: Evidence, idempotency_key: str
    ) -> str:
        """Attach an image to the dispute as seller evidence; returns its URL on the platform.

        ``aliexpress.issue.image.upload`` takes images only: any other media type is refused
        here without a call. Once per key: a repeated key returns the URL it produced.
        """
        if self._keys.done(idempotency_key) and self._keys.result(idempotency_key):
            return self._keys.result(idempotency_key) or ""
        if not evidence.is_image:
            raise parse.refused(
                "IMAGE_TYPE_UNSUPPORTED",
                f"aliexpress.issue.image.upload takes images only, not {evidence.content_type}",
            )
        snapshot = await self.dispute_snapshot(dispute_id)
        before = self._evidence_before.setdefault(
            idempotency_key, frozenset(snapshot.evidence_of("seller"))
        )

        async def added() -> list[str]:
            seller = (await self.dispute_snapshot(dispute_id)).evidence_of("seller")
            return [path for path in seller if path not in before]

        async def landed() -> bool:
            return bool(await added())

        call = build.issue_image_upload(
            dispute_id, snapshot.buyer_login_id, evidence, idempotency_key
        )
        body = await self._write(call, idempotency_key, landed)
        url = parse.parse_image_upload(body) if body is not None else None
        if not url:
            new = await added()
            if not new:
                # Acknowledged but not listed yet: a retry reads again and never resends.
                raise TransientPortError(
                    f"{call.method} [{idempotency_key}]: the image is not on the dispute yet"
                )
            url = new[-1]
        self._keys.complete(idempotency_key, url)
        del self._evidence_before[idempotency_key]
        return url

    # Transport.

    async def _send(self, call: build.ApiCall) -> httpx.Response:
        """Post ``call``; if its access token is refused, refresh once and post it again."""
        session = await self._tokens.current()
        response = await self._post(call, session)
        if not self._tokens.refreshable or not _token_refused(response):
            return response
        return await self._post(call, await self._tokens.after_refusal(session))

    async def _refresh(self, refresh_token: str) -> tokens.TokenGrant:
        form = tokens.refresh_form(
            app_key=self._app_key,
            app_secret=self._app_secret,
            refresh_token=refresh_token,
            timestamp_ms=int(self._clock().timestamp() * 1000),
        )
        try:
            response = await self._http.post(self._refresh_url, data=form, timeout=self._timeout)
        except httpx.TransportError as exc:
            # The request (and the refresh token in it) hangs off the exception: not chained.
            raise TransientPortError(f"token refresh: no answer ({type(exc).__name__})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientPortError(f"token refresh: HTTP {response.status_code}")
        return tokens.parse_refresh(_json("token refresh", response), self._clock())

    async def _post(self, call: build.ApiCall, session: str) -> httpx.Response:
        form = build.signed_form(
            call,
            app_key=self._app_key,
            app_secret=self._app_secret,
            session=session,
            timestamp_ms=int(self._clock().timestamp() * 1000),
        )
        files = {
            name: (part.filename, part.data, part.content_type) for name, part in call.files.items()
        }
        try:
            return await self._http.post(
                self._url, data=form, files=files or None, timeout=self._timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _NotSent(f"{call.method}: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise AmbiguousWriteError(f"{call.method}: no answer ({exc!r})") from exc

    async def _read(self, call: build.ApiCall) -> object:
        try:
            response = await self._send(call)
        except (_NotSent, AmbiguousWriteError) as exc:
            raise TransientPortError(str(exc)) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientPortError(f"{call.method}: HTTP {response.status_code}")
        return _json(call.method, response)

    async def _write(
        self, call: build.ApiCall, key: str, landed: Callable[[], Awaitable[bool]]
    ) -> object | None:
        """Send ``call`` once per ``key``: the answer's body, or None when known by reading."""
        if self._keys.done(key):
            return None
        if self._keys.is_uncertain(key) and await self._check(call, landed):
            self._keys.complete(key)
            return None
        for attempt in range(self._max_write_attempts):
            if attempt:
                await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))
            try:
                response = await self._send(call)
            except _NotSent:
                continue
            except AmbiguousWriteError:
                pass
            else:
                if response.status_code == 429:
                    continue
                if response.status_code < 500:
                    try:
                        body = _json(call.method, response)
                        parse.parse_write(call.method, body)
                    except PlatformRefused as refused:
                        self._keys.refuse(key, refused)
                        raise
                    except TransientPortError:
                        pass
                    else:
                        self._keys.complete(key)
                        return body
            self._keys.uncertain(key)
            if await self._check(call, landed):
                self._keys.complete(key)
                return None
        if self._keys.is_uncertain(key):
            raise AmbiguousWriteError(f"{call.method} [{key}]: outcome unknown after retries")
        raise TransientPortError(f"{call.method} [{key}]: the platform could not be reached")

    async def _check(self, call: build.ApiCall, landed: Callable[[], Awaitable[bool]]) -> bool:
        try:
            return await landed()
        except PortError as exc:
            raise AmbiguousWriteError(f"{call.method}: could not read back ({exc})") from exc


def _token_refused(response: httpx.Response) -> bool:
    """Whether the gateway answered that the access token is invalid or expired."""
    if response.status_code >= 500 or not response.content:
        return False
    try:
        return tokens.refused_access(response.json())
    except ValueError:
        return False


def _json(method: str, response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError as exc:
        raise TransientPortError(
            f"{method}: HTTP {response.status_code}, body is not JSON"
        ) from exc
