"""The EasyPost claims client against the claims simulator over real HTTP: file once, map every
status, name every refusal, and reconcile by reading after a lost answer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from adapters.asgi_server import serve_in_thread
from adapters.easypost import EasyPostClaims
from adapters.easypost.sim import Fault, SimState, create_app
from adapters.easypost.sim.rules import read_new_claim
from domain.claims import CarrierAnswer, FileClaim
from domain.errors import PermanentPortError, TransientPortError
from domain.money import Money
from domain.ports import CarrierClaims

KEY = "sim-easypost-key"
EMAIL = "claims@seller.example"
PROOF = "doc://loss-proof/42"
USD20 = Money(minor=20_00)


def parcel() -> str:
    return f"UG{uuid.uuid4().int % 10**9:09d}CN"


def command(number: str, value: Money = USD20, proof: str = PROOF) -> FileClaim:
    key = f"claim-yanwen-{number}:file"
    return FileClaim(
        idempotency_key=key,
        carrier="yanwen",
        tracking_number=number,
        proof=proof,
        declared_value=value,
    )


class Sleeps:
    """The client's waits, recorded instead of slept."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def state() -> SimState:
    return SimState(KEY, stall_seconds=1.0)


@pytest.fixture
def base_url(state: SimState) -> Iterator[str]:
    with serve_in_thread(create_app(state)) as url:
        yield url


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def claims_client(
    base_url: str, sleeps: Sleeps, key: str = KEY, max_pages: int = 20
) -> EasyPostClaims:
    return EasyPostClaims(
        base_url,
        key,
        carriers=["Yanwen Express", "cainiao"],
        contact_email=EMAIL,
        timeout=0.3,
        sleep=sleeps,
        max_pages=max_pages,
    )


@pytest.fixture
async def client(base_url: str, sleeps: Sleeps) -> AsyncIterator[EasyPostClaims]:
    async with claims_client(base_url, sleeps) as client:
        yield client


def filed_on_the_desk(state: SimState, number: str, amount: str, description: str) -> None:
    """A claim filed straight on the desk, by someone other than the client under test."""
    body = {
        "tracking_code": number,
        "type": "loss",
        "amount": amount,
        "description": description,
        "contact_email": EMAIL,
    }
    state.file(read_new_claim(body))


def claims_on_other_parcels(state: SimState, count: int) -> None:
    """``count`` claims filed on the desk, each on an insured parcel of its own."""
    for _ in range(count):
        other = parcel()
        state.insure(other, USD20)
        filed_on_the_desk(state, other, "5.00", "another parcel")


@pytest.fixture
def number(state: SimState) -> str:
    """An insured parcel, $20 of cover."""
    number = parcel()
    state.insure(number, USD20)
    return number


def test_the_client_is_a_carrier_claims_port(client: EasyPostClaims) -> None:
    port: CarrierClaims = client
    assert port.supports_api("yanwen")  # configured as "Yanwen Express"
    assert port.supports_api("Cainiao")
    assert not port.supports_api("4px")


async def test_a_loss_claim_is_filed_for_the_declared_value_naming_parcel_and_proof(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    claim_id = await client.file_claim(command(number))

    assert claim_id.startswith("clm_")
    filed = state.claim(claim_id).filed
    assert (filed.claim_type, filed.amount, filed.contact_email) == ("loss", USD20, EMAIL)
    assert number in filed.description
    assert PROOF in filed.description
    assert filed.reference == f"claim-yanwen-{number}:file"
    assert filed.recipient_name is None  # nothing about a person leaves parcelflow
    assert [e.claim_id for e in state.filings(number)] == [claim_id]


async def test_a_proof_given_as_a_document_travels_as_an_attachment(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    proof = "data:application/pdf;base64,JVBERi0xLjQKJcTl8uXr"

    claim_id = await client.file_claim(command(number, proof=proof))

    filed = state.claim(claim_id).filed
    assert filed.attachments == (
        ("supporting_documentation_attachments", b"%PDF-1.4\n%\xc4\xe5\xf2\xe5\xeb"),
    )
    assert "Loss proof: attached" in filed.description


async def test_a_second_filing_of_the_parcel_returns_the_first_claim_and_files_nothing(
    base_url: str, sleeps: Sleeps, state: SimState, number: str
) -> None:
    async with claims_client(base_url, sleeps) as first:
        claim_id = await first.file_claim(command(number))
    async with claims_client(base_url, sleeps) as restarted:  # no memory of the first
        again = await restarted.file_claim(command(number))

    assert again == claim_id
    assert len(state.filings(number)) == 1


Settle = tuple[str, Money | None, str] | None
"""How the claims desk moves the claim (outcome, partial amount, detail); None: not at all."""


@pytest.mark.parametrize(
    ("settle", "expected"),
    [
        (None, CarrierAnswer(status="pending", reason="Claim was created.")),
        (
            ("in_review", None, ""),
            CarrierAnswer(status="pending", reason="Claim is under review."),
        ),
        (
            ("needs_action", None, "Send the invoice."),
            CarrierAnswer(status="pending", reason="Send the invoice."),
        ),
        (
            ("approved", None, ""),
            CarrierAnswer(status="paid", amount=USD20, reason="Claim was approved."),
        ),
        (
            ("approved_partial", Money(minor=18_50), "Less salvage."),
            CarrierAnswer(status="paid", amount=Money(minor=18_50), reason="Less salvage."),
        ),
        (
            ("rejected", None, "No proof of value."),
            CarrierAnswer(status="rejected", reason="No proof of value."),
        ),
    ],
)
async def test_each_claim_status_maps_to_the_ports_answer(
    client: EasyPostClaims, state: SimState, number: str, settle: Settle, expected: CarrierAnswer
) -> None:
    claim_id = await client.file_claim(command(number))
    if settle is not None:
        state.settle(claim_id, *settle)

    assert await client.claim_status("yanwen", claim_id) == expected


async def test_a_cancelled_claim_is_rejected_with_easyposts_reason_and_frees_the_parcel(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    claim_id = await client.file_claim(command(number))
    state.cancel(claim_id)

    answer = await client.claim_status("yanwen", claim_id)
    refiled = await client.file_claim(command(number))

    assert answer == CarrierAnswer(status="rejected", reason="Claim cancellation was requested.")
    assert refiled != claim_id  # a cancelled claim is not the parcel's claim any more
    assert len(state.filings(number)) == 2


async def test_a_claim_over_the_insured_value_is_refused_naming_the_amount(
    client: EasyPostClaims, state: SimState
) -> None:
    number = parcel()
    state.insure(number, Money(minor=10_00))

    with pytest.raises(
        PermanentPortError, match=r"amount: cannot exceed the insured amount of 10\.00"
    ):
        await client.file_claim(command(number))
    assert state.filings(number) == []


async def test_a_parcel_without_insurance_is_refused_with_easyposts_words(
    client: EasyPostClaims, state: SimState
) -> None:
    number = parcel()

    with pytest.raises(PermanentPortError, match="No eligible insurance found"):
        await client.file_claim(command(number))
    assert state.filings(number) == []


async def test_a_bad_contact_email_is_refused_naming_the_field(
    base_url: str, sleeps: Sleeps, state: SimState, number: str
) -> None:
    async with EasyPostClaims(
        base_url, KEY, carriers=["yanwen"], contact_email="seller", sleep=sleeps
    ) as client:
        with pytest.raises(PermanentPortError, match="contact_email: is not an email address"):
            await client.file_claim(command(number))
    assert state.filings(number) == []


async def test_a_declared_value_in_another_currency_is_refused_before_any_call(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    with pytest.raises(PermanentPortError, match="EasyPost claims are in USD"):
        await client.file_claim(command(number, Money(minor=20_00, currency="EUR")))
    assert state.ledger() == []


async def test_a_carrier_not_claimed_through_easypost_is_refused_without_a_call(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    other = command(number).model_copy(update={"carrier": "4px"})

    with pytest.raises(PermanentPortError, match="not claimed through EasyPost"):
        await client.file_claim(other)
    with pytest.raises(PermanentPortError, match="not claimed through EasyPost"):
        await client.claim_status("4px", "clm_1")
    assert state.ledger() == []


async def test_a_wrong_api_key_is_a_permanent_refusal(
    base_url: str, sleeps: Sleeps, state: SimState, number: str
) -> None:
    async with claims_client(base_url, sleeps, key="leaked-and-revoked") as client:
        with pytest.raises(PermanentPortError, match="refused the API key"):
            await client.file_claim(command(number))
    assert state.ledger() == []
    assert sleeps.delays == []  # not retried


async def test_an_unknown_claim_is_a_permanent_not_found(client: EasyPostClaims) -> None:
    with pytest.raises(PermanentPortError, match="HTTP 404 NOT_FOUND"):
        await client.claim_status("yanwen", "clm_nope")


async def test_throttling_is_retried_after_retry_after_then_reported_transient(
    client: EasyPostClaims, state: SimState, number: str, sleeps: Sleeps
) -> None:
    claim_id = await client.file_claim(command(number))
    state.retry_after = 2.0
    state.inject("retrieve", Fault.RATE_LIMITED, count=1)

    answer = await client.claim_status("yanwen", claim_id)

    assert answer.status == "pending"
    assert sleeps.delays == [2.0]
    state.inject("retrieve", Fault.RATE_LIMITED, count=3)
    with pytest.raises(TransientPortError, match=r"HTTP 429 .*retry after 2 s"):
        await client.claim_status("yanwen", claim_id)


async def test_a_server_error_on_a_read_is_transient(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    claim_id = await client.file_claim(command(number))
    state.inject("retrieve", Fault.ERROR_5XX, count=3)

    with pytest.raises(TransientPortError, match="HTTP 503"):
        await client.claim_status("yanwen", claim_id)


async def test_a_throttled_filing_is_sent_again_and_files_once(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    state.inject("create", Fault.RATE_LIMITED, count=1)

    claim_id = await client.file_claim(command(number))

    assert [e.claim_id for e in state.filings(number)] == [claim_id]


async def test_a_filing_lost_to_a_server_error_is_transient_and_the_retry_files_once(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    state.inject("create", Fault.ERROR_5XX)

    with pytest.raises(TransientPortError, match="not listed, a retry reads again"):
        await client.file_claim(command(number))
    assert state.filings(number) == []

    claim_id = await client.file_claim(command(number))
    assert [e.claim_id for e in state.filings(number)] == [claim_id]


async def test_a_stalled_filing_times_out_as_transient_and_files_nothing(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    state.inject("create", Fault.STALL)

    with pytest.raises(TransientPortError, match="no answer"):
        await client.file_claim(command(number))
    assert state.filings(number) == []


async def test_a_claim_created_but_unanswered_is_found_by_reading_and_never_filed_twice(
    base_url: str, sleeps: Sleeps, state: SimState, number: str
) -> None:
    state.inject("create", Fault.EXECUTE_THEN_DROP)

    async with claims_client(base_url, sleeps) as client:
        claim_id = await client.file_claim(command(number))
    async with claims_client(base_url, sleeps) as retried:  # the activity's retry
        again = await retried.file_claim(command(number))

    assert claim_id == again
    assert [e.claim_id for e in state.filings(number)] == [claim_id]
    assert [e.reference for e in state.filings(number)] == [f"claim-yanwen-{number}:file"]


async def test_a_filing_refused_because_another_attempt_landed_first_returns_that_claim(
    base_url: str, state: SimState, number: str
) -> None:
    async def racing_attempt(request: httpx.Request) -> None:
        if request.method == "POST" and not state.filings(number):
            filed_on_the_desk(state, number, "20.00", "an earlier attempt")

    http = httpx.AsyncClient(event_hooks={"request": [racing_attempt]})
    async with (
        http,
        EasyPostClaims(
            base_url, KEY, carriers=["yanwen"], contact_email=EMAIL, http=http
        ) as client,
    ):
        claim_id = await client.file_claim(command(number))

    assert [e.claim_id for e in state.filings(number)] == [claim_id]


async def test_the_parcels_claim_is_found_on_a_later_page(
    client: EasyPostClaims, state: SimState, number: str
) -> None:
    claim_id = await client.file_claim(command(number))
    claims_on_other_parcels(state, 105)  # newer: the parcel's claim moves to page two

    found = await client.find_claim(number)

    assert found is not None
    assert found.claim_id == claim_id
    assert await client.file_claim(command(number)) == claim_id
    assert len(state.filings(number)) == 1


async def test_a_claim_list_too_long_to_read_refuses_to_file_blind(
    base_url: str, sleeps: Sleeps, state: SimState, number: str
) -> None:
    claims_on_other_parcels(state, 101)

    async with claims_client(base_url, sleeps, max_pages=1) as client:
        with pytest.raises(PermanentPortError, match="cannot rule out one"):
            await client.file_claim(command(number))
    assert state.filings(number) == []
