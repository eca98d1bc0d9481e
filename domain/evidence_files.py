"""Dispute evidence files (R15): what a seller submits, checked before it is sent."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

MAX_IMAGE_BYTES = 5 * 1024 * 1024
"""The largest image a dispute accepts as evidence (5 MB)."""


class EvidenceKind(StrEnum):
    """What a piece of dispute evidence shows."""

    SHIPPING_LABEL = "shipping_label"
    PACKING_VIDEO = "packing_video"
    CARRIER_STATEMENT = "carrier_statement"
    TRACKING_HISTORY = "tracking_history"
    PROOF_OF_DELIVERY = "proof_of_delivery"
    CHAT_RECORD = "chat_record"
    OTHER = "other"


class Evidence(BaseModel):
    """One file the seller submits to a dispute: its kind, name, media type and bytes.

    The name is a bare file name (no directory part); the data is never empty and an image is at
    most ``MAX_IMAGE_BYTES``. Whether a marketplace accepts a media type is the adapter's call.
    """

    # Base64 in JSON: the default (UTF-8) cannot carry binary files through Temporal payloads.
    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    kind: EvidenceKind
    filename: str
    content_type: str
    data: bytes

    @field_validator("filename")
    @classmethod
    def _bare_name(cls, value: str) -> str:
        name = value.strip()
        if not name or name in {".", ".."}:
            raise ValueError("the file name is empty")
        if any(sep in name for sep in ("/", "\\", "\x00")):
            raise ValueError("the file name must not contain a path separator")
        return name

    @field_validator("content_type")
    @classmethod
    def _media_type(cls, value: str) -> str:
        kind, slash, subtype = value.strip().lower().partition("/")
        if not (kind and slash and subtype):
            raise ValueError(f"{value!r} is not a media type (type/subtype)")
        return f"{kind}/{subtype}"

    @field_validator("data")
    @classmethod
    def _not_empty(cls, value: bytes) -> bytes:
        if not value:
            raise ValueError("the evidence file is empty")
        return value

    @model_validator(mode="after")
    def _image_size(self) -> Evidence:
        if self.is_image and len(self.data) > MAX_IMAGE_BYTES:
            raise ValueError(f"an image is at most {MAX_IMAGE_BYTES} bytes, got {len(self.data)}")
        return self

    @property
    def is_image(self) -> bool:
        """Whether the file is an image (``image/*``)."""
        return self.content_type.startswith("image/")

    @property
    def extension(self) -> str:
        """The file name's extension, lower-case without the dot ('' when it has none)."""
        _, dot, ext = self.filename.rpartition(".")
        return ext.lower() if dot else ""
