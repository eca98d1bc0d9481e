"""Carrier-claim activities: one per ``CarrierClaims`` call, filing keyed by its idempotency key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import activity

from activities.errors import translated
from domain.claims import CarrierAnswer, CheckClaim, FileClaim
from domain.errors import PermanentPortError
from domain.ports import CarrierClaims


class ClaimActivities:
    """Thin activities over a ``CarrierClaims`` port (the composition root chooses which)."""

    def __init__(self, claims: CarrierClaims) -> None:
        self._claims = claims

    @activity.defn(name="claims.supports_api")
    async def supports_api(self, carrier: str) -> bool:
        """Whether ``carrier`` takes claims by API (else an operator files by hand)."""
        return self._claims.supports_api(carrier)

    @activity.defn(name="claims.file")
    async def file_claim(self, command: FileClaim) -> str:
        """File the claim once per idempotency key; the carrier's claim reference."""
        return await translated(self._claims.file_claim(command))

    @activity.defn(name="claims.status")
    async def claim_status(self, command: CheckClaim) -> CarrierAnswer:
        """The claim's status at the carrier: paid (with amount), rejected or pending."""
        return await translated(self._claims.claim_status(command.carrier, command.claim_ref))

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Every activity of this class, for the worker."""
        return [self.supports_api, self.file_claim, self.claim_status]


class UnconfiguredClaims:
    """The claims port of a worker with no carrier claim API: every claim goes to an operator."""

    def supports_api(self, carrier: str) -> bool:
        del carrier
        return False

    async def file_claim(self, claim: FileClaim) -> str:
        raise PermanentPortError(f"no claim API configured for {claim.carrier}")

    async def claim_status(self, carrier: str, claim_ref: str) -> CarrierAnswer:
        raise PermanentPortError(f"no claim API configured for {carrier} ({claim_ref})")
