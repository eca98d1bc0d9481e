"""The real 17TRACK client against the carrier simulator, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI, Request

from adapters.asgi_server import serve_in_thread
from adapters.carrier_sim import Fault, Journey, Outcome, SettableClock, SimState, create_app
from adapters.seventeentrack import SeventeenTrackClient
from adapters.seventeentrack.webhook import parse_push, verify_signature
from domain.errors import PermanentPortError, TransientPortError
from domain.tracking_codes import IncidentReason, TrackingStatus
from tests.scan_history import (
    DeliveryProof,
    current_incident,
    current_status,
    has_scanned,
    proof_of_delivery,
    scan_events,
)

U = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NUMBER = ("china_post", "RR123456785CN")


async def no_wait(_: float) -> None:
    return None


class Sim:
    """A simulator served over HTTP, its clock and a client pointed at it."""

    def __init__(self, state: SimState, clock: SettableClock, url: str) -> None:
        self.state, self.clock, self.url = state, clock, url

    def client(
        self,
        token: str = "dev-token",  # noqa: S107 -- the simulator's development token
        *,
        http: httpx.AsyncClient | None = None,
        batch_size: int = 40,
        attempts: int = 4,
    ) -> SeventeenTrackClient:
        return SeventeenTrackClient(
            f"{self.url}/track/v2.2",
            token,
            http,
            batch_size=batch_size,
            attempts=attempts,
            sleep=no_wait,
        )

    def at(self, offset: timedelta) -> None:
        self.clock.set(U + offset)


@pytest.fixture
def sim() -> Iterator[Sim]:
    clock = SettableClock(U)
    state = SimState("dev-token", clock)
    with serve_in_thread(create_app(state)) as url:
        yield Sim(state, clock, url)


async def test_a_number_is_unknown_during_the_silent_period_then_info_then_scanned(
    sim: Sim,
) -> None:
    sim.state.add_script(Journey(number=NUMBER[1], uploaded_at=U).script())
    async with sim.client() as client:
        await client.register([NUMBER])

        sim.at(timedelta(hours=1))
        silent = (await client.lookup([NUMBER]))[0]
        sim.at(timedelta(hours=2, minutes=30))
        label = (await client.lookup([NUMBER]))[0]
        sim.at(timedelta(hours=4))
        picked = (await client.lookup([NUMBER]))[0]

    assert (silent.known, silent.events) == (False, ())
    assert label.known is True
    assert has_scanned(scan_events(label)) is False
    assert has_scanned(scan_events(picked)) is True
    assert picked.events[-1].code == "InTransit_PickedUp"


async def test_a_delivered_parcel_shows_every_scan_and_its_proof_of_delivery(sim: Sim) -> None:
    journey = Journey(
        number=NUMBER[1],
        uploaded_at=U,
        signer="Li Wei",
        photo_url="https://pod.example/1.jpg",
    )
    sim.state.add_script(journey.script())
    sim.at(timedelta(days=11))
    async with sim.client() as client:
        await client.register([NUMBER])
        events = scan_events((await client.lookup([NUMBER]))[0])

    assert [e.code for e in events] == [
        "InfoReceived",
        "InTransit_PickedUp",
        "InTransit_Departure",
        "InTransit_CustomsProcessing",
        "InTransit_CustomsReleased",
        "OutForDelivery_Other",
        "Delivered_Other",
    ]
    assert current_status(events) is TrackingStatus.DELIVERED
    assert proof_of_delivery(events) == DeliveryProof(
        signer="Li Wei", at=U + timedelta(days=10), photo_url="https://pod.example/1.jpg"
    )


@pytest.mark.parametrize(
    ("outcome", "incident"),
    [
        (Outcome.LOST, IncidentReason.LOST),
        (Outcome.DAMAGED, IncidentReason.DAMAGED),
        (Outcome.RETURNED, IncidentReason.RETURNED),
    ],
)
async def test_a_parcel_that_goes_wrong_reports_its_incident(
    sim: Sim, outcome: Outcome, incident: IncidentReason
) -> None:
    sim.state.add_script(Journey(number=NUMBER[1], uploaded_at=U, outcome=outcome).script())
    sim.at(timedelta(days=20))
    async with sim.client() as client:
        await client.register([NUMBER])
        events = scan_events((await client.lookup([NUMBER]))[0])

    assert current_status(events) is TrackingStatus.EXCEPTION
    assert current_incident(events) is incident


async def test_throttling_and_outages_are_retried_until_the_answer_comes(sim: Sim) -> None:
    sim.state.add_script(Journey(number=NUMBER[1], uploaded_at=U).script())
    sim.at(timedelta(hours=4))
    sim.state.inject_fault("gettrackinfo", Fault(count=1, status=429, retry_after=1))
    sim.state.inject_fault("gettrackinfo", Fault(count=2, status=503))
    async with sim.client() as client:
        await client.register([NUMBER])
        record = (await client.lookup([NUMBER]))[0]

    assert record.known is True
    assert sim.state.request_counts()["requests"] == {"register": 1, "gettrackinfo": 4}


async def test_an_outage_longer_than_the_retries_is_reported_as_transient(sim: Sim) -> None:
    sim.state.inject_fault("register", Fault(count=10, status=500))

    async with sim.client(attempts=3) as client:
        with pytest.raises(TransientPortError, match="after 3 attempts"):
            await client.register([NUMBER])

    assert sim.state.request_counts()["requests"] == {"register": 3}


async def test_a_slow_answer_times_out_and_is_retried(sim: Sim) -> None:
    sim.state.inject_fault("register", Fault(count=1, delay=0.5))
    http = httpx.AsyncClient(timeout=httpx.Timeout(0.2))

    async with sim.client(http=http) as client:
        await client.register([NUMBER])
    await http.aclose()

    assert sim.state.request_counts()["requests"] == {"register": 2}
    assert sim.state.is_registered(NUMBER[1])


async def test_a_wrong_token_is_refused_without_retrying(sim: Sim) -> None:
    async with sim.client(token="stolen") as client:
        with pytest.raises(PermanentPortError, match="credentials"):
            await client.lookup([NUMBER])

    assert sim.state.request_counts()["requests"] == {"gettrackinfo": 1}


async def test_a_thousand_parcels_are_looked_up_in_twenty_requests_of_fifty() -> None:
    state = SimState("dev-token", SettableClock(U), max_batch=50)
    numbers = [("china_post", f"RR{i:08d}0CN") for i in range(1000)]
    with serve_in_thread(create_app(state)) as url:
        async with SeventeenTrackClient(
            f"{url}/track/v2.2",
            "dev-token",
            batch_size=50,
            max_rate=None,  # batching, not pacing
        ) as client:
            await client.register(numbers)
            records = await client.lookup(numbers)

    assert len(records) == 1000
    assert [r.tracking_number for r in records] == [n for _, n in numbers]
    assert state.request_counts()["requests"]["gettrackinfo"] <= 20
    assert state.request_counts()["numbers"]["gettrackinfo"] == 1000


async def test_a_batch_above_the_apis_forty_is_refused_by_the_simulator(sim: Sim) -> None:
    numbers = [("china_post", f"RR{i:08d}0CN") for i in range(50)]

    async with sim.client(batch_size=50) as client:
        with pytest.raises(PermanentPortError, match="At most 40"):
            await client.register(numbers)


async def test_push_mode_posts_signed_webhooks_for_new_events_once(sim: Sim) -> None:
    received: list[tuple[bytes, str | None]] = []
    receiver = FastAPI()

    @receiver.post("/hooks/17track")
    async def hook(request: Request) -> dict[str, bool]:
        received.append((await request.body(), request.headers.get("sign")))
        return {"ok": True}

    sim.state.add_script(Journey(number=NUMBER[1], uploaded_at=U).script())
    with serve_in_thread(receiver) as hooks:
        async with sim.client() as client, httpx.AsyncClient(base_url=sim.url) as admin:
            await client.register([NUMBER])
            await admin.post("/sim/webhook", json={"url": f"{hooks}/hooks/17track"})
            await admin.post("/sim/clock", json={"now": (U + timedelta(hours=4)).isoformat()})
            first = (await admin.post("/sim/push")).json()
            again = (await admin.post("/sim/push")).json()

    assert (first, again) == ({"pushed": 1, "failed": 0}, {"pushed": 0, "failed": 0})
    body, signature = received[0]
    assert verify_signature(body, signature, "dev-token") is True
    push = parse_push(body)
    assert (push.event, push.record.tracking_number) == ("TRACKING_UPDATED", NUMBER[1])
    assert has_scanned(scan_events(push.record)) is True


async def test_the_admin_api_scripts_journeys_moves_the_clock_and_counts_requests(
    sim: Sim,
) -> None:
    async with httpx.AsyncClient(base_url=sim.url) as admin, sim.client() as client:
        journey = {"number": "LX123456785CN", "uploaded_at": U.isoformat(), "outcome": "lost"}
        created = await admin.post("/sim/journeys", json=journey)
        moved = await admin.post("/sim/clock", json={"advance_seconds": 30 * 86400})
        fault = await admin.post("/sim/faults", json={"path": "stoptrack", "status": 503})
        await client.register([("china_post", "LX123456785CN")])
        record = (await client.lookup([("china_post", "LX123456785CN")]))[0]
        await client.stop([("china_post", "LX123456785CN")])
        counts = (await admin.get("/sim/requests")).json()

    assert (created.status_code, fault.status_code) == (201, 201)
    assert moved.json()["now"] == (U + timedelta(days=30)).isoformat()
    assert current_incident(scan_events(record)) is IncidentReason.LOST
    assert counts["requests"] == {"register": 1, "gettrackinfo": 1, "stoptrack": 2}
    assert counts["total"] == 4
