"""The carriers parcelflow knows by name, and how a seller's spelling maps to one (R2)."""

from __future__ import annotations

from enum import StrEnum


class Carrier(StrEnum):
    """A carrier whose tracking-number format parcelflow checks. Values are stored codes."""

    CHINA_POST = "china_post"
    EMS = "ems"
    CAINIAO = "cainiao"
    YANWEN = "yanwen"
    FOURPX = "4px"
    YUNEXPRESS = "yunexpress"
    SF = "sf"

    @property
    def display_name(self) -> str:
        """The name sellers and buyers know the carrier by."""
        return DISPLAY_NAMES[self]


DISPLAY_NAMES: dict[Carrier, str] = {
    Carrier.CHINA_POST: "China Post",
    Carrier.EMS: "EMS",
    Carrier.CAINIAO: "Cainiao",
    Carrier.YANWEN: "Yanwen",
    Carrier.FOURPX: "4PX",
    Carrier.YUNEXPRESS: "YunExpress",
    Carrier.SF: "SF Express",
}

# Keys are folded (lower case, no spaces, dashes or underscores): see ``_fold``.
ALIASES: dict[str, Carrier] = {
    "chinapost": Carrier.CHINA_POST,
    "cpam": Carrier.CHINA_POST,
    "chinaems": Carrier.EMS,
    "emschina": Carrier.EMS,
    "cainiaoexpress": Carrier.CAINIAO,
    "aliexpressstandard": Carrier.CAINIAO,
    "yanwenexpress": Carrier.YANWEN,
    "fourpx": Carrier.FOURPX,
    "4pxexpress": Carrier.FOURPX,
    "yun": Carrier.YUNEXPRESS,
    "yuntu": Carrier.YUNEXPRESS,
    "sfexpress": Carrier.SF,
    "shunfeng": Carrier.SF,
}


def _fold(text: str) -> str:
    return "".join(ch for ch in text.strip().lower() if ch not in " -_")


def parse_carrier(text: str) -> Carrier | None:
    """The carrier a seller means by ``text`` (any case, common aliases), or ``None``."""
    folded = _fold(text)
    for carrier in Carrier:
        if folded in {_fold(carrier.value), _fold(carrier.name), _fold(carrier.display_name)}:
            return carrier
    return ALIASES.get(folded)


def carrier_codes() -> list[str]:
    """Every carrier code parcelflow validates, in a stable order (for help and errors)."""
    return [carrier.value for carrier in Carrier]
