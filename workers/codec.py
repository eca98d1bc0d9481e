"""Payload codecs: large payloads compressed, and optionally every payload encrypted.

Compression: a payload over ``COMPRESS_ABOVE`` bytes (a poller's listing of thousands of
parcels, a store's records carried across continue-as-new) is stored zlib-compressed, whole,
with the encoding ``binary/zlib``, when that makes it smaller: Temporal refuses payloads over
2 MB, and a listing of 11,000 parcels is 2 MB as JSON. Small payloads stay as they are, readable
in the Temporal UI without a codec server.

Encryption (AES-256-GCM) so that histories at rest on Temporal hold no readable data.
Every payload the SDK writes (workflow inputs, signals, activity arguments and results, queries,
failure messages and stack traces) is serialized whole, encrypted under the first configured
key, and stored as a new payload whose metadata names the encoding (``binary/encrypted``) and
the key (``encryption-key-id``). Every configured key decrypts, so keys rotate: put the new key
first, keep the old ones until no history that needs them is retained.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import zlib
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from domain.errors import InvalidInput, ParcelflowError

COMPRESSED = b"binary/zlib"
COMPRESS_ABOVE = 64 * 1024
"""Payloads larger than this (serialized) are compressed; smaller ones are left readable."""
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_SIZE = 12
KEY_SIZE = 32


class CodecError(ParcelflowError):
    """A payload that cannot be decrypted: unknown key id, or tampered with (GCM tag mismatch)."""


class CompressionCodec(PayloadCodec):
    """zlib over whole payloads above ``above`` bytes; any other payload passes through."""

    def __init__(self, above: int = COMPRESS_ABOVE) -> None:
        self._above = above

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Compress each large payload, whole, when that makes it smaller."""
        return [self._pack(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Restore compressed payloads; pass any other through."""
        return [self._unpack(payload) for payload in payloads]

    def _pack(self, payload: Payload) -> Payload:
        if payload.ByteSize() <= self._above:
            return payload
        plain = payload.SerializeToString()
        packed = zlib.compress(plain)
        if len(packed) >= len(plain):
            return payload
        return Payload(metadata={"encoding": COMPRESSED}, data=packed)

    def _unpack(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != COMPRESSED:
            return payload
        try:
            plain = zlib.decompress(payload.data)
        except zlib.error as error:
            raise CodecError(f"compressed payload is corrupt: {error}") from error
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


class ChainCodec(PayloadCodec):
    """``codecs`` applied in order on encode (compress, then encrypt) and reversed on decode."""

    def __init__(self, *codecs: PayloadCodec) -> None:
        self._codecs = codecs

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Each codec in turn."""
        encoded = list(payloads)
        for codec in self._codecs:
            encoded = await codec.encode(encoded)
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Each codec in reverse order."""
        decoded = list(payloads)
        for codec in reversed(self._codecs):
            decoded = await codec.decode(decoded)
        return decoded


class EncryptionCodec(PayloadCodec):
    """AES-GCM over whole payloads; the first key encrypts, every key decrypts (rotation)."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise InvalidInput("codec keys", "must name at least one key")
        for key_id, key in keys:
            if not key_id or len(key) != KEY_SIZE:
                raise InvalidInput("codec keys", f"key {key_id!r} must be {KEY_SIZE} bytes")
        self.key_id = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def from_spec(cls, spec: str) -> EncryptionCodec:
        """Keys from ``"k2:<base64 32 bytes>,k1:<base64 32 bytes>"`` (the first encrypts)."""
        return cls(parse_keys(spec))

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id this codec decrypts, the encrypting one first."""
        return tuple(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload, whole, under the first key with a fresh random nonce."""
        cipher = self._ciphers[self.key_id]
        encoded: list[Payload] = []
        for payload in payloads:
            nonce = os.urandom(NONCE_SIZE)
            # The key id is authenticated too: relabelling a payload with another key id fails.
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), self.key_id.encode())
            metadata = {"encoding": ENCODING, KEY_ID: self.key_id.encode()}
            encoded.append(Payload(metadata=metadata, data=nonce + sealed))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt encrypted payloads; pass any other payload (written before the codec) through."""
        return [self._open(payload) for payload in payloads]

    def _open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(self._ciphers)
            raise CodecError(f"payload encrypted with unknown key id {key_id!r} (known: {known})")
        nonce, sealed = payload.data[:NONCE_SIZE], payload.data[NONCE_SIZE:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag as error:
            raise CodecError(f"payload under key {key_id!r} failed authentication") from error
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """``[(key_id, key)]`` from ``"id:<base64>,..."``; ``InvalidInput`` naming a bad entry."""
    keys: list[tuple[str, bytes]] = []
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        key_id, colon, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not colon or not key_id:
            raise InvalidInput("PARCELFLOW_CODEC_KEYS", "entries must be <key id>:<base64 key>")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as error:
            raise InvalidInput("PARCELFLOW_CODEC_KEYS", f"key {key_id!r} is not base64") from error
        if any(known == key_id for known, _ in keys):
            raise InvalidInput("PARCELFLOW_CODEC_KEYS", f"key id {key_id!r} is repeated")
        keys.append((key_id, key))
    return keys


def encrypting(codec: EncryptionCodec) -> PayloadCodec:
    """What the workers apply with encryption on: large payloads compressed, then every payload
    encrypted (the codec server decodes with the same chain)."""
    return ChainCodec(CompressionCodec(), codec)


def data_converter(codec: EncryptionCodec | None) -> DataConverter:
    """parcelflow's pydantic converter, large payloads compressed; with ``codec`` (encryption),
    payloads (compressed first) and failure messages encrypted."""
    if codec is None:
        return dataclasses.replace(pydantic_data_converter, payload_codec=CompressionCodec())
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=encrypting(codec),
        # Failure messages and stack traces are payloads too: they can quote inputs.
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
