"""Seeded scans for dashboard tests: written straight into a gate's database with scanner.store and
judged by the real pipeline step (`pipeline.judge_scan`) under the bundled policies.

Fast (no scanner runs) and deterministic (fixed findings and fingerprints; only scan ids and clock
times differ between runs). The set covers every decision the overview shows:

| service        | dev                  | uat                      | prod                                 |
|----------------|----------------------|--------------------------|--------------------------------------|
| payments-api   | warn                 | warn                     | fail (CRITICAL CVE, XSS-looking text) |
| checkout-web   | warn (CVE-2023-0286) | pending (scan running)   | pass (an older scan failed)          |
| ledger         | pass                 | -                        | error (trivy-image failed)           |
| notifications  | -                    | pass (newer scan running) | stale (passed 30 h ago, 24 h fresh) |

payments-api prod also has a history for its trend page: older scans 9, 6 and 3 days ago (`HISTORY`),
with findings of their own (other CVEs and packages), so that nothing in the newest scan changes
whether it is new, how old it is or what the newest verdict says.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlmodel import Session

from scanner import pipeline, store
from scanner.config import Settings
from scanner.db import session_scope
from scanner.findings import Finding, Kind, Severity, fingerprint_of
from scanner.models import Scan

REPO = Path(__file__).resolve().parents[2]

CRITICAL_CVE = "CVE-2024-45337"
SHARED_CVE = "CVE-2023-0286"  # in payments-api prod (excepted by EXC-2026-014) and checkout-web dev
XSS_CODE_TITLE = "<img src=x onerror=alert(1)>"
XSS_TRIVY_TITLE = "libxml2: use-after-free in xmlValidatePopElement <script>alert(2)</script>"
LOW_FILLER = 60  # enough LOW findings in the failing prod scan to need a second page
TREND_CELL = ("payments-api", "prod")
# days ago -> counts by severity of an older scan of TREND_CELL
HISTORY: dict[int, dict[Severity, int]] = {
    9: {Severity.CRITICAL: 2, Severity.HIGH: 3, Severity.MEDIUM: 1, Severity.LOW: 4},
    6: {Severity.CRITICAL: 1, Severity.HIGH: 2, Severity.MEDIUM: 2, Severity.LOW: 4},
    3: {Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 5},
}
SCANNER_ERROR = (
    "ScannerError: trivy exited with status 1: FATAL image scan error: unable to inspect the image"
)

Sessions = Callable[[], AbstractContextManager[Session]]


@dataclass
class Seeded:
    scans: dict[tuple[str, str], str] = field(default_factory=dict)  # newest finished scan per cell
    running: dict[tuple[str, str], str] = field(default_factory=dict)  # unfinished scans
    history: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # older finished scans

    @property
    def failing_prod(self) -> str:
        return self.scans[("payments-api", "prod")]


def vuln(
    rule_id: str,
    severity: Severity,
    package: str,
    installed: str,
    fixed: str | None,
    title: str,
    *,
    scanner: str = "trivy-image",
) -> Finding:
    return Finding(
        fingerprint=fingerprint_of(scanner, rule_id, package, installed),
        scanner=scanner,
        kind=Kind.VULNERABILITY,
        rule_id=rule_id,
        severity=severity,
        title=title,
        package=package,
        installed_version=installed,
        fixed_version=fixed,
        target="registry.example/app (alpine 3.17.1)",
        references=(f"https://avd.aquasec.com/nvd/{rule_id.lower()}",),
    )


def code(rule_id: str, severity: Severity, path: str, line: int, title: str) -> Finding:
    return Finding(
        fingerprint=fingerprint_of("semgrep", rule_id, path, line),
        scanner="semgrep",
        kind=Kind.CODE,
        rule_id=rule_id,
        severity=severity,
        title=title,
        path=path,
        line=line,
    )


OPENSSL_HIGH = vuln(
    SHARED_CVE, Severity.HIGH, "openssl", "3.0.7-r0", "3.0.8-r0", "openssl: X.400 address type confusion"
)
CRITICAL = vuln(
    CRITICAL_CVE,
    Severity.CRITICAL,
    "golang.org/x/crypto",
    "v0.28.0",
    "0.31.0",
    "golang.org/x/crypto/ssh: misuse of ServerConfig.PublicKeyCallback may cause authorization bypass",
)
XSS_VULN = vuln("CVE-2024-25062", Severity.MEDIUM, "libxml2", "2.10.3-r1", "2.11.7-r0", XSS_TRIVY_TITLE)
XSS_CODE = code(
    "python.flask.security.xss.direct-use-of-jinja2", Severity.MEDIUM, "app/views.py", 42, XSS_CODE_TITLE
)


def _fillers(count: int) -> list[Finding]:
    return [
        vuln(f"CVE-2022-{40000 + i}", Severity.LOW, f"libfiller{i:02d}", "1.0.0-r0", None, f"low issue {i}")
        for i in range(count)
    ]


def _history_findings(counts: dict[Severity, int]) -> list[Finding]:
    # the same package for the same slot in every older scan, as a real image's history would have
    out = []
    for severity, n in counts.items():
        name = severity.name.lower()
        for i in range(n):
            rule_id = f"CVE-2021-{int(severity)}{i:03d}"
            out.append(vuln(rule_id, severity, f"libold-{name}{i}", "0.9.0", None, f"older {name} issue {i}"))
    return out


def seed(database_url: str, *, data_dir: Path, policy_dir: Path = REPO / "policies") -> Seeded:
    settings = Settings(data_dir=data_dir, database_url=database_url, policy_dir=policy_dir)
    sessions: Sessions = partial(session_scope, database_url)
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    seeded = Seeded()

    def add(
        service: str,
        env: str,
        findings: Sequence[Finding],
        *,
        created: datetime,
        judged: datetime | None = None,
        failed_job: str | None = None,
        running: bool = False,
        older: bool = False,
    ) -> None:
        scan_id = _scan(
            settings,
            sessions,
            service=service,
            environment=env,
            findings=findings,
            created=created,
            judged=judged,
            failed_job=failed_job,
            running=running,
        )
        if older:
            seeded.history.setdefault((service, env), []).append(scan_id)
        else:
            (seeded.running if running else seeded.scans)[(service, env)] = scan_id

    for days_ago, counts in sorted(HISTORY.items(), reverse=True):  # oldest first, as they happened
        add(*TREND_CELL, _history_findings(counts), created=now - timedelta(days=days_ago), older=True)
    prod_findings = [CRITICAL, OPENSSL_HIGH, XSS_VULN, XSS_CODE, *_fillers(LOW_FILLER)]
    add("payments-api", "prod", prod_findings, created=now - 2 * hour)
    add("payments-api", "uat", [vuln("CVE-2024-6119", Severity.HIGH, "openssl", "3.0.7-r0", "3.0.15-r0",
                                     "openssl: possible denial of service in X.509 name checks")],
        created=now - 3 * hour)  # fmt: skip
    add("payments-api", "dev", [XSS_CODE], created=now - 4 * hour)

    add("checkout-web", "prod", [CRITICAL], created=now - 30 * hour)  # superseded by the next one
    add("checkout-web", "prod", _fillers(3), created=now - 5 * hour)
    add("checkout-web", "dev", [OPENSSL_HIGH, *_fillers(2)], created=now - 6 * hour)
    add("checkout-web", "uat", [], created=now - timedelta(minutes=10), running=True)

    add("ledger", "prod", [], created=now - 1 * hour, failed_job="trivy-image")
    add("ledger", "dev", [], created=now - 7 * hour)

    add("notifications", "prod", _fillers(1), created=now - 31 * hour, judged=now - 30 * hour)
    add("notifications", "uat", [], created=now - 8 * hour)
    add("notifications", "uat", [], created=now - timedelta(minutes=5), running=True)
    return seeded


def _scan(
    settings: Settings,
    sessions: Sessions,
    *,
    service: str,
    environment: str,
    findings: Sequence[Finding],
    created: datetime,
    judged: datetime | None = None,
    failed_job: str | None = None,
    running: bool = False,
) -> str:
    jobs = ["semgrep", "trivy-fs", "trivy-image"]
    scan = Scan(
        id=uuid.uuid4().hex,
        service=service,
        environment=environment,
        status="running",
        created_at=created,
        started_at=created + timedelta(seconds=1),
        image_ref=f"registry.example/{service}:{created:%Y%m%d%H%M}",
        image_digest="sha256:" + fingerprint_of(service, environment, created.isoformat()) * 2,
        source_digest="sha256:" + fingerprint_of("source", service, created.isoformat()) * 2,
        commit=fingerprint_of("commit", service, created.isoformat())[:40],
        request_key=uuid.uuid4().hex,
        policy_digest=pipeline.live_policies(settings).get().digest,
        tools={"trivy": "0.76.0", "semgrep": "1.185.0", "trivy_db_updated_at": "2026-11-25T06:00:00Z"},
    )
    with sessions() as session:
        rows = store.create_scan(session=session, scan=scan, jobs=jobs)
        for index, job in enumerate(rows):
            if running:
                job.status = "running" if index == 0 else "queued"
                job.started_at = scan.started_at if index == 0 else None
                continue
            mine = [f for f in findings if f.scanner == job.name]
            job.started_at = created + timedelta(seconds=1)
            job.finished_at = created + timedelta(seconds=4 + 3 * index)
            if job.name == failed_job:
                job.status, job.error = "error", SCANNER_ERROR
            else:
                job.status = "done"
                job.finding_count = store.save_findings(session=session, scan=scan, findings=mine)
        session.add_all(rows)
    if not running:
        pipeline.judge_scan(settings, sessions, scan.id, now=judged or created + timedelta(seconds=20))
    return scan.id
