"""A local AliExpress-style marketplace: the same signed protocol, its own rules, a ledger."""

from adapters.platform_sim.app import create_app
from adapters.platform_sim.rules import SimRules
from adapters.platform_sim.state import Fault, LedgerEntry, SimState

__all__ = ["Fault", "LedgerEntry", "SimRules", "SimState", "create_app"]
