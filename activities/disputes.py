"""Disputes by polling the platform (R14): the safety net under the dispute webhooks."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity
from temporalio.client import Client

from activities.errors import beating
from domain.events import DisputeOpened, DisputeReason
from domain.marketplace import PlatformDispute
from domain.ports import Platform
from workers.orders import Delivery, Orders

OPEN_STATUSES = frozenset({"processing"})
"""The platform's statuses of a dispute still waiting for the seller (AliExpress:
``processing``; ``finish`` and ``canceled`` are over)."""


class ForwardedDisputes(BaseModel):
    """What one poll did: the open disputes it handed to their orders (newly), and those it
    found on orders that have ended."""

    forwarded: list[str] = []
    ended: list[str] = []


def opened_fact(dispute: PlatformDispute) -> DisputeOpened:
    """The order's fact for a dispute the platform lists, with the platform's own deadlines.

    Its event id is the dispute's, so a poll repeated after a crash changes nothing; the same
    dispute delivered by its webhook too is recognised by its dispute id.
    """
    try:
        reason = DisputeReason(dispute.reason)
    except ValueError:
        reason = DisputeReason.OTHER
    return DisputeOpened(
        event_id=f"platform-dispute-opened:{dispute.dispute_id}",
        at=dispute.opened_at,
        dispute_id=dispute.dispute_id,
        reason=reason,
        platform_response_deadline=dispute.response_deadline,
        platform_solution_deadline=dispute.solution_deadline,
    )


class DisputeActivities:
    """Lists the seller's open disputes and hands each to its order workflow."""

    def __init__(self, platform: Platform, client: Client, task_queue: str) -> None:
        self._platform = platform
        self._orders = Orders(client, task_queue)

    @activity.defn(name="disputes.poll")
    async def poll(self, marketplace: str, known: list[str]) -> ForwardedDisputes:
        """Forward every open dispute not in ``known`` to its order (kept there until the
        order exists, H3; an order that has ended changes nothing)."""
        listed = await beating(self._platform.list_disputes())
        done = ForwardedDisputes()
        skip = set(known)
        for dispute in listed:
            if dispute.status not in OPEN_STATUSES or dispute.dispute_id in skip:
                continue
            fact = opened_fact(dispute)
            delivery = await self._orders.send_fact(marketplace, dispute.order_id, fact)
            into = done.ended if delivery is Delivery.ALREADY_PROCESSED else done.forwarded
            into.append(dispute.dispute_id)
            activity.heartbeat(dispute.dispute_id)
        return done
