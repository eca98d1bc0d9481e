"""Ready-made parcel lives for the simulator: delivered (with or without proof), lost, returned."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from adapters.carrier_sim.state import ParcelScript, ScriptedEvent


class Outcome(StrEnum):
    """How a simulated parcel's journey ends."""

    DELIVERED = "delivered"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED = "returned"
    NONE = "none"


class Journey(BaseModel):
    """A parcel's life relative to the upload time; every offset is from ``uploaded_at``.

    ``silent`` is how long the carrier has no record at all (R8). ``customs_release`` None keeps
    the parcel held in customs for good (R12). ``signer``/``photo_url`` are the proof of
    delivery (R13), written into the delivery scan's text as carriers do.
    """

    model_config = ConfigDict(frozen=True)

    number: str
    carrier: str = "china_post"
    uploaded_at: AwareDatetime
    silent: timedelta = timedelta(hours=2)
    pickup: timedelta | None = timedelta(hours=3)
    customs: timedelta | None = timedelta(days=3)
    customs_release: timedelta | None = timedelta(hours=12)
    outcome: Outcome = Outcome.DELIVERED
    outcome_at: timedelta = timedelta(days=10)
    signer: str = ""
    photo_url: str = ""

    def script(self) -> ParcelScript:
        """The scripted scans of this journey."""
        u = self.uploaded_at
        events = [
            ScriptedEvent(
                at=u + self.silent,
                sub_status="InfoReceived",
                description="Electronic information submitted by the shipper",
            )
        ]
        if self.pickup is not None:
            events += _transit(u + self.pickup)
            if self.customs is not None:
                events += _customs(u + self.customs, self.customs_release)
            if self.customs is None or self.customs_release is not None:
                events += _ending(self, u + self.outcome_at)
        return ParcelScript(
            number=self.number.upper(),
            carrier=self.carrier,
            visible_from=u + self.silent,
            events=tuple(events),
        )


def _transit(picked: datetime) -> list[ScriptedEvent]:
    return [
        ScriptedEvent(
            at=picked, sub_status="InTransit_PickedUp", description="Picked up", location="Shenzhen"
        ),
        ScriptedEvent(
            at=picked + timedelta(hours=6),
            sub_status="InTransit_Departure",
            description="Departed from the origin country",
            location="Guangzhou",
        ),
    ]


def _customs(start: datetime, release: timedelta | None) -> list[ScriptedEvent]:
    held = [
        ScriptedEvent(
            at=start,
            sub_status="InTransit_CustomsProcessing",
            description="Handed over to customs",
            location="Paris",
        )
    ]
    if release is not None:
        held.append(
            ScriptedEvent(
                at=start + release,
                sub_status="InTransit_CustomsReleased",
                description="Released by customs",
                location="Paris",
            )
        )
    return held


def _ending(journey: Journey, at: datetime) -> list[ScriptedEvent]:
    match journey.outcome:
        case Outcome.DELIVERED:
            proof = "".join(
                [
                    f", signed by {journey.signer}" if journey.signer else "",
                    f", photo: {journey.photo_url}" if journey.photo_url else "",
                ]
            )
            return [
                ScriptedEvent(
                    at=at - timedelta(hours=3),
                    sub_status="OutForDelivery_Other",
                    description="Out for delivery",
                    location="Lyon",
                ),
                ScriptedEvent(
                    at=at,
                    sub_status="Delivered_Other",
                    description=f"Delivered{proof}",
                    location="Lyon",
                ),
            ]
        case Outcome.LOST:
            return [ScriptedEvent(at=at, sub_status="Exception_Lost", description="Item lost")]
        case Outcome.DAMAGED:
            return [
                ScriptedEvent(
                    at=at, sub_status="Exception_Damage", description="Item damaged in transit"
                )
            ]
        case Outcome.RETURNED:
            return [
                ScriptedEvent(
                    at=at, sub_status="Exception_Returning", description="Returning to sender"
                ),
                ScriptedEvent(
                    at=at + timedelta(days=5),
                    sub_status="Exception_Returned",
                    description="Returned to sender",
                    location="Shenzhen",
                ),
            ]
        case Outcome.NONE:
            return []
