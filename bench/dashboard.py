"""Dashboard server times on a large seeded data set: 100 services x 3 environments x 10 scans, the
newest scan of each with 500 findings and the older ones with 20 (about 200,000 findings in all),
every scan judged by the real policy engine. One service (service-000) also has a long history: 240
more scans per environment over the last 30 days, more than its trend chart draws (200).

Prints the median and 95th-percentile server time of the overview (with a sparkline per cell), a
500-finding scan page (plain and filtered), CVE and package searches that hit every service, the
exceptions and policies pages and the trend pages of a service with 10 scans per environment and of the
one with 250 (target: under 200 ms), for PostgreSQL (when reachable) and SQLite. Requests go through
FastAPI's TestClient in this process, so the figures are the app's own time without a network. Asserts
nothing about time.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Json

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore", category=DeprecationWarning)

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from scanner import store  # noqa: E402
from scanner.api.app import create_app  # noqa: E402
from scanner.config import Settings  # noqa: E402
from scanner.db import get_engine, migrate, session_scope  # noqa: E402
from scanner.findings import Finding, Kind, Severity, fingerprint_of  # noqa: E402
from scanner.models import FindingRow, Scan, ScanJob, Verdict  # noqa: E402
from scanner.policy.engine import counts, evaluate  # noqa: E402
from scanner.policy.loader import PolicySet, load_policy_set  # noqa: E402
from scanner.policy.result import verdict_document  # noqa: E402

SERVICES = 100
ENVIRONMENTS = ("dev", "uat", "prod")
SCANS_PER_CELL = 10
LATEST_FINDINGS = 500
OLDER_FINDINGS = 20
HISTORY_SERVICE = 0  # service-000: a long history for the trend page's worst case
HISTORY_SCANS = 240  # per environment, spread over the 30 days before its 10 regular scans
RUNS = 20
PG_ADMIN = os.environ.get("RELEASEGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED_CVE = "CVE-2024-00007"  # finding 7 is a vulnerability in every scan: the search's worst case
KINDS = [Kind.VULNERABILITY] * 7 + [Kind.CODE, Kind.MISCONFIGURATION, Kind.LICENSE]
FINDING_COLUMNS = [c.name for c in FindingRow.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
COPY_COLUMNS = ", ".join(f'"{c}"' for c in FINDING_COLUMNS)  # `references` is a reserved word


@dataclass
class DataSet:
    scans: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    big_scan: str = ""  # the newest prod scan of the last service: 500 findings


def synthetic(service: int, n: int, rng: random.Random, now: datetime) -> list[Finding]:
    out = []
    for i in range(n):
        kind = Kind.VULNERABILITY if i == 7 else rng.choice(KINDS)
        vulnerable = kind is Kind.VULNERABILITY
        out.append(
            Finding(
                fingerprint=fingerprint_of("bench", service, i),
                scanner="semgrep" if kind is Kind.CODE else "trivy-image",
                kind=kind,
                rule_id=f"CVE-2024-{i:05d}" if vulnerable else f"rule-{i % 300}",
                severity=Severity(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])),
                title=f"synthetic finding {i} of service {service}",
                package=f"pkg{i % 400}" if vulnerable else None,
                installed_version="1.0.0" if vulnerable else None,
                fixed_version=f"1.{rng.randint(1, 9)}.0" if vulnerable and rng.random() < 0.6 else None,
                path=f"src/module{i % 97}.py",
                line=i % 400 + 1,
                first_seen=now - timedelta(days=rng.randint(0, 60)),
            )
        )
    return out


def build(policy_set: PolicySet) -> DataSet:
    rng = random.Random(7)
    now = datetime.now(UTC)
    data = DataSet()
    for s in range(SERVICES):
        service = f"service-{s:03d}"
        for env in ENVIRONMENTS:
            if s == HISTORY_SERVICE:
                for j in range(HISTORY_SCANS):  # oldest first, every ~2.7 hours from 30 days ago on
                    created = now - timedelta(days=30) + j * timedelta(days=27) / HISTORY_SCANS
                    findings = synthetic(s, OLDER_FINDINGS, rng, now)
                    add_scan(data, policy_set, service, env, SCANS_PER_CELL + j, created, findings)
            for k in range(SCANS_PER_CELL):
                newest = k == SCANS_PER_CELL - 1
                created = now - timedelta(hours=(SCANS_PER_CELL - k) * 6)
                findings = synthetic(s, LATEST_FINDINGS if newest else OLDER_FINDINGS, rng, now)
                scan_id = add_scan(data, policy_set, service, env, k, created, findings)
                if newest and env == "prod":
                    data.big_scan = scan_id
    return data


def add_scan(
    data: DataSet,
    policy_set: PolicySet,
    service: str,
    env: str,
    k: int,
    created: datetime,
    findings: list[Finding],
) -> str:
    scan_id = uuid.uuid4().hex
    judged = created + timedelta(minutes=2)
    evaluation = evaluate(
        findings,
        policy=policy_set.policy_for(env),
        policy_digest=policy_set.digest,
        exceptions=policy_set.exceptions,
        service=service,
        environment=env,
        now=judged,
    )
    scan_counts = counts(findings)
    data.scans.append(
        {
            "id": scan_id,
            "service": service,
            "environment": env,
            "status": "done",
            "created_at": created,
            "started_at": created,
            "finished_at": judged,
            "image_ref": f"registry.example/{service}:{k}",
            "image_digest": "sha256:" + uuid.uuid4().hex * 2,
            "request_key": uuid.uuid4().hex,
            "policy_digest": policy_set.digest,
            "tools": {"trivy": "0.76.0", "semgrep": "1.185.0"},
            "counts": scan_counts,
        }
    )
    for name in ("semgrep", "trivy-fs", "trivy-image"):
        data.jobs.append(
            {
                "scan_id": scan_id,
                "name": name,
                "status": "done",
                "started_at": created,
                "finished_at": created + timedelta(seconds=90),
                "finding_count": sum(1 for f in findings if f.scanner == name),
            }
        )
    for f in findings:
        row = {c: getattr(f, c, None) for c in FINDING_COLUMNS}
        row.update(scan_id=scan_id, kind=f.kind.value, severity=int(f.severity), references=[], is_new=False)
        data.findings.append(row)
    document = verdict_document(
        evaluation,
        service=service,
        environment=env,
        scan_id=scan_id,
        evaluated_at=judged.isoformat(),
        counts=scan_counts,
        policy_digest=policy_set.digest,
    )
    data.verdicts.append(
        {
            "scan_id": scan_id,
            "service": service,
            "environment": env,
            "decision": document["decision"],
            "policy_digest": policy_set.digest,
            "evaluated_at": judged,
            "document": document,
        }
    )
    return scan_id


def load(url: str, data: DataSet) -> str:
    """Write the data set; returns a read token."""
    migrate(url)
    with session_scope(url) as session:
        token = store.create_token(session=session, scopes=["read"], name="bench")
        for model, rows in ((Scan, data.scans), (ScanJob, data.jobs), (Verdict, data.verdicts)):
            session.execute(insert(model), rows)  # type: ignore[arg-type]
        if session.get_bind().dialect.name == "postgresql":
            cursor = session.connection().connection.cursor()
            with cursor.copy(f"COPY findings ({COPY_COLUMNS}) FROM STDIN") as copy:
                for row in data.findings:
                    copy.write_row([Json(row[c]) if c == "references" else row[c] for c in FINDING_COLUMNS])
        else:
            session.execute(insert(FindingRow), data.findings)  # type: ignore[arg-type]
    with get_engine(url).connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
    return token


def timed(call: Callable[[], Any]) -> tuple[float, float]:
    call()  # warm: templates compiled, connections open
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def run(label: str, url: str, data_dir: Path, data: DataSet) -> None:
    settings = Settings(data_dir=data_dir, database_url=url, policy_dir=ROOT / "policies")
    start = time.perf_counter()
    token = load(url, data)
    loaded = time.perf_counter() - start
    # The data set (about 200,000 dicts) stays alive in this process, which a server's never is: keep
    # the garbage collector from walking it again on every collection the requests trigger.
    gc.collect()
    gc.freeze()
    client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})
    pages = {
        "overview": "/ui/",
        "scan page (500 findings)": f"/ui/scans/{data.big_scan}",
        "scan page, CRITICAL, by package": f"/ui/scans/{data.big_scan}?severity=CRITICAL&sort=package",
        "search a CVE (in all 300 cells)": f"/ui/search?q={SHARED_CVE}",
        "search a package": "/ui/search?q=pkg42",
        "exceptions": "/ui/exceptions",
        "policies": "/ui/policies",
        "service trends (10 scans per env)": f"/ui/services/service-{SERVICES - 1:03d}",
        f"service trends ({SCANS_PER_CELL + HISTORY_SCANS} scans per env)": (
            f"/ui/services/service-{HISTORY_SERVICE:03d}"
        ),
    }
    print(f"dashboard[{label}]: loaded in {loaded:.1f} s; server time over {RUNS} requests (target < 200 ms)")
    for name, path in pages.items():

        def get(path: str = path) -> None:
            resp = client.get(path)
            if resp.status_code != 200:
                raise RuntimeError(f"{path}: {resp.status_code} {resp.text[:300]}")

        median, p95 = timed(get)
        print(f"  {name:34s} median {median:7.1f} ms   p95 {p95:7.1f} ms")
    get_engine(url).dispose()


def main() -> None:
    policy_set = load_policy_set(ROOT / "policies")
    start = time.perf_counter()
    data = build(policy_set)
    print(
        f"dashboard: {SERVICES} services x {len(ENVIRONMENTS)} environments x {SCANS_PER_CELL} scans, "
        f"{len(data.findings):,} findings ({LATEST_FINDINGS} in each newest scan), every scan judged; "
        f"service-{HISTORY_SERVICE:03d} has {HISTORY_SCANS} more scans per environment over 30 days; "
        f"built in {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        name = f"rg_bench_{uuid.uuid4().hex[:8]}"
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            print(f"dashboard[postgresql]: skipped, {PG_ADMIN} unreachable: {exc}")
        else:
            try:
                run("postgresql", f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", Path(tmp), data)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        run("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp), data)


if __name__ == "__main__":
    main()
