"""The verdict: what the engine decided and why. It owns the exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Decision(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    PENDING = "pending"
    ERROR = "error"
    UNKNOWN = "unknown"
    STALE = "stale"

    @property
    def lets_through(self) -> bool:
        return self in (Decision.PASS, Decision.WARN)

    @property
    def exit_code(self) -> int:
        return 0 if self.lets_through else 1


@dataclass(slots=True)
class Reason:
    rule_id: str
    action: str
    count: int
    max: int
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def triggered(self) -> bool:
        return self.count > self.max

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "action": self.action,
            "count": self.count,
            "max": self.max,
            "triggered": self.triggered,
            "examples": self.examples,
        }


@dataclass(slots=True)
class Evaluation:
    decision: Decision
    reasons: list[Reason]
    exceptions_applied: list[dict[str, Any]]
    policy: str
    policy_digest: str


def verdict_document(
    evaluation: Evaluation | None,
    *,
    decision: Decision | None = None,
    service: str | None,
    environment: str,
    scan_id: str | None,
    evaluated_at: str | None,
    counts: dict[str, dict[str, int]] | None = None,
    tools: dict[str, str] | None = None,
    policy_digest: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """The verdict object of SPEC section 5, as the API returns it and the CLI prints it."""
    doc: dict[str, Any] = {
        "decision": (decision or (evaluation.decision if evaluation else Decision.UNKNOWN)).value,
        "environment": environment,
        "service": service,
        "scan_id": scan_id,
        "policy": evaluation.policy if evaluation else None,
        "policy_digest": policy_digest or (evaluation.policy_digest if evaluation else None),
        "evaluated_at": evaluated_at,
        "reasons": [r.to_dict() for r in evaluation.reasons] if evaluation else [],
        "exceptions_applied": evaluation.exceptions_applied if evaluation else [],
        "counts": counts or {"by_kind": {}, "by_severity": {}},
        "tools": tools or {},
    }
    if detail:
        doc["detail"] = detail
    return doc
