"""The chaos run's marketplace: access tokens that expire during the run, counted refusals.

The simulated platform issues short-lived access tokens (``open_tokens=False``), so the worker
refreshes them several times a run, before their known expiry or after a refusal. Each worker
process starts from a fresh authorisation (``Grants``): the client keeps its tokens in memory
only, and the simulator retires a refresh token once used, so a restarted worker given the
first grant again could not refresh (docs/marketplace.md, "Tokens", limits).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters import platform_sim
from adapters.platform_sim.gateway import REFRESH_PATH
from adapters.platform_sim.rules import SimRefusal
from adapters.platform_sim.state import Fault
from adapters.platform_sim.tokens import SimGrant, SimTokens

ACCESS_ENV = "PARCELFLOW_ALIEXPRESS_ACCESS_TOKEN"
REFRESH_ENV = "PARCELFLOW_ALIEXPRESS_REFRESH_TOKEN"
EXPIRES_ENV = "PARCELFLOW_ALIEXPRESS_TOKEN_EXPIRES_AT"


class CountingTokens(SimTokens):
    """The simulator's tokens, counting the calls refused for their access token and the
    refresh tokens refused (a refused refresh token fails every later call: none may be)."""

    def __init__(self, now: Callable[[], datetime], access_ttl: timedelta) -> None:
        super().__init__(now, open_access=False, access_ttl=access_ttl)
        self._counting = threading.Lock()
        self.refused_access = 0
        self.refused_refresh = 0

    def accepts(self, access_token: str) -> bool:
        """Whether the call may run; a refusal counted."""
        accepted = super().accepts(access_token)
        if not accepted:
            with self._counting:
                self.refused_access += 1
        return accepted

    def refresh(self, refresh_token: str) -> SimGrant:
        """A refresh; a refused refresh token counted."""
        try:
            return super().refresh(refresh_token)
        except SimRefusal:
            with self._counting:
                self.refused_refresh += 1
            raise


class ChaosMarket(platform_sim.SimState):
    """The marketplace simulator with one fault spared: a refresh performed with its answer
    lost. The simulator retires a refresh token once used, so that fault leaves the worker no
    token to refresh with, by the platform's rule as assumed (docs/marketplace.md): only a new
    authorisation helps. Its other faults (5xx, 429, a stall) hit the refresh as any call."""

    def take_fault(self, method: str) -> Fault | None:
        """The fault this call suffers (the refresh's execute-then-drop made a 5xx)."""
        fault = super().take_fault(method)
        if method == REFRESH_PATH and fault is Fault.EXECUTE_THEN_DROP:
            return Fault.ERROR_5XX
        return fault


@dataclass
class Grants:
    """The seller's authorisations, one per worker start. Every other worker is told when
    its access token expires (it refreshes a margin before); the others learn it from the
    platform's refusal of the expired token (they refresh then, and send the call again)."""

    tokens: SimTokens
    issued: int = 0

    def worker_env(self) -> dict[str, str]:
        """A fresh grant, as the worker's environment variables."""
        grant = self.tokens.grant()
        self.issued += 1
        env = {ACCESS_ENV: grant.access_token, REFRESH_ENV: grant.refresh_token}
        if self.issued % 2 == 1:
            env[EXPIRES_ENV] = grant.expires_at.isoformat()
        return env
