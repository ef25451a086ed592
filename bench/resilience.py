"""Resilience figures: runs the hardening tests against live gates and prints one line per figure.

    .venv/bin/python bench/resilience.py [extra pytest args]

Runs tests/test_hostile.py, test_fuzz.py, test_authz.py, test_leaks.py (and test_faults.py where it
exists) with pytest; each records its figures in tests/artifacts/figures.txt (tests/support/figures.py),
which is cleared first and printed at the end. Needs what `make test` needs: PostgreSQL on
RELEASEGATE_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test), redis-server, Trivy's test DB.
Exits with pytest's status (expected failures, marked xfail, do not fail it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support import figures  # noqa: E402

TESTS = ["tests/test_faults.py", "tests/test_hostile.py", "tests/test_fuzz.py", "tests/test_authz.py",
         "tests/test_leaks.py"]  # fmt: skip
# The order; other figures follow in the order they were recorded.
ORDER = [
    "completed scans under worker kills",
    "completed scans under Redis restart",
    "completed scans under PostgreSQL outage",
    "hostile inputs refused",
    "schemathesis cases without 5xx",
    "authorization cases checked",
    "leaked secrets found",
]


def main() -> int:
    files = [t for t in TESTS if (REPO / t).exists()]
    figures.clear()
    started = time.monotonic()
    status = subprocess.call([sys.executable, "-m", "pytest", "-q", *files, *sys.argv[1:]], cwd=REPO)
    elapsed = time.monotonic() - started
    lines = figures.read()
    rank = {name: i for i, name in enumerate(ORDER)}
    lines.sort(key=lambda line: rank.get(line.partition(":")[0], len(ORDER)))
    print(f"\nresilience: {len(files)} test files in {elapsed:.0f} s (pytest exit {status})")
    for line in lines:
        print(f"resilience: {line}")
    if not lines:
        print("resilience: no figures were recorded")
    return status


if __name__ == "__main__":
    sys.exit(main())
