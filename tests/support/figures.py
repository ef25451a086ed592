"""Figures the resilience tests measure, one `name: value` line each in tests/artifacts/figures.txt.

A test records a figure when it has measured it; recording the same name again replaces the earlier
line, so a re-run of one file does not pile up stale lines. `bench/resilience.py` clears the file, runs
the tests and prints it. Tests of other engineers (fault injection) may record theirs here too.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIGURES = Path(os.environ.get("RELEASEGATE_FIGURES", REPO / "tests" / "artifacts" / "figures.txt"))


def record(name: str, value: object) -> str:
    """Write `name: value` (replacing an earlier line of that name) and print it; returns the line."""
    line = f"{name}: {value}"
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    kept = [existing for existing in read() if existing.partition(":")[0] != name]
    FIGURES.write_text("".join(f"{existing}\n" for existing in [*kept, line]), "utf-8")
    print(f"\n[figure] {line}")
    return line


def read() -> list[str]:
    if not FIGURES.exists():
        return []
    return [line for line in FIGURES.read_text("utf-8").splitlines() if line.strip()]


def clear() -> None:
    FIGURES.unlink(missing_ok=True)
