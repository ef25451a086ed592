"""What every report writer needs: untrusted text made safe, and tolerant reads of a verdict document."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# C0/C1 controls, bidirectional overrides (which can make a report display text other than it holds),
# lone surrogates and non-characters: none belongs in a report built from untrusted findings.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def clean(value: object) -> str:
    """A string fit for a report: never None, never a control character."""
    return UNSAFE.sub("?", "" if value is None else str(value))


def as_int(value: object) -> int:
    """A count or line from a document that may be broken: anything that is not a number counts 0."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str | float):
        try:
            return int(value)
        except (ValueError, OverflowError):
            return 0
    return 0


def mappings(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def triggered(reason: Mapping[str, Any]) -> bool:
    if isinstance(reason.get("triggered"), bool):
        return bool(reason["triggered"])
    return as_int(reason.get("count")) > as_int(reason.get("max"))
