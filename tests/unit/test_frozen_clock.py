"""The frozen-clock plugin really moves the clock: the frozen runs of `make test` are no no-op."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests import frozen_clock as plugin
from tests import frozen_runs
from tests.frozen_clock import Frozen, parse_moment

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]

# A session started by the probe below checks its own clock against this moment.
PROBE = """
import os
import time
from datetime import UTC, datetime, timedelta, timezone

MOMENT = datetime(2027, 1, 1, 0, 0, 30, tzinfo=timezone(timedelta(hours=8)))


def test_the_clock_starts_at_the_moment_and_ticks():
    first = datetime.now(UTC)
    assert abs(first - MOMENT) < timedelta(seconds=30), first
    assert abs(time.time() - MOMENT.timestamp()) < 30
    assert datetime.now().astimezone().utcoffset() == timedelta(hours=8)
    assert time.strftime("%Y-%m-%d %z") == "2027-01-01 +0800"
    assert os.environ["TZ"] == "Asia/Shanghai"
    time.sleep(0.05)
    assert datetime.now(UTC) > first, "the clock ticks"
"""


def test_the_session_clock_runs_from_the_frozen_moment_or_is_the_real_one(
    pytestconfig: pytest.Config, frozen_clock: Frozen | None
) -> None:
    assert pytestconfig.pluginmanager.is_registered(plugin)
    given = pytestconfig.getoption(plugin.OPTION)
    if given is None:
        assert frozen_clock is None
        return
    assert frozen_clock is not None
    assert frozen_clock.at.isoformat() == parse_moment(given).isoformat()
    start = frozen_clock.at.astimezone(UTC)  # compared in UTC: `at` may be in an autumn's fold
    now, clock = datetime.now(UTC), time.time()
    latest = frozen_clock.latest_now()
    assert start <= now <= latest, (start, now, latest)
    assert start.timestamp() <= clock <= latest.timestamp()
    zone = frozen_clock.at.tzinfo
    if isinstance(zone, ZoneInfo):
        local_offset = datetime.now().astimezone().utcoffset()
        assert local_offset == datetime.now(zone).utcoffset()


def test_a_session_given_a_moment_runs_on_a_clock_started_there(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("TZ", raising=False)
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess(
        "-p",
        "tests.frozen_clock",
        "--frozen-at=2027-01-01T00:00:30+08:00[Asia/Shanghai]",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["frozen clock: started at 2027-01-01T00:00:30+08:00 (2026-12-31T16:00:30+00:00)"]
    )


def test_a_moment_is_parsed_with_its_offset_and_optionally_its_zone() -> None:
    assert parse_moment("2027-01-31T23:59:30Z") == datetime(2027, 1, 31, 23, 59, 30, tzinfo=UTC)
    plus_eight = parse_moment("2027-01-01T00:00:30+08:00")
    assert plus_eight.tzinfo == timezone(timedelta(hours=8))
    shanghai = parse_moment("2027-01-01T00:00:30+08:00[Asia/Shanghai]")
    assert shanghai.tzinfo == ZoneInfo("Asia/Shanghai")
    assert shanghai == datetime(2026, 12, 31, 16, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2027-01-01T00:00:30", "has no offset"),
        ("the first of January", "is not an ISO 8601 time"),
        ("2027-01-01T00:00:30+08:00[Mars/Olympus]", "unknown time zone"),
        # 02:30 does not exist in Berlin that night: the offset given must be the zone's.
        ("2027-03-28T02:30:00+01:00[Europe/Berlin]", "is not Europe/Berlin's"),
    ],
)
def test_a_moment_without_a_definite_instant_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(pytest.UsageError, match=complaint):
        parse_moment(text)


def test_every_moment_of_the_frozen_runs_is_a_definite_instant() -> None:
    moments = [parse_moment(line) for line in frozen_runs.moments()]
    assert len(moments) >= 4
    in_utc = {moment.astimezone(UTC) for moment in moments}
    assert len(in_utc) == len(moments), "no moment twice"
    local = {moment.isoformat() for moment in moments}
    # The moments: a month's last and first minute, New Year in Shanghai, DST in Europe.
    assert any(moment.month != (moment + timedelta(minutes=1)).month for moment in moments)
    assert any(moment.day == 1 and moment.hour == 0 for moment in moments)
    assert "2027-01-01T00:00:30+08:00" in local
    assert any(
        isinstance(moment.tzinfo, ZoneInfo)
        and moment.tzinfo.key.startswith("Europe/")
        and an_hour_before(moment).utcoffset() != moment.utcoffset()
        for moment in moments
    )


def an_hour_before(moment: datetime) -> datetime:
    """The same zone's time one real hour earlier (not the wall clock's hour earlier)."""
    return (moment.astimezone(UTC) - timedelta(hours=1)).astimezone(moment.tzinfo)
