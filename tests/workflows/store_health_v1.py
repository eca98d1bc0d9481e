"""The ``StoreHealth`` workflow as committed before R7's own voids (commit 083cd19), kept to run a
store whose run began under that code: its ``voided`` signals were orders closed unfulfilled.

Test fixture only (tests/workflows/test_store_health.py); never registered by a real worker.
Below this docstring: that commit's ``workflows/store_health.py`` but its docstring, unchanged.
"""

from __future__ import annotations

import base64
import contextlib
import zlib
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
)
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from zoneinfo import ZoneInfo

    from domain.health import (
        HealthThresholds,
        PromisedDelivery,
        ShippedOrder,
        StoreHealth,
        VoidedOrder,
        Withdrawal,
        store_health,
    )

SellerId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""As ``OrderFacts.seller_id``: a store id, never personal data."""
DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The platform counts calendar months in China time (its wire times are GMT+8)."""


def store_workflow_id(seller_id: str) -> str:
    """The id of one seller's health workflow."""
    return f"store-health-{seller_id}"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    order_id: str


class WithdrawalRecord(_Record):
    """A tracking number withdrawn from an order (R7)."""

    kind: Literal["withdrawal"] = "withdrawal"
    at: AwareDatetime
    seq: int = 1
    """The withdrawn shipment's upload number: withdrawing a re-uploaded number counts again."""


class ShippedRecord(_Record):
    """An order shipped: the denominator of the monthly rates."""

    kind: Literal["shipped"] = "shipped"
    at: AwareDatetime


class VoidedRecord(_Record):
    """An order voided (cancelled after payment)."""

    kind: Literal["voided"] = "voided"
    at: AwareDatetime


class ParcelRecord(_Record):
    """A parcel on a carrier line with its promised delivery time; sent again once delivered."""

    kind: Literal["parcel"] = "parcel"
    carrier_line: str
    promised_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
    seq: int = 1
    """The order's parcel number: a reship is another parcel of the same order."""


HealthRecord = Annotated[
    WithdrawalRecord | ShippedRecord | VoidedRecord | ParcelRecord, Field(discriminator="kind")
]


def record_key(record: HealthRecord) -> str:
    """What makes a record unique: a redelivered record with the same key counts once."""
    match record:
        case WithdrawalRecord() | ParcelRecord():
            return f"{record.kind}:{record.order_id}:{record.seq}"
        case ShippedRecord() | VoidedRecord():
            return f"{record.kind}:{record.order_id}"


_RECORDS: Final = TypeAdapter(list[HealthRecord])
PACKED_PATCH = "store-health-packed"
"""Continue-as-new carries the records packed (compressed JSON): a large store's two months of
records (20,000 orders: 7.4 MB as a dict) would pass the 2 MB payload limit; packed, 0.6 MB."""


def pack(records: dict[str, HealthRecord]) -> str:
    """The records as compressed JSON in base64 (their keys are derived again on unpacking)."""
    return base64.b64encode(zlib.compress(_RECORDS.dump_json(list(records.values())))).decode()


def unpack(packed: str) -> dict[str, HealthRecord]:
    """The records of ``pack``, by key."""
    if not packed:
        return {}
    data = zlib.decompress(base64.b64decode(packed, validate=True))
    return {record_key(r): r for r in _RECORDS.validate_json(data)}


def _dated(record: HealthRecord) -> datetime:
    return record.promised_at if isinstance(record, ParcelRecord) else record.at


class StoreHealthInput(BaseModel):
    """The workflow input; ``records`` and ``levels`` are carried across continue-as-new."""

    seller_id: SellerId
    timezone: str = DEFAULT_TIMEZONE
    thresholds: HealthThresholds = HealthThresholds()
    continue_as_new_after: int = 2_000
    records: dict[str, HealthRecord] = Field(default_factory=dict)
    """Records carried by runs before ``store-health-packed``; later runs carry ``packed``."""
    packed: str = ""
    """The records carried across continue-as-new, as ``pack`` writes them."""
    levels: dict[str, str] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # An unknown zone fails the start, not every later signal.
        return value


def _month_start(moment: datetime, timezone: str, months_later: int = 0) -> datetime:
    """The first instant of the calendar month ``months_later`` after ``moment``'s, in ``timezone``.

    The sandbox hands workflows a proxy of ``ZoneInfo`` that ``datetime.astimezone`` refuses, so
    this asks the zone only for offsets of naive wall times: exact unless a zone changes its
    offset at midnight on the first of a month.
    """
    zone = ZoneInfo(timezone)
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    local = utc + _offset(zone, utc + _offset(zone, utc))
    index = local.year * 12 + local.month - 1 + months_later
    start = datetime(index // 12, index % 12 + 1, 1)  # noqa: DTZ001 - a naive wall time
    return (start - _offset(zone, start)).replace(tzinfo=UTC)


def _offset(zone: tzinfo, wall: datetime) -> timedelta:
    return zone.utcoffset(wall) or timedelta(0)


def _levels(health: StoreHealth) -> dict[str, str]:
    levels = {
        "withdrawals": health.withdrawals_level.value,
        "withdrawal rate": health.withdrawal_rate.level.value,
        "void rate": health.void_rate.level.value,
    }
    levels.update((f"late share {k}", r.level.value) for k, r in health.late_share.items())
    return levels


@workflow.defn(name="StoreHealth")
class StoreHealthWorkflow:
    """Collects one store's records (de-duplicated) and reports its health against R7 and R18."""

    @workflow.init
    def __init__(self, inp: StoreHealthInput) -> None:
        self._inp = inp
        self._records = dict(inp.records) | unpack(inp.packed)
        self._levels = dict(inp.levels)
        self._changed = False

    @workflow.run
    async def run(self, inp: StoreHealthInput) -> None:
        """Live as long as the store: re-evaluate at each record, month start and parcel promise."""
        while True:
            self._publish()
            wake = self._next_wake() - workflow.now()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._changed or self._history_too_long(), timeout=wake
                )
            self._changed = False
            if self._history_too_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._publish()
                carried = (
                    {"records": {}, "packed": pack(self._records)}
                    if workflow.patched(PACKED_PATCH)
                    else {"records": self._records}
                )
                workflow.continue_as_new(inp.model_copy(update={**carried, "levels": self._levels}))

    @workflow.signal
    def withdrawal(self, record: WithdrawalRecord) -> None:
        """A tracking number was withdrawn."""
        self._add(record)

    @workflow.signal
    def shipped(self, record: ShippedRecord) -> None:
        """An order was shipped."""
        self._add(record)

    @workflow.signal
    def voided(self, record: VoidedRecord) -> None:
        """An order was voided."""
        self._add(record)

    @workflow.signal
    def parcel(self, record: ParcelRecord) -> None:
        """A parcel was sent on a line, or (again, with ``delivered_at``) delivered."""
        self._add(record)

    @workflow.query
    def health(self, now: datetime | None = None) -> StoreHealth:
        """The month-to-date figures at ``now`` (default: the workflow's clock)."""
        return self._health(now or workflow.now())

    def _add(self, record: HealthRecord) -> None:
        if record.seller_id != self._inp.seller_id:
            workflow.logger.warning("record for store %s ignored", record.seller_id)
            return
        if _dated(record) < self._horizon():
            workflow.logger.info("record %s is older than last month: ignored", record_key(record))
            return
        key = record_key(record)
        known = self._records.get(key)
        # A repeated record is not news, except a parcel's first word of its delivery.
        if known is not None and not (
            isinstance(known, ParcelRecord)
            and isinstance(record, ParcelRecord)
            and known.delivered_at is None
            and record.delivered_at is not None
        ):
            return
        self._records[key] = record
        self._changed = True

    def _horizon(self) -> datetime:
        """The start of last month: older records no longer count."""
        return _month_start(workflow.now(), self._inp.timezone, months_later=-1)

    def _next_wake(self) -> datetime:
        """The next month start, or an earlier parcel promise (a parcel may then turn late)."""
        now = workflow.now()
        promises = [
            r.promised_at
            for r in self._records.values()
            if isinstance(r, ParcelRecord) and r.delivered_at is None and r.promised_at > now
        ]
        return min([_month_start(now, self._inp.timezone, months_later=1), *promises])

    def _history_too_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._inp.continue_as_new_after
        )

    def _health(self, now: datetime) -> StoreHealth:
        store, records = self._inp.seller_id, list(self._records.values())
        return store_health(
            store,
            now,
            self._inp.timezone,
            withdrawals=[
                Withdrawal(store_id=store, order_id=r.order_id, at=r.at)
                for r in records
                if isinstance(r, WithdrawalRecord)
            ],
            shipped=[
                ShippedOrder(store_id=store, order_id=r.order_id, shipped_at=r.at)
                for r in records
                if isinstance(r, ShippedRecord)
            ],
            voided=[
                VoidedOrder(store_id=store, order_id=r.order_id, at=r.at)
                for r in records
                if isinstance(r, VoidedRecord)
            ],
            parcels=[
                PromisedDelivery(
                    store_id=store,
                    carrier_line=r.carrier_line,
                    promised_by=r.promised_at,
                    delivered_at=r.delivered_at,
                )
                for r in records
                if isinstance(r, ParcelRecord)
            ],
            thresholds=self._inp.thresholds,
        )

    def _publish(self) -> None:
        """Forget what no month needs, warn on level changes, set gauges and UI details."""
        horizon = self._horizon()
        self._records = {k: r for k, r in self._records.items() if _dated(r) >= horizon}
        health = self._health(workflow.now())
        levels = _levels(health)
        for figure, level in levels.items():
            before = self._levels.get(figure, "ok")
            if level != before:
                workflow.logger.warning(
                    "store %s: %s is now %s (was %s)", health.store_id, figure, level, before
                )
        self._levels = levels
        meter = workflow.metric_meter().with_additional_attributes({"seller_id": health.store_id})
        meter.create_gauge(
            "parcelflow_store_withdrawals", "Withdrawals this calendar month (R7)"
        ).set(health.withdrawals)
        meter.create_gauge_float(
            "parcelflow_store_withdrawal_rate", "Withdrawals per shipped order this month (R7)"
        ).set(float(health.withdrawal_rate.share))
        meter.create_gauge_float(
            "parcelflow_store_void_rate", "Voided per shipped order this month (R7)"
        ).set(float(health.void_rate.share))
        late = meter.create_gauge_float(
            "parcelflow_store_late_share", "Late parcels per carrier line this month (R18)"
        )
        for line, rate in health.late_share.items():
            late.set(float(rate.share), {"carrier_line": line})
        lines = [f"**{health.level.value}** ({health.month})"]
        lines += [f"{figure}: {level}" for figure, level in levels.items()]
        workflow.set_current_details("\n\n".join(lines))
