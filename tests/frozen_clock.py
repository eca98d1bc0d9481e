"""``--frozen-at=MOMENT``: run the whole pytest session on a clock that starts at MOMENT.

No test may depend on today's date, the time of day or the month. ``make test`` proves it by
running the tests that need no server once per moment of ``tests/frozen_moments.txt`` (a month's
last and first minute, New Year in Asia/Shanghai, Europe's DST changes) with this option
(``tests/frozen_runs.py``).

MOMENT is an ISO 8601 time with its offset (``2027-01-31T23:59:30+00:00`` or ``...Z``),
optionally followed by an IANA zone in brackets, as RFC 9557 writes it
(``2027-01-01T00:00:30+08:00[Asia/Shanghai]``): the zone then also becomes the process's local
time zone (``TZ``) for the session, so that code reading local time meets the same moment.

The clock is time-machine's, started before any test module is imported and ticking
(``tick=True``): wall-clock time (``time.time``, ``datetime.now``, ...) reads MOMENT first and
then moves on at its real pace, so timeouts and sleeps work as usual; ``time.monotonic`` is never
moved. Only this
process is frozen: a subprocess or a server in another process (Temporal's dev server, the
CLI run as a program) still reads the real date, which is why the frozen runs leave out the
tests marked ``temporal``.

``tests/conftest.py`` registers the plugin, so ``--frozen-at`` exists in every run of the suite;
elsewhere, load it with ``-p tests.frozen_clock``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

OPTION = "--frozen-at"
_WITH_ZONE = re.compile(r"^(?P<moment>[^\[\]]+)\[(?P<zone>[^\[\]]+)\]$")
_TRAVELLER = pytest.StashKey[time_machine.travel]()


@dataclass(frozen=True)
class Frozen:
    """The session's clock: started at ``at`` when ``time.monotonic()`` read ``monotonic_start``."""

    at: datetime
    monotonic_start: float

    def latest_now(self) -> datetime:
        """The latest the ticking clock can read now: ``at`` plus the real time elapsed since.

        (It reads ``at`` at its first read, which came at the start or later.) Added in UTC:
        added to a zone's wall time, a second after the second 02:00:30 of an autumn night in
        Berlin would be a second after the first one, an hour earlier."""
        elapsed = timedelta(seconds=time.monotonic() - self.monotonic_start)
        return self.at.astimezone(UTC) + elapsed


_FROZEN = pytest.StashKey[Frozen | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        metavar="MOMENT",
        default=None,
        help=(
            "start the session's clock at MOMENT, an ISO 8601 time with an offset, optionally "
            "followed by [IANA zone] to set the local time zone too (tests/frozen_clock.py)"
        ),
    )


def parse_moment(text: str) -> datetime:
    """The aware datetime ``text`` names; its tzinfo is the bracketed zone when one is given."""
    text = text.strip()
    zone_name: str | None = None
    if matched := _WITH_ZONE.match(text):
        text, zone_name = matched["moment"], matched["zone"]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise pytest.UsageError(f"{OPTION}={text!r} is not an ISO 8601 time") from error
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise pytest.UsageError(f"{OPTION}={text!r} has no offset: write Z or +HH:MM")
    if zone_name is None:
        return moment
    try:
        zone = ZoneInfo(zone_name)
    except (ValueError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError.
        raise pytest.UsageError(f"{OPTION}: unknown time zone {zone_name!r}") from error
    local = moment.astimezone(zone)
    if local.utcoffset() != moment.utcoffset():
        msg = f"{OPTION}={text!r}: its offset is not {zone_name}'s at that moment ({local})"
        raise pytest.UsageError(msg)
    return local


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    given: str | None = config.getoption(OPTION)
    if not given:
        config.stash[_FROZEN] = None
        return
    moment = parse_moment(given)
    # A ZoneInfo (or UTC) destination makes time-machine set TZ too; other offsets leave it.
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    config.stash[_FROZEN] = Frozen(moment, time.monotonic())
    config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()
        del config.stash[_TRAVELLER]


def pytest_report_header(config: pytest.Config) -> str | None:
    frozen = config.stash.get(_FROZEN, None)
    if frozen is None:
        return None
    at = frozen.at
    return f"frozen clock: started at {at.isoformat()} ({at.astimezone(UTC).isoformat()})"


def frozen_clock_of(config: pytest.Config) -> Frozen | None:
    """The session's frozen clock, or None when it runs on the real one."""
    return config.stash.get(_FROZEN, None)


@pytest.fixture(scope="session")
def frozen_clock(pytestconfig: pytest.Config) -> Frozen | None:
    """The session's frozen clock, or None when it runs on the real one."""
    return frozen_clock_of(pytestconfig)
