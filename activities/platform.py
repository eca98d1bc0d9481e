"""Marketplace activities: one per platform write, each carrying its idempotency key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import activity

from activities.errors import beating
from domain.commands import (
    MessageBuyer,
    SendDisputeResponse,
    SendSolution,
    SendTrackingUpload,
    SendWithdrawal,
)
from domain.ports import Platform


def before_write(platform: Platform, key: str) -> None:
    """Before a write: on a retry, an earlier attempt (perhaps on a worker that died) may have
    landed, so the adapter reads back before sending again."""
    if activity.info().attempt > 1:
        platform.may_have_landed(key)


class PlatformActivities:
    """Thin activities over a ``Platform`` port (the composition root chooses which)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    @activity.defn(name="platform.upload_tracking")
    async def upload_tracking(self, command: SendTrackingUpload) -> None:
        """Attach the tracking number on the marketplace."""
        before_write(self._platform, command.idempotency_key)
        await beating(
            self._platform.upload_tracking(
                command.order_id,
                command.carrier,
                command.tracking_number,
                command.idempotency_key,
                store_id=command.seller_id,
            )
        )

    @activity.defn(name="platform.withdraw_tracking")
    async def withdraw_tracking(self, command: SendWithdrawal) -> None:
        """Withdraw the tracking number on the marketplace."""
        before_write(self._platform, command.idempotency_key)
        await beating(
            self._platform.withdraw_tracking(
                command.order_id, command.tracking_number, command.idempotency_key
            )
        )

    @activity.defn(name="platform.answer_dispute")
    async def answer_dispute(self, command: SendDisputeResponse) -> None:
        """Send the seller's first response to a dispute."""
        before_write(self._platform, command.idempotency_key)
        await beating(
            self._platform.answer_dispute(
                command.dispute_id, command.message, command.idempotency_key
            )
        )

    @activity.defn(name="platform.propose_solution")
    async def propose_solution(self, command: SendSolution) -> None:
        """Offer the seller's solution to a dispute."""
        before_write(self._platform, command.idempotency_key)
        await beating(
            self._platform.propose_solution(
                command.dispute_id, command.solution, command.idempotency_key
            )
        )

    @activity.defn(name="platform.message_buyer")
    async def message_buyer(self, command: MessageBuyer) -> None:
        """Send the buyer a message on the order."""
        before_write(self._platform, command.idempotency_key)
        await beating(
            self._platform.message_buyer(command.order_id, command.text, command.idempotency_key)
        )

    def all(self) -> list[Callable[..., Awaitable[None]]]:
        """Every activity of this class, for the worker."""
        return [
            self.upload_tracking,
            self.withdraw_tracking,
            self.answer_dispute,
            self.propose_solution,
            self.message_buyer,
        ]
