"""17TRACK's vocabulary: carrier keys, error codes and limits of API v2.2 (karrio-style units)."""

from __future__ import annotations

from domain.carriers import Carrier, parse_carrier

BASE_URL = "https://api.17track.net/track/v2.2"
TOKEN_HEADER = "17token"  # noqa: S105 -- the header's name, not a secret
SIGN_HEADER = "sign"

# The real API takes at most 40 numbers a request; R12 allows 50 (domain.polling.MAX_BATCH).
API_MAX_BATCH = 40
MAX_REQUESTS_PER_SECOND = 3.0
"""17TRACK's request frequency limit per API key; above it the API answers HTTP 429 (its API
document, "Request frequency limit"; see tests/contracts/SOURCES.md)."""

# 17TRACK carrier keys. China Post 3011 and China EMS 3013 are checked against public client
# code; the others follow 17TRACK's carrier list as the project brief gives it.
CARRIER_KEYS: dict[Carrier, int] = {
    Carrier.CHINA_POST: 3011,
    Carrier.EMS: 3013,
    Carrier.CAINIAO: 190271,
    Carrier.YANWEN: 190012,
    Carrier.FOURPX: 190094,
    Carrier.YUNEXPRESS: 190008,
    Carrier.SF: 100012,
}
CARRIERS_BY_KEY: dict[int, Carrier] = {key: carrier for carrier, key in CARRIER_KEYS.items()}

# Error codes (``code`` of the envelope, or ``error.code`` of a rejected number).
ERR_IP_NOT_ALLOWED = -18010001
ERR_INVALID_TOKEN = -18010002
ERR_INTERNAL = -18010003
ERR_ACCOUNT_DISABLED = -18010004
ERR_UNAUTHORIZED = -18010005
ERR_INVALID_DATA = -18010012
ERR_TOO_MANY_NUMBERS = -18010014
ERR_ALREADY_REGISTERED = -18019901
ERR_NOT_REGISTERED = -18019902
ERR_CARRIER_NOT_DETECTED = -18019903
ERR_QUOTA_EXHAUSTED = -18019908
ERR_NO_TRACKING_INFO = -18019909

CREDENTIAL_ERRORS = frozenset(
    {ERR_IP_NOT_ALLOWED, ERR_INVALID_TOKEN, ERR_ACCOUNT_DISABLED, ERR_UNAUTHORIZED}
)
RETRYABLE_ERRORS = frozenset({ERR_INTERNAL})


def carrier_key(carrier: str) -> int | None:
    """17TRACK's key for one of our carrier codes; None lets 17TRACK detect the carrier."""
    known = parse_carrier(carrier)
    return CARRIER_KEYS[known] if known else None


def carrier_code(key: int | None) -> str | None:
    """Our carrier code for a 17TRACK key, or None for a carrier we do not name."""
    known = CARRIERS_BY_KEY.get(key) if key is not None else None
    return known.value if known else None
