"""Shared fixtures: one real Temporal dev server with per-workflow time skipping for the session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests import frozen_clock
from workers.dev import temporal_binary
from workflows.search_attributes import dev_server_args


def pytest_addoption(pluginmanager: pytest.PytestPluginManager) -> None:
    """``--frozen-at``: the session's clock starts at a chosen moment (tests/frozen_clock.py)."""
    if not pluginmanager.is_registered(frozen_clock):
        pluginmanager.register(frozen_clock, "frozen_clock")


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server (server 1.32) with time skipping and parcelflow's search attributes."""
    environment = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=temporal_binary(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.WorkflowTimeSkippingEnabled=true",
            *dev_server_args(),
        ],
        data_converter=pydantic_data_converter,
    )
    async with environment:
        yield environment
