"""What the kernel says about a process and the machine: CPU time, resident memory, steal."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (all its threads) so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14, 15)


def rss_bytes(pid: int) -> int:
    """The resident set size of ``pid``."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


@dataclass(frozen=True)
class CpuTicks:
    """The machine's aggregate CPU counters (``/proc/stat``'s ``cpu`` line)."""

    total: int
    steal: int

    @classmethod
    def now(cls) -> CpuTicks:
        """Read the counters."""
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return cls(total=sum(values[:8]), steal=values[7])

    def steal_share(self, later: CpuTicks) -> float:
        """The share of CPU time stolen by the hypervisor between ``self`` and ``later``."""
        elapsed = later.total - self.total
        return (later.steal - self.steal) / elapsed if elapsed > 0 else 0.0


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (other engineers share it)."""
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
