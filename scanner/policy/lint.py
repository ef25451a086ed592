"""`policy lint`: validation errors, plus exceptions that expired (errors) or expire soon (warnings)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from .loader import PolicySetError, Problem, load_policy_set

SOON = timedelta(days=14)


def lint(directory: Path, *, today: date) -> tuple[list[Problem], list[str]]:
    try:
        policy_set = load_policy_set(directory)
    except PolicySetError as exc:
        return exc.problems, []
    problems: list[Problem] = []
    warnings: list[str] = []
    for waiver in policy_set.exceptions:
        if waiver.expires < today:
            file, line = policy_set.exception_locations.get(waiver.id, (f"exceptions/{waiver.id}", 0))
            problems.append(Problem(file, line, f"exception {waiver.id} expired on {waiver.expires}"))
        elif waiver.expires - today <= SOON:
            warnings.append(f"exception {waiver.id} expires on {waiver.expires} (owner {waiver.owner})")
    return problems, warnings
