"""Money as integer minor units with a currency: no floats anywhere near a refund."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class Money(BaseModel):
    """An amount in minor units (cents) of ``currency``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    minor: Annotated[StrictInt, Field(ge=0)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"

    @property
    def decimal_str(self) -> str:
        """The amount in major units with two decimals, as the platforms write it (``"12.30"``)."""
        return f"{self.minor // 100}.{self.minor % 100:02d}"

    def __str__(self) -> str:
        return f"{self.decimal_str} {self.currency}"
