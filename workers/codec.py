"""Payload encryption (AES-256-GCM) so that histories at rest on Temporal hold no readable data.

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

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_SIZE = 12
KEY_SIZE = 32


class CodecError(ParcelflowError):
    """A payload that cannot be decrypted: unknown key id, or tampered with (GCM tag mismatch)."""


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


def data_converter(codec: PayloadCodec | None) -> DataConverter:
    """parcelflow's pydantic converter; with ``codec``, payloads and failure messages encrypted."""
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        # Failure messages and stack traces are payloads too: they can quote inputs.
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
