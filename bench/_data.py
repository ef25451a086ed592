"""Synthetic findings for benchmarks: a realistic mix of kinds and severities."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from scanner.findings import Finding, Kind, Severity, fingerprint_of

KINDS = [Kind.VULNERABILITY] * 7 + [Kind.CODE, Kind.MISCONFIGURATION, Kind.LICENSE]


def synthetic_findings(n: int, *, seed: int = 7) -> list[Finding]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        kind = rng.choice(KINDS)
        sev = Severity(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4]))
        fixed = f"{rng.randint(1, 9)}.{rng.randint(0, 20)}" if rng.random() < 0.6 else None
        out.append(
            Finding(
                fingerprint=fingerprint_of("bench", i),
                scanner="trivy-image" if kind is not Kind.CODE else "semgrep",
                kind=kind,
                rule_id=f"CVE-2024-{i % 50000:05d}" if kind is Kind.VULNERABILITY else f"rule-{i % 300}",
                severity=sev,
                title=f"synthetic finding {i}",
                package=f"pkg{i % 2000}" if kind is Kind.VULNERABILITY else None,
                installed_version="1.0.0",
                fixed_version=fixed if kind is Kind.VULNERABILITY else None,
                path=f"src/module{i % 500}.py",
                line=i % 400 + 1,
                first_seen=now - timedelta(days=rng.randint(0, 60)),
            )
        )
    return out
