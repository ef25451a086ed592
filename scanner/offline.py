"""Judging reports produced elsewhere (`releasegate evaluate`): read files, detect the tool, evaluate."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from scanner.adapters import semgrep, trivy
from scanner.findings import Finding, ScannerName, UnknownSeverityError
from scanner.policy.engine import counts, judge
from scanner.policy.loader import load_policy_set
from scanner.policy.result import verdict_document


class UnreadableReportError(ValueError):
    pass


def findings_from_document(data: Any, *, name: str = "report") -> list[Finding]:
    try:
        if semgrep.is_semgrep_report(data):
            return semgrep.parse_report(data)
        if trivy.is_trivy_report(data):
            scanner = ScannerName.TRIVY_IMAGE if _is_image(data) else ScannerName.TRIVY_FS
            return trivy.parse_report(data, scanner=scanner)
    except (
        trivy.ReportFormatError,
        semgrep.ReportFormatError,
        UnknownSeverityError,
        KeyError,
        TypeError,
    ) as exc:
        raise UnreadableReportError(f"{name}: cannot read report: {exc}") from exc
    raise UnreadableReportError(f"{name}: neither a Trivy nor a Semgrep JSON report")


def _is_image(data: Any) -> bool:
    return isinstance(data, dict) and data.get("ArtifactType") == "container_image"


def read_report(path: Path) -> list[Finding]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableReportError(f"{path}: not readable JSON: {exc}") from exc
    return findings_from_document(data, name=str(path))


def evaluate_reports(
    paths: Sequence[Path], *, policy_dir: Path, environment: str, service: str | None, now: datetime
) -> tuple[dict[str, Any], list[Finding]]:
    findings: dict[str, Finding] = {}
    for path in paths:
        for f in read_report(path):
            findings.setdefault(f.fingerprint, f)
    policy_set = load_policy_set(policy_dir)
    items = list(findings.values())
    evaluation = judge(policy_set, items, service=service, environment=environment, now=now)
    doc = verdict_document(
        evaluation,
        service=service,
        environment=environment,
        scan_id=None,
        evaluated_at=now.isoformat().replace("+00:00", "Z"),
        counts=counts(items),
    )
    return doc, items
