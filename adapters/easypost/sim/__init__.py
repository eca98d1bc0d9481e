"""A local EasyPost Claims API: the same protocol, its own rules, faults and a ledger."""

from adapters.easypost.sim.app import create_app
from adapters.easypost.sim.rules import SimRefusal
from adapters.easypost.sim.state import Fault, LedgerEntry, SimState

__all__ = ["Fault", "LedgerEntry", "SimRefusal", "SimState", "create_app"]
