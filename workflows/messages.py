"""What goes in and out of the order workflow: its input, its query view, its outcome."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.events import AnyFact
from domain.order import Deadline, Order, OrderFacts
from domain.states import OrderState


class OrderInput(BaseModel):
    """The workflow input: the order's facts, or the whole order when continued as new."""

    facts: OrderFacts
    carried: Order | None = None
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

    @property
    def state(self) -> OrderState:
        """The order's state."""
        return self.order.state


class OrderOutcome(BaseModel):
    """How the order's life ended."""

    state: OrderState
    resolution: str | None
    order: Order
