"""What the hook server reads and writes: hook bodies, answers, refusals and 17TRACK tags."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from domain.errors import InvalidInput
from domain.events import AnyFact, CarrierFact, Fact
from domain.money import Money
from domain.order import OrderFacts, workflow_id_for

FACT = TypeAdapter[Fact](AnyFact)
FACT_KINDS = sorted(
    str(kind.value)
    for member in get_args(Fact)
    for kind in get_args(member.model_fields["kind"].annotation)
)

T = TypeVar("T")


class OrderCreatedHook(BaseModel):
    """The marketplace's order-created hook. Buyer personal data is accepted and discarded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    marketplace: str = "aliexpress"
    order_id: str
    seller_id: str
    total: Money
    paid_at: AwareDatetime
    eta: AwareDatetime | None = None
    category: str | None = Field(
        default=None,
        description="The product category (R13: jewellery, watches and phone accessories need "
        "photo proof of delivery whatever the value).",
        examples=["watches"],
    )
    platform_supports_withdrawal: bool = True
    buyer: Annotated[
        dict[str, Any] | None,
        Field(
            repr=False,
            exclude=True,
            description="The buyer's name, address, phone or email: accepted, never kept.",
        ),
    ] = None

    @field_validator("buyer", mode="after")
    @classmethod
    def _drop_buyer(cls, _value: dict[str, Any] | None) -> None:
        # Personal data must not reach a workflow's history or a log: forget it at the door.
        return None

    def facts(self) -> OrderFacts:
        """The workflow's input; raises ``ValidationError`` naming a malformed id."""
        return OrderFacts.model_validate(self.model_dump(exclude={"buyer"}))


class HookAnswer(BaseModel):
    """A delivery taken (``accepted``), or one that changes nothing (the other statuses)."""

    status: str = Field(
        description="accepted | already_processed | duplicate | ignored",
        examples=["accepted"],
    )
    workflow_id: str | None = None
    reason: str | None = Field(default=None, description="Why an ignored push changed nothing.")
    facts: int | None = Field(default=None, description="Facts delivered from a 17TRACK push.")


class FieldProblem(BaseModel):
    """One malformed field of a hook body, named by its dotted path."""

    field: str
    problem: str


class Refusal(BaseModel):
    """A refused hook: ``error`` names the problem; nothing was started or changed."""

    error: str = Field(
        description="bad_signature | stale_timestamp | future_timestamp | missing_header | "
        "malformed_header | no_secret | malformed_json | invalid_body | unavailable | ..."
    )
    detail: str | None = None
    fields: list[FieldProblem] | None = None


class BodyError(Exception):
    """A hook body that cannot be read (400) or is not the expected shape (422)."""

    def __init__(self, status: int, refusal: Refusal) -> None:
        super().__init__(refusal.error)
        self.status = status
        self.refusal = refusal


def invalid(problems: list[FieldProblem]) -> BodyError:
    """The 422 refusal naming each malformed field."""
    return BodyError(422, Refusal(error="invalid_body", fields=problems))


def parsed(body: bytes, parse: Callable[[bytes], T]) -> T:
    """``parse(body)`` of a JSON-object body; ``BodyError`` when it is not JSON (400), not an
    object, or ``parse`` finds a field missing or malformed (422, naming the field)."""
    json_object(body)
    try:
        return parse(body)
    except InvalidInput as refused:
        raise invalid([FieldProblem(field=refused.field, problem=refused.problem)]) from refused


def json_object(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``; ``BodyError`` when it is not JSON (400) or not an object."""
    try:
        data = json.loads(body)
    except ValueError as error:
        detail = "the body is not valid JSON"
        raise BodyError(400, Refusal(error="malformed_json", detail=detail)) from error
    if not isinstance(data, dict):
        raise invalid([FieldProblem(field="body", problem="must be a JSON object")])
    return data


def field_problems(error: ValidationError, tag: object = None) -> list[FieldProblem]:
    """Each problem of ``error`` with its dotted field; never echoes the offending value."""
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        loc = list(item["loc"])
        if tag is not None and loc and loc[0] == tag:
            loc = loc[1:]  # a discriminated union prefixes the tag; the sender never wrote it
        problem = item["msg"]
        if item["type"] in {"union_tag_invalid", "union_tag_not_found"}:
            loc, problem = ["kind"], f"must be one of {', '.join(FACT_KINDS)}"
        problems.append(
            FieldProblem(field=".".join(str(p) for p in loc) or "body", problem=problem)
        )
    return problems


def order_facts(body: bytes) -> OrderFacts:
    """The order-created hook's facts; ``BodyError`` naming what is wrong."""
    data = json_object(body)
    try:
        return OrderCreatedHook.model_validate(data).facts()
    except ValidationError as error:
        raise invalid(field_problems(error)) from error


def fact(body: bytes, default_event_id: str) -> Fact:
    """The fact a marketplace event hook carries; its ``event_id`` defaults to the webhook id.

    A carrier fact must name its tracking number: it is about one parcel, and the order may no
    longer carry it (R10)."""
    data = json_object(body)
    data.setdefault("event_id", default_event_id)
    try:
        parsed = FACT.validate_python(data)
    except ValidationError as error:
        raise invalid(field_problems(error, tag=data.get("kind"))) from error
    if isinstance(parsed, CarrierFact) and parsed.tracking_number is None:
        problem = "a carrier fact must name the tracking number it is about"
        raise invalid([FieldProblem(field="tracking_number", problem=problem)])
    return parsed


def workflow_id(marketplace: str, order_id: str) -> str:
    """The order's workflow id; ``BodyError`` when the path's ids are malformed."""
    try:
        return workflow_id_for(marketplace, order_id)
    except ValueError as error:
        field = "marketplace" if str(error).startswith("marketplace") else "order_id"
        raise invalid([FieldProblem(field=field, problem=str(error))]) from error


def order_of_tag(tag: object) -> tuple[str, str] | None:
    """The (marketplace, order id) of a 17TRACK tag ``order-{marketplace}-{order_id}``.

    We register numbers with the order's workflow id as tag. Marketplace names hold no dash,
    so the first dash after ``order-`` ends the marketplace (order ids may hold dashes).
    """
    if not isinstance(tag, str) or not tag.startswith("order-"):
        return None
    marketplace, dash, order_id = tag.removeprefix("order-").partition("-")
    try:
        matches = dash and workflow_id_for(marketplace, order_id) == tag
    except ValueError:
        return None
    return (marketplace, order_id) if matches else None


class RecentIds:
    """A bounded LRU of webhook ids already acknowledged."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or key not in self._ids:
            return False
        self._ids.move_to_end(key)
        return True

    def add(self, key: str) -> None:
        """Remember ``key``, forgetting the least recently seen id beyond the bound."""
        self._ids[key] = None
        self._ids.move_to_end(key)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)
