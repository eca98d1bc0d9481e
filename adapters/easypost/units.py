"""EasyPost's claims vocabulary: paths, claim types, statuses and limits (karrio-style units).

Sources: the Claims API page (docs.easypost.com/docs/insurance/claims), the errors page, and
EasyPost's own client libraries and their recorded test cassettes (easypost-python
``claim_service.py`` and ``test_claim_*.yaml``, easypost-go ``claim.go``, easypost-csharp
``Parameters/Claim/Create.cs``). Anything those do not settle is marked UNCONFIRMED.
"""

from __future__ import annotations

from typing import Literal

API_ROOT = "https://api.easypost.com"
CLAIMS_PATH = "/v2/claims"
CURRENCY = "USD"
"""EasyPost insurance and claim amounts are USD decimal strings ("100.00")."""

LOSS = "loss"
"""Of the claim types (damage, loss, theft), the one that may go without attachments."""
SUPPORTING_DOCUMENTS = "supporting_documentation_attachments"
"""A list of base64-encoded files (not links), as EasyPost's client libraries document it."""

Outcome = Literal["paid", "rejected", "pending"]

STATUSES: dict[str, Outcome] = {
    "submitted": "pending",
    "in_review": "pending",
    "needs_action": "pending",
    "approved": "paid",
    "approved_partial": "paid",
    "rejected": "rejected",
    "cancelled": "rejected",
}
"""Every documented claim status, as the port's outcome (one table, karrio-style)."""

CANCELLED = "cancelled"

PAGE_SIZE = 100
"""UNCONFIRMED: the largest ``page_size`` of ``GET /v2/claims`` (the docs we read name none)."""
