"""Process logging: structlog (JSON off a terminal), stdlib routed through it, no buyer data."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["json", "console"]
PERSONAL_DATA_KEYS = frozenset({"buyer", "buyer_name", "address", "phone", "email"})
"""Keys that carry buyer personal data: dropped from every event, at any depth."""
FORMAT_ENV = "PARCELFLOW_LOG_FORMAT"


def drop_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Remove buyer personal data from an event (and from mappings nested in it)."""
    _scrub(event_dict)
    return event_dict


def _scrub(values: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in [k for k in values if k in PERSONAL_DATA_KEYS]:
        del values[key]
    for key, value in values.items():
        if isinstance(value, Mapping):
            values[key] = _scrub(dict(value))
    return values


def chosen_format(fmt: LogFormat | None, stream: TextIO) -> LogFormat:
    """``fmt`` if given, else ``PARCELFLOW_LOG_FORMAT``, else console on a terminal, JSON off it."""
    if fmt is not None:
        return fmt
    wanted = os.environ.get(FORMAT_ENV, "").strip().lower()
    if wanted in ("json", "console"):
        return "json" if wanted == "json" else "console"
    return "console" if stream.isatty() else "json"


def configure_logging(
    fmt: LogFormat | None = None, *, stream: TextIO | None = None, level: int = logging.INFO
) -> None:
    """Route structlog and stdlib logging (the Temporal SDK's) to ``stream`` (stdout)."""
    out = stream or sys.stdout
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if chosen_format(fmt, out) == "json"
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_personal_data,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            drop_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Access logs would print every simulator and marketplace request; keep warnings only.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def get_logger(name: str | None = None, **bound: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger, bound with ``bound`` (e.g. ``order_id``, ``workflow_id``)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger.bind(**bound) if bound else logger
