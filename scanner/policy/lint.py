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
    for exc in policy_set.exceptions:
        if exc.expires < today:
            problems.append(
                Problem(f"exceptions/{exc.id}", 0, f"exception {exc.id} expired on {exc.expires}")
            )
        elif exc.expires - today <= SOON:
            warnings.append(f"exception {exc.id} expires on {exc.expires} (owner {exc.owner})")
    return problems, warnings
