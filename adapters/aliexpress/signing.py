"""The IOP gateway's request signature: upper-case hex HMAC-SHA256 over sorted key+value pairs."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_METHOD = "sha256"
"""The value of the ``sign_method`` system parameter for this algorithm."""


def string_to_sign(api: str, params: Mapping[str, str]) -> str:
    """The text the gateway signs.

    Every parameter but ``sign`` (system and business alike, files excluded) is sorted by
    name in byte order and written as ``name`` + ``value`` with no separator. For the REST
    style, where ``api`` is a path such as ``/auth/token/create``, the path comes first; for
    the ``method=aliexpress.x.y`` style nothing is prefixed (the method is one of the pairs).
    """
    pairs = "".join(f"{key}{params[key]}" for key in sorted(params) if key != "sign")
    return f"{api}{pairs}" if "/" in api else pairs


def sign(secret: str, api: str, params: Mapping[str, str]) -> str:
    """The ``sign`` parameter: HMAC-SHA256 keyed with the app secret, upper-case hex."""
    digest = hmac.new(
        secret.encode("utf-8"), string_to_sign(api, params).encode("utf-8"), hashlib.sha256
    )
    return digest.hexdigest().upper()


def verify(secret: str, api: str, params: Mapping[str, str]) -> bool:
    """Whether ``params`` carry the right ``sign`` for ``secret`` (constant-time compare)."""
    given = params.get("sign", "")
    return hmac.compare_digest(given, sign(secret, api, params))
