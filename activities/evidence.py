"""Dispute evidence activities: upload one file to a dispute under its idempotency key."""

from __future__ import annotations

from temporalio import activity

from activities.errors import beating
from activities.platform import before_write
from domain.evidence_files import Evidence
from domain.ports import Platform


class EvidenceActivities:
    """Thin activities over the ``Platform`` port's evidence upload."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    @activity.defn(name="platform.upload_evidence")
    async def upload(self, dispute_id: str, evidence: Evidence, key: str) -> str:
        """Attach ``evidence`` to the dispute; returns the platform's id or URL for it."""
        before_write(self._platform, key)
        return await beating(self._platform.upload_evidence(dispute_id, evidence, key))
