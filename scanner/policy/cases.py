"""Policy test cases (`policies/tests/*.yaml`): findings in, expected decision and reasons out.

Pure: cases are parsed from YAML text and run against a PolicySet; `releasegate policy test` reads
the files and prints the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scanner.findings import Finding, Kind, ScannerName, Severity, fingerprint_of

from .engine import judge
from .loader import PolicyNotFoundError, PolicySet, Problem

_SCANNER_FOR = {
    Kind.CODE: ScannerName.SEMGREP,
    Kind.MISCONFIGURATION: ScannerName.TRIVY_FS,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseFinding(_Strict):
    kind: Kind
    rule_id: str
    severity: str = "UNKNOWN"
    fingerprint: str | None = None
    scanner: str | None = None
    title: str = ""
    package: str | None = None
    installed_version: str | None = None
    fixed_version: str | None = None
    path: str | None = None
    line: int | None = None
    first_seen: datetime | None = None

    def to_finding(self) -> Finding:
        fp = self.fingerprint or fingerprint_of(
            self.kind, self.rule_id, self.package, self.installed_version, self.path, self.line
        )
        return Finding(
            fingerprint=fp,
            scanner=self.scanner or _SCANNER_FOR.get(self.kind, ScannerName.TRIVY_IMAGE),
            kind=self.kind,
            rule_id=self.rule_id,
            severity=Severity.parse(self.severity),
            title=self.title,
            package=self.package,
            installed_version=self.installed_version,
            fixed_version=self.fixed_version,
            path=self.path,
            line=self.line,
            first_seen=self.first_seen,
        )


class Expect(_Strict):
    decision: Literal["pass", "warn", "fail"]
    # rules that triggered (count above max), blocking or warning; checked only when given
    reasons: list[str] | None = None
    exceptions_applied: list[str] | None = None


class Case(_Strict):
    name: str = Field(min_length=1)
    environment: str
    service: str = "backend"
    now: datetime | None = None
    baseline: list[str] | None = None  # fingerprints known from the last passing scan
    findings: list[CaseFinding] = Field(default_factory=list)
    expect: Expect


class CaseFile(_Strict):
    apiVersion: Literal["releasegate/v1"]
    kind: Literal["PolicyTest"]
    cases: list[Case]


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: str
    name: str
    ok: bool
    message: str


def load_cases(directory: Path) -> tuple[list[tuple[str, Case]], list[Problem]]:
    cases: list[tuple[str, Case]] = []
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        rel = str(path.relative_to(directory.parent)) if directory.parent in path.parents else str(path)
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
            parsed = CaseFile.model_validate(data)
        except yaml.YAMLError as exc:
            problems.append(Problem(rel, 0, f"invalid YAML: {exc}"))
            continue
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                problems.append(Problem(rel, 0, f"{field}: {err['msg']}"))
            continue
        cases += [(rel, case) for case in parsed.cases]
    seen: set[str] = set()
    for rel, case in cases:
        if case.name in seen:
            problems.append(Problem(rel, 0, f"duplicate case name {case.name!r}"))
        seen.add(case.name)
    return cases, problems


def run_case(policy_set: PolicySet, case: Case, *, file: str, default_now: datetime) -> CaseResult:
    now = case.now or default_now
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        result = judge(
            policy_set,
            [f.to_finding() for f in case.findings],
            service=case.service,
            environment=case.environment,
            now=now,
            baseline=frozenset(case.baseline) if case.baseline is not None else None,
        )
    except PolicyNotFoundError as exc:
        return CaseResult(file, case.name, False, str(exc))
    wrong: list[str] = []
    if result.decision.value != case.expect.decision:
        wrong.append(f"decision {result.decision.value}, expected {case.expect.decision}")
    triggered = sorted(r.rule_id for r in result.reasons if r.triggered)
    if case.expect.reasons is not None and triggered != sorted(case.expect.reasons):
        wrong.append(f"reasons {triggered}, expected {sorted(case.expect.reasons)}")
    applied = sorted(str(e["id"]) for e in result.exceptions_applied)
    if case.expect.exceptions_applied is not None and applied != sorted(case.expect.exceptions_applied):
        wrong.append(f"exceptions {applied}, expected {sorted(case.expect.exceptions_applied)}")
    return CaseResult(file, case.name, not wrong, "; ".join(wrong) or result.decision.value)
