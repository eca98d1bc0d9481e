"""Figures: medians of repetitions, their targets, the printed table and ``results.json``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median

STEAL_FLAG = 0.01
"""A repetition with more than 1 % of CPU time stolen by the hypervisor is flagged."""


@dataclass
class Samples:
    """One figure's repetitions and the CPU steal seen during each."""

    values: list[float] = field(default_factory=list)
    steal: list[float] = field(default_factory=list)

    def add(self, value: float, steal: float) -> None:
        """Record one repetition."""
        self.values.append(value)
        self.steal.append(steal)


@dataclass(frozen=True)
class Figure:
    """One line of the table."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None
    repetitions: list[float] = field(default_factory=list)
    steal: list[float] = field(default_factory=list)

    @property
    def stolen(self) -> int:
        """Repetitions that ran with CPU steal."""
        return sum(s > STEAL_FLAG for s in self.steal)

    @property
    def flagged(self) -> bool:
        """Whether a repetition ran with CPU steal."""
        return self.stolen > 0


def figure(
    key: str,
    label: str,
    samples: Samples,
    unit: str,
    *,
    target: str = "",
    check: Callable[[float], bool] | None = None,
) -> Figure:
    """The median of ``samples``, checked against its target when it has one."""
    value = median(samples.values)
    passed = check(value) if check else None
    return Figure(key, label, value, unit, target, passed, samples.values, samples.steal)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1_000 else f"{value:.3g}"


def _verdict(fig: Figure) -> str:
    verdict = "-" if fig.passed is None else ("pass" if fig.passed else "FAIL")
    return verdict + (f" (steal in {fig.stolen}/{len(fig.steal)})" if fig.flagged else "")


def table(figures: list[Figure]) -> str:
    """The figures as a fixed-width table."""
    rows = [("figure", "value", "target", "result")]
    rows += [
        (f.label, f"{_number(f.value)} {f.unit}".strip(), f.target, _verdict(f)) for f in figures
    ]
    return grid(rows)


def grid(rows: Sequence[tuple[str, ...]]) -> str:
    """``rows`` (the first one a header) as a fixed-width table."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def write(path: Path, figures: list[Figure], meta: dict[str, object]) -> None:
    """Write the figures (with every repetition) and the run's parameters as JSON."""
    data = {
        "meta": meta,
        "figures": {f.key: {**asdict(f), "flagged_steal": f.flagged} for f in figures},
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
