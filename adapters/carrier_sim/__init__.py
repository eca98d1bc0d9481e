"""A local 17TRACK v2.2 simulator: scripted parcels, injectable clock, faults, signed pushes."""

from adapters.carrier_sim.app import create_app
from adapters.carrier_sim.push import push_due
from adapters.carrier_sim.scripts import Journey, Outcome
from adapters.carrier_sim.state import Fault, ParcelScript, ScriptedEvent, SettableClock, SimState

__all__ = [
    "Fault",
    "Journey",
    "Outcome",
    "ParcelScript",
    "ScriptedEvent",
    "SettableClock",
    "SimState",
    "create_app",
    "push_due",
]
