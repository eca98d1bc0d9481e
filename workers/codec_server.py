"""The codec server: the Temporal UI and CLI show encrypted payloads through it, decrypted.

It speaks the Temporal codec-server protocol: ``POST /encode`` and ``POST /decode`` take and
answer ``{"payloads": [{"metadata": {...}, "data": "<base64>"}]}`` (the protobuf JSON of
``Payloads``). The UI calls it from the browser, so its origin must be allowed (CORS), and with
a token configured every call needs ``Authorization: Bearer <token>`` (the UI's "pass access
token" option). The server holds the keys: run it where operators, not the cluster, can reach.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence

import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from domain.errors import InvalidInput
from workers.codec import CodecError, EncryptionCodec, encrypting
from workers.exits import EXIT_BAD_CONFIG, exit_process
from workers.logging import configure_logging

log = structlog.get_logger("parcelflow.codec")

MAX_BODY = 4 * 1024 * 1024
"""A UI page decodes a history's payloads in batches; anything bigger is refused unread."""

_Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


class CodecSettings(BaseModel):
    """The codec server's configuration, from ``PARCELFLOW_*`` environment variables."""

    model_config = ConfigDict(frozen=True)

    keys: SecretStr
    origins: tuple[str, ...] = ("http://localhost:8233",)
    token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8081

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CodecSettings:
        """Read ``PARCELFLOW_CODEC_KEYS``, ``_CODEC_ORIGINS`` (comma-separated UI origins),
        ``_CODEC_TOKEN``, ``_CODEC_HOST`` and ``_CODEC_PORT``."""
        env = os.environ if env is None else env
        origins = tuple(o.strip() for o in env.get("PARCELFLOW_CODEC_ORIGINS", "").split(","))
        pairs = {
            "keys": env.get("PARCELFLOW_CODEC_KEYS"),
            "origins": tuple(o for o in origins if o),
            "token": env.get("PARCELFLOW_CODEC_TOKEN"),
            "host": env.get("PARCELFLOW_CODEC_HOST"),
            "port": env.get("PARCELFLOW_CODEC_PORT"),
        }
        return cls.model_validate({k: v for k, v in pairs.items() if v})


def _refuse(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def create_app(
    codec: PayloadCodec, *, allowed_origins: Sequence[str], token: str | None
) -> FastAPI:
    """The codec endpoints over ``codec``, callable from ``allowed_origins``; with ``token``,
    only by callers presenting it as a bearer token."""
    app = FastAPI(title="parcelflow codec server", version="1")

    def authorized(request: Request) -> bool:
        if token is None:
            return True
        given = request.headers.get("authorization", "")
        scheme, _, credential = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode(), token.encode()
        )

    async def transform(request: Request, apply: _Transform) -> Response:
        if not authorized(request):
            return _refuse(401, "unauthorized", "a valid bearer token is required")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _refuse(413, "body_too_large", f"at most {MAX_BODY} bytes")
        payloads = Payloads()
        try:
            ParseDict(_json_object(body), payloads)
        except (ValueError, TypeError, ParseError) as error:
            return _refuse(400, "malformed_payloads", str(error))
        try:
            result = await apply(list(payloads.payloads))
        except CodecError as error:
            # Names the key id or the failed check; never the payload.
            return _refuse(422, "undecodable", str(error))
        return JSONResponse(MessageToDict(Payloads(payloads=result)))

    async def encode(request: Request) -> Response:
        """Encrypt payloads (``temporal`` CLI and UI inputs: signals, queries)."""
        return await transform(request, codec.encode)

    async def decode(request: Request) -> Response:
        """Decrypt payloads for display; non-encrypted payloads come back unchanged."""
        namespace = request.headers.get("x-namespace", "")
        log.debug("codec_decode", namespace=namespace)
        return await transform(request, codec.decode)

    app.add_api_route("/encode", encode, methods=["POST"])
    app.add_api_route("/decode", decode, methods=["POST"])
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(allowed_origins),
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace"],
        allow_credentials=True,
    )
    return app


def _json_object(body: bytes) -> dict[str, object]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise TypeError("the body must be a JSON object with a payloads list")
    return data


def main() -> None:
    """``python -m workers.codec_server``: serve the codec endpoints until SIGINT or SIGTERM."""
    configure_logging()
    try:
        settings = CodecSettings.from_env()
        codec = EncryptionCodec.from_spec(settings.keys.get_secret_value())
    except (InvalidInput, ValidationError) as error:
        log.error("bad configuration", problem=str(error))  # noqa: TRY400
        exit_process(EXIT_BAD_CONFIG)
    token = settings.token.get_secret_value() if settings.token else None
    app = create_app(encrypting(codec), allowed_origins=settings.origins, token=token)
    log.info("codec server listening", host=settings.host, port=settings.port, keys=codec.key_ids)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
