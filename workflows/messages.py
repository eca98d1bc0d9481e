"""What goes in and out of the order workflow: its input, its query view, its outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.events import AnyFact
from domain.order import Deadline, Order, OrderFacts
from domain.states import OrderState


class OrderInput(BaseModel):
    """The workflow input: the order's facts, or the whole order when continued as new.

    ``facts`` is None when an outside fact (a scan, a dispute) arrived before the order-creation
    hook: the workflow then keeps those facts until ``created`` brings the order (H3).
    """

    facts: OrderFacts | None = None
    carried: Order | None = None
    wait_for_creation: timedelta = timedelta(days=7)
    reship: tuple[str, str] | None = None
    """R16: (carrier, number) of a replacement parcel this order follows from its start."""
    continue_as_new_after: int = 2_000
    """History events after which the run hands its state to a fresh run."""


class FactEnvelope(BaseModel):
    """One outside fact, as the ``fact`` signal carries it (validated by its ``kind``)."""

    model_config = ConfigDict(frozen=True)

    fact: AnyFact


class OrderView(BaseModel):
    """The ``view`` query: the whole order and its next deadlines, earliest first."""

    order: Order
    deadlines: list[Deadline]
    as_of: datetime
    alternatives: list[str] = []
    """R9: the sanctioned ways left once the number can no longer be withdrawn."""

    @property
    def state(self) -> OrderState:
        """The order's state."""
        return self.order.state


class OrderOutcome(BaseModel):
    """How the order's life ended (``order`` is None if its creation hook never came)."""

    state: OrderState | None
    resolution: str | None
    order: Order | None
