"""The payload codecs: compression of large payloads, AES-GCM round trips, key rotation,
tampering, and the UI's codec server."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from adapters.asgi_server import serve_in_thread
from domain.errors import InvalidInput
from domain.polling import Parcel
from workers.codec import (
    COMPRESS_ABOVE,
    COMPRESSED,
    ENCODING,
    KEY_ID,
    ChainCodec,
    CodecError,
    CompressionCodec,
    EncryptionCodec,
    data_converter,
    encrypting,
)
from workers.codec_server import CodecSettings, create_app
from workers.config import TemporalSettings

OLD_KEY = ("k1", bytes(range(32)))
NEW_KEY = ("k2", bytes(range(100, 132)))
SECRET_TEXT = b'{"buyer_name": "Zhang Wei", "order_id": "1001"}'
UI_ORIGIN = "http://localhost:8233"
TOKEN = "codec-token-123"


def spec(*keys: tuple[str, bytes]) -> str:
    return ",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in keys)


def plain(data: bytes = SECRET_TEXT) -> Payload:
    return Payload(metadata={"encoding": b"json/plain", "custom": b"kept"}, data=data)


async def test_an_encoded_payload_decodes_to_the_original_and_reads_as_nothing() -> None:
    codec = EncryptionCodec([OLD_KEY])
    original = plain()

    [encoded] = await codec.encode([original])
    [decoded] = await codec.decode([encoded])

    assert decoded == original
    assert dict(encoded.metadata) == {"encoding": ENCODING, KEY_ID: b"k1"}
    assert b"Zhang" not in encoded.SerializeToString()
    assert b"json/plain" not in encoded.SerializeToString()


async def test_the_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec([OLD_KEY])

    first, second = await codec.encode([plain(), plain()])

    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


async def test_after_rotation_the_new_key_encrypts_and_the_old_key_still_decrypts() -> None:
    before = EncryptionCodec.from_spec(spec(OLD_KEY))
    after = EncryptionCodec.from_spec(spec(NEW_KEY, OLD_KEY))
    [written_before] = await before.encode([plain()])

    [written_after] = await after.encode([plain()])

    assert written_after.metadata[KEY_ID] == b"k2"
    assert await after.decode([written_before, written_after]) == [plain(), plain()]
    assert after.key_ids == ("k2", "k1")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: Payload(metadata=p.metadata, data=p.data[:-1] + bytes([p.data[-1] ^ 1])),
        lambda p: Payload(metadata=p.metadata, data=bytes([p.data[0] ^ 1]) + p.data[1:]),
        lambda p: Payload(metadata=p.metadata, data=p.data[:20]),
    ],
    ids=["flipped-tag-bit", "flipped-nonce-bit", "truncated"],
)
async def test_a_tampered_payload_is_refused(tamper: object) -> None:
    codec = EncryptionCodec([OLD_KEY])
    [encoded] = await codec.encode([plain()])

    with pytest.raises(CodecError, match="failed authentication"):
        await codec.decode([tamper(encoded)])  # type: ignore[operator]


async def test_a_payload_relabelled_with_another_known_key_id_is_refused() -> None:
    codec = EncryptionCodec([NEW_KEY, OLD_KEY])
    [encoded] = await codec.encode([plain()])
    relabelled = Payload(metadata={"encoding": ENCODING, KEY_ID: b"k1"}, data=encoded.data)

    with pytest.raises(CodecError, match="'k1' failed authentication"):
        await codec.decode([relabelled])


async def test_a_payload_under_an_unknown_key_id_is_a_clear_error() -> None:
    [encoded] = await EncryptionCodec([NEW_KEY]).encode([plain()])

    with pytest.raises(CodecError, match=r"unknown key id 'k2' \(known: k1\)"):
        await EncryptionCodec([OLD_KEY]).decode([encoded])


async def test_a_payload_written_before_encryption_passes_through_decode() -> None:
    assert await EncryptionCodec([OLD_KEY]).decode([plain()]) == [plain()]


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ("", "at least one key"),
        ("k1", "<key id>:<base64 key>"),
        ("k1:not base64!", "not base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "32 bytes"),
        (spec(OLD_KEY, OLD_KEY), "repeated"),
    ],
)
def test_a_malformed_key_list_is_refused_naming_the_problem(keys: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        EncryptionCodec.from_spec(keys)


def test_the_keys_are_read_from_the_environment_and_never_printed() -> None:
    settings = TemporalSettings.from_env({"PARCELFLOW_CODEC_KEYS": spec(NEW_KEY, OLD_KEY)})

    assert settings.codec_keys is not None
    assert EncryptionCodec.from_spec(settings.codec_keys.get_secret_value()).key_ids == (
        "k2",
        "k1",
    )
    assert base64.b64encode(NEW_KEY[1]).decode() not in repr(settings)
    assert TemporalSettings.from_env({}).codec_keys is None


async def test_the_encrypting_converter_also_encodes_failure_messages() -> None:
    converter = data_converter(EncryptionCodec([OLD_KEY]))

    assert isinstance(converter.failure_converter, DefaultFailureConverterWithEncodedAttributes)
    assert converter.payload_codec is not None
    [sealed] = await converter.payload_codec.encode([plain()])
    assert sealed.metadata[KEY_ID] == b"k1"
    plain_converter = data_converter(None)
    assert not isinstance(
        plain_converter.failure_converter, DefaultFailureConverterWithEncodedAttributes
    )


def parcels(count: int) -> list[Parcel]:
    at = datetime(2026, 11, 22, tzinfo=UTC)
    return [
        Parcel(
            workflow_id=f"order-aliexpress-{8_100_000_000 + i * 7919}",
            carrier="china_post",
            number=f"RR{100_000_000 + i * 37:09d}CN",
            state="in_transit",
            uploaded_at=at + timedelta(seconds=i * 13),
        )
        for i in range(count)
    ]


async def test_a_listing_of_40000_parcels_fits_under_the_2_mb_payload_limit_once_compressed() -> (
    None
):
    listing = parcels(40_000)
    converter = data_converter(None)
    [raw] = converter.payload_converter.to_payloads([listing])
    assert raw.ByteSize() > 6 * 2**20  # three times what Temporal accepts

    [encoded] = await converter.encode([listing])
    assert encoded.metadata["encoding"] == COMPRESSED
    assert encoded.ByteSize() < 2**20
    assert await converter.decode([encoded], [list[Parcel]]) == [listing]


async def test_small_payloads_stay_readable_and_incompressible_ones_as_they_are() -> None:
    codec = CompressionCodec()
    small = plain()
    noise = plain(os.urandom(COMPRESS_ABOVE * 2))

    assert await codec.encode([small, noise]) == [small, noise]


async def test_compressed_then_encrypted_and_back_and_a_corrupt_one_is_named() -> None:
    chain = ChainCodec(CompressionCodec(), EncryptionCodec([OLD_KEY]))
    large = plain(json.dumps([{"buyer_name": "Zhang Wei", "n": i} for i in range(9_000)]).encode())

    [sealed] = await chain.encode([large])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.ByteSize() < large.ByteSize() / 4
    assert b"Zhang" not in sealed.SerializeToString()
    assert await chain.decode([sealed]) == [large]

    corrupt = Payload(metadata={"encoding": COMPRESSED}, data=b"not zlib")
    with pytest.raises(CodecError, match="compressed payload is corrupt"):
        await CompressionCodec().decode([corrupt])


@pytest.fixture
def codec_server() -> Iterator[str]:
    codec = encrypting(EncryptionCodec([NEW_KEY, OLD_KEY]))
    app = create_app(codec, allowed_origins=[UI_ORIGIN], token=TOKEN)
    with serve_in_thread(app) as url:
        yield url


def wire(*payloads: Payload) -> dict[str, object]:
    """The codec-server JSON of ``payloads`` (protobuf JSON: bytes as base64)."""
    return MessageToDict(Payloads(payloads=payloads))


AUTH = {"authorization": f"Bearer {TOKEN}", "x-namespace": "default"}


async def test_the_codec_server_decodes_for_the_ui_to_the_original_payload(
    codec_server: str,
) -> None:
    [encoded] = await EncryptionCodec([OLD_KEY]).encode([plain()])
    async with httpx.AsyncClient(base_url=codec_server) as http:
        answer = await http.post("/decode", json=wire(encoded, plain(b"1")), headers=AUTH)

    assert answer.status_code == 200
    decoded = [base64.b64decode(p["data"]) for p in answer.json()["payloads"]]
    assert decoded == [SECRET_TEXT, b"1"]
    assert answer.json()["payloads"][0]["metadata"]["encoding"] == (
        base64.b64encode(b"json/plain").decode()
    )


async def test_the_codec_server_decodes_a_large_payload_the_workers_compressed_and_encrypted(
    codec_server: str,
) -> None:
    large = plain(json.dumps([{"buyer_name": "Zhang Wei", "n": i} for i in range(9_000)]).encode())
    codec = data_converter(EncryptionCodec([OLD_KEY])).payload_codec
    assert codec is not None
    [sealed] = await codec.encode([large])
    async with httpx.AsyncClient(base_url=codec_server) as http:
        answer = await http.post("/decode", json=wire(sealed), headers=AUTH)

    assert answer.status_code == 200
    assert base64.b64decode(answer.json()["payloads"][0]["data"]) == large.data


async def test_the_codec_server_encodes_what_it_decodes(codec_server: str) -> None:
    async with httpx.AsyncClient(base_url=codec_server) as http:
        encoded = await http.post("/encode", json=wire(plain()), headers=AUTH)
        decoded = await http.post("/decode", content=encoded.content, headers=AUTH)

    metadata = encoded.json()["payloads"][0]["metadata"]
    assert base64.b64decode(metadata["encoding"]) == ENCODING
    assert base64.b64decode(metadata[KEY_ID]) == b"k2"
    assert decoded.json() == wire(plain())


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}],
    ids=["missing", "wrong", "not-bearer"],
)
async def test_the_codec_server_refuses_a_caller_without_the_token(
    codec_server: str, headers: dict[str, str]
) -> None:
    [encoded] = await EncryptionCodec([OLD_KEY]).encode([plain()])
    async with httpx.AsyncClient(base_url=codec_server) as http:
        refused = await http.post("/decode", json=wire(encoded), headers=headers)

    assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
    assert "Zhang" not in refused.text


async def test_the_codec_server_lets_the_ui_origin_call_it_and_no_other(
    codec_server: str,
) -> None:
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-namespace",
    }
    async with httpx.AsyncClient(base_url=codec_server) as http:
        ui = await http.options("/decode", headers={"origin": UI_ORIGIN, **preflight})
        other = await http.options(
            "/decode", headers={"origin": "https://evil.example", **preflight}
        )

    assert ui.status_code == 200
    assert ui.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "authorization" in ui.headers["access-control-allow-headers"].lower()
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"not json", 400, "malformed_payloads"),
        (b"[1, 2]", 400, "malformed_payloads"),
        (b'{"payloads": "x"}', 400, "malformed_payloads"),
        (
            json.dumps(wire(Payload(metadata={"encoding": ENCODING, KEY_ID: b"k9"}))).encode(),
            422,
            "undecodable",
        ),
    ],
    ids=["not-json", "not-an-object", "not-payloads", "unknown-key"],
)
async def test_the_codec_server_refuses_what_it_cannot_decode_with_a_json_4xx(
    codec_server: str, body: bytes, status: int, error: str
) -> None:
    async with httpx.AsyncClient(base_url=codec_server) as http:
        refused = await http.post("/decode", content=body, headers=AUTH)

    assert (refused.status_code, refused.json()["error"]) == (status, error)


def test_the_codec_server_reads_its_settings_from_the_environment() -> None:
    settings = CodecSettings.from_env(
        {
            "PARCELFLOW_CODEC_KEYS": spec(OLD_KEY),
            "PARCELFLOW_CODEC_ORIGINS": "https://ui.example, http://localhost:8233",
            "PARCELFLOW_CODEC_TOKEN": TOKEN,
            "PARCELFLOW_CODEC_PORT": "9000",
        }
    )

    assert settings.origins == ("https://ui.example", "http://localhost:8233")
    assert settings.token is not None
    assert settings.token.get_secret_value() == TOKEN
    assert (settings.host, settings.port) == ("127.0.0.1", 9000)
    assert TOKEN not in repr(settings)
