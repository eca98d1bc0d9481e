"""The store-health entity workflow: one per seller, its month-to-date rates (R7, R18)."""

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
        HealthLevel,
        HealthThresholds,
        PromisedDelivery,
        ShippedOrder,
        StoreHealth,
        UnfulfilledOrder,
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
    """An order voided (R7): cancelled at the buyer's request with the seller's consent.

    Before R7's own ``voided`` state, order workflows sent this record for an order closed
    unfulfilled. Records carried by such runs (``records_version`` 1) and signals a store run
    received before ``store-health-voids`` are read as ``UnfulfilledRecord``. A signal from an
    order workflow still running the old code on an old worker (a rolling deploy) cannot be told
    apart from a void: it counts as one.
    """

    kind: Literal["voided"] = "voided"
    at: AwareDatetime


class UnfulfilledRecord(_Record):
    """An order the platform closed unfulfilled: not shipped within the handling time (R3a)."""

    kind: Literal["unfulfilled"] = "unfulfilled"
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
    WithdrawalRecord | ShippedRecord | VoidedRecord | UnfulfilledRecord | ParcelRecord,
    Field(discriminator="kind"),
]


def record_key(record: HealthRecord) -> str:
    """What makes a record unique: a redelivered record with the same key counts once."""
    match record:
        case WithdrawalRecord() | ParcelRecord():
            return f"{record.kind}:{record.order_id}:{record.seq}"
        case ShippedRecord() | VoidedRecord() | UnfulfilledRecord():
            return f"{record.kind}:{record.order_id}"


_RECORDS: Final = TypeAdapter(list[HealthRecord])
PACKED_PATCH = "store-health-packed"
"""Continue-as-new carries the records packed (compressed JSON): a large store's two months of
records (20,000 orders: 7.4 MB as a dict) would pass the 2 MB payload limit; packed, 0.6 MB."""
RECORDS_VERSION: Final = 2
"""What a carried ``voided`` record means. 1: an order closed unfulfilled (order workflows sent
``voided`` for ``closed_unfulfilled`` before R7's own void); 2: an R7 void."""
RECORDS_VERSION_PATCH = "store-health-records-v2"
"""Continue-as-new writes ``records_version`` 2 (its records hold voids and unfulfilled orders
apart)."""
VOIDS_PATCH = "store-health-voids"
"""A run that has it reads its ``voided`` signals as R7 voids. A run begun before it (and replayed
by today's code without it) handled its earlier ``voided`` signals with the earlier code: those
were orders closed unfulfilled and are read so, until its first ``voided`` signal handled by
today's code (``store-health-voids:<order id>``, see ``_void_is_r7``)."""


def pack(records: dict[str, HealthRecord]) -> str:
    """The records as compressed JSON in base64 (their keys are derived again on unpacking)."""
    return base64.b64encode(zlib.compress(_RECORDS.dump_json(list(records.values())))).decode()


def as_unfulfilled(record: HealthRecord) -> HealthRecord:
    """A ``voided`` record of version 1 as what it was: an order closed unfulfilled."""
    if isinstance(record, VoidedRecord):
        return UnfulfilledRecord(seller_id=record.seller_id, order_id=record.order_id, at=record.at)
    return record


def upgrade(records: dict[str, HealthRecord], version: int) -> dict[str, HealthRecord]:
    """Carried ``records`` of ``version`` as records of ``RECORDS_VERSION``, by key."""
    if version >= RECORDS_VERSION:
        return dict(records)
    upgraded = (as_unfulfilled(r) for r in records.values())
    return {record_key(r): r for r in upgraded}


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
    records_version: int = 1
    """What the carried ``voided`` records mean (``RECORDS_VERSION``): runs before
    ``store-health-records-v2`` carried no version, so 1 is the default; later runs write 2."""
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
        "unfulfilled rate": health.unfulfilled_rate.level.value,
    }
    levels.update((f"late share {k}", r.level.value) for k, r in health.late_share.items())
    return levels


def _ended_otherwise(record: HealthRecord, records: dict[str, HealthRecord]) -> bool:
    """Whether ``record`` ends an order that ``records`` already end the other way (voided vs
    closed unfulfilled: both are terminal)."""
    match record:
        case VoidedRecord():
            return record_key(as_unfulfilled(record)) in records
        case UnfulfilledRecord():
            ids = {"seller_id": record.seller_id, "order_id": record.order_id}
            return record_key(VoidedRecord(**ids, at=record.at)) in records
        case _:
            return False


def _newsworthy(before: str, level: str) -> bool:
    """A level change worth a warning: to or from ``warning`` or ``breached`` (not between
    ``ok`` and ``no_data``, as a store's first records or a new month's first day bring)."""
    quiet = {HealthLevel.OK.value, HealthLevel.NO_DATA.value}
    return level != before and not {before, level} <= quiet


@workflow.defn(name="StoreHealth")
class StoreHealthWorkflow:
    """Collects one store's records (de-duplicated) and reports its health against R7 and R18."""

    @workflow.init
    def __init__(self, inp: StoreHealthInput) -> None:
        self._inp = inp
        self._records = upgrade(dict(inp.records) | unpack(inp.packed), inp.records_version)
        self._levels = dict(inp.levels)
        self._changed = False
        self._voids_are_r7 = False

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
                carried: dict[str, object] = (
                    {"records": {}, "packed": pack(self._records)}
                    if workflow.patched(PACKED_PATCH)
                    else {"records": self._records}
                )
                if workflow.patched(RECORDS_VERSION_PATCH):
                    carried["records_version"] = RECORDS_VERSION
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
        """An order was voided (R7); from a run before ``store-health-voids``, see there."""
        self._add(record if self._void_is_r7(record) else as_unfulfilled(record))

    @workflow.signal
    def unfulfilled(self, record: UnfulfilledRecord) -> None:
        """An order was closed unfulfilled (R3a)."""
        self._add(record)

    @workflow.signal
    def parcel(self, record: ParcelRecord) -> None:
        """A parcel was sent on a line, or (again, with ``delivered_at``) delivered."""
        self._add(record)

    @workflow.query
    def health(self, now: datetime | None = None) -> StoreHealth:
        """The month-to-date figures at ``now`` (default: the workflow's clock)."""
        return self._health(now or workflow.now())

    def _void_is_r7(self, record: VoidedRecord) -> bool:
        """Whether a ``voided`` signal means an R7 void, or (handled by the code before
        ``store-health-voids``) an order closed unfulfilled.

        A patch is decided once per run: a run begun before it gets False for it whenever its
        replay first asks, however long it lives on under today's code. So such a run asks, at
        each ``voided`` signal, a patch of that signal's own: False for a signal the earlier code
        handled (replayed, no marker), True (and recorded) for the first one today's code
        handles, and from then on every later signal is today's too. One marker per run at most.
        """
        if not self._voids_are_r7:
            self._voids_are_r7 = workflow.patched(VOIDS_PATCH) or workflow.patched(
                f"{VOIDS_PATCH}:{record.order_id}"
            )
        return self._voids_are_r7

    def _add(self, record: HealthRecord) -> None:
        if record.seller_id != self._inp.seller_id:
            workflow.logger.warning("record for store %s ignored", record.seller_id)
            return
        if _dated(record) < self._horizon():
            workflow.logger.info("record %s is older than last month: ignored", record_key(record))
            return
        key = record_key(record)
        if _ended_otherwise(record, self._records):
            # An order ends once: e.g. the earlier code's ``voided`` for an order closed
            # unfulfilled, redelivered after that order's unfulfilled record.
            workflow.logger.info("record %s: the order has ended otherwise, ignored", key)
            return
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
            unfulfilled=[
                UnfulfilledOrder(store_id=store, order_id=r.order_id, at=r.at)
                for r in records
                if isinstance(r, UnfulfilledRecord)
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
            if _newsworthy(before, level):
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
        meter.create_gauge(
            "parcelflow_store_orders_shipped",
            "Orders shipped this month: the withdrawal rate's denominator (0: no data)",
        ).set(health.withdrawal_rate.total)
        meter.create_gauge(
            "parcelflow_store_orders",
            "Orders shipped, voided or closed unfulfilled this month: the void and unfulfilled"
            " rates' denominator (0: no data)",
        ).set(health.void_rate.total)
        meter.create_gauge_float(
            "parcelflow_store_void_rate", "Voided per order dealt with this month (R7)"
        ).set(float(health.void_rate.share))
        meter.create_gauge_float(
            "parcelflow_store_unfulfilled_rate",
            "Closed unfulfilled per order dealt with this month (R3a, R7)",
        ).set(float(health.unfulfilled_rate.share))
        late = meter.create_gauge_float(
            "parcelflow_store_late_share", "Late parcels per carrier line this month (R18)"
        )
        for line, rate in health.late_share.items():
            late.set(float(rate.share), {"carrier_line": line})
        lines = [f"**{health.level.value}** ({health.month})"]
        lines += [f"{figure}: {level}" for figure, level in levels.items()]
        workflow.set_current_details("\n\n".join(lines))
