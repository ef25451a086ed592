"""The normalized Finding: the contract between scanner adapters, storage and the policy engine.

Imports nothing of the project. Plain data, cheap to build by the hundred thousand.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any


class UnknownSeverityError(ValueError):
    """A scanner reported a severity we do not know: refuse rather than guess."""


class Severity(IntEnum):
    UNKNOWN = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise UnknownSeverityError(f"unknown severity {value!r}") from None


class Kind(StrEnum):
    VULNERABILITY = "vulnerability"
    CODE = "code"
    SECRET = "secret"
    MISCONFIGURATION = "misconfiguration"
    LICENSE = "license"


class ScannerName(StrEnum):
    SEMGREP = "semgrep"
    TRIVY_IMAGE = "trivy-image"
    TRIVY_FS = "trivy-fs"


@dataclass(frozen=True, slots=True)
class Finding:
    fingerprint: str
    scanner: str
    kind: Kind
    rule_id: str
    severity: Severity
    title: str = ""
    package: str | None = None
    installed_version: str | None = None
    fixed_version: str | None = None
    path: str | None = None
    line: int | None = None
    target: str | None = None
    references: tuple[str, ...] = field(default_factory=tuple)
    first_seen: datetime | None = None

    @property
    def fixable(self) -> bool:
        return bool(self.fixed_version)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["severity"] = self.severity.name
        data["references"] = list(self.references)
        data["fixable"] = self.fixable
        data["first_seen"] = self.first_seen.isoformat() if self.first_seen else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        first_seen = data.get("first_seen")
        if isinstance(first_seen, str):
            first_seen = datetime.fromisoformat(first_seen.replace("Z", "+00:00"))
        return cls(
            fingerprint=str(data.get("fingerprint") or ""),
            scanner=str(data.get("scanner") or ""),
            kind=Kind(data["kind"]),
            rule_id=str(data["rule_id"]),
            severity=Severity.parse(str(data.get("severity", "UNKNOWN"))),
            title=str(data.get("title") or ""),
            package=data.get("package"),
            installed_version=data.get("installed_version"),
            fixed_version=data.get("fixed_version"),
            path=data.get("path"),
            line=data.get("line"),
            target=data.get("target"),
            references=tuple(data.get("references") or ()),
            first_seen=first_seen,
        )


def fingerprint_of(*parts: object) -> str:
    """A stable identity: the same issue in the next scan hashes the same.

    Parts are joined with a separator that cannot occur in scanner output, so ("a b", "c") and
    ("a", "b c") never collide.
    """
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def secret_hash(text: str) -> str:
    """A one-way token for a secret: enough to tell two secrets apart, never enough to recover one."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
