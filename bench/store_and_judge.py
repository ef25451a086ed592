"""100,000 findings stored and judged: bulk insert into PostgreSQL (and SQLite), then the verdict.

Prints the seconds for storing, for judging (load + first_seen + evaluate + verdict) and the total
(target: under 10 s).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._data import synthetic_findings  # noqa: E402
from scanner import pipeline, store  # noqa: E402
from scanner.config import Settings  # noqa: E402
from scanner.db import migrate, session_scope  # noqa: E402
from scanner.models import Scan  # noqa: E402

N = 100_000
PG_ADMIN = os.environ.get("RELEASEGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def run(label: str, url: str, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, database_url=url, policy_dir=ROOT / "policies")
    migrate(url)
    sessions = partial(session_scope, url)
    findings = synthetic_findings(N)
    scan = Scan(id=uuid.uuid4().hex, service="bench", environment="prod", request_key="bench",
                policy_digest="", tools={})  # fmt: skip
    with sessions() as session:
        store.create_scan(session=session, scan=scan, jobs=["trivy-image"])
    start = time.perf_counter()
    with sessions() as session:
        store.save_findings(session=session, scan=scan, findings=findings)
        job = store.get_job(session=session, scan_id=scan.id, name="trivy-image")
        assert job is not None
        job.status = "done"
    stored = time.perf_counter() - start
    start = time.perf_counter()
    doc = pipeline.judge_scan(settings, sessions, scan.id)
    judged = time.perf_counter() - start
    assert doc is not None
    print(f"store_and_judge[{label}]: {N} findings stored in {stored:.2f} s, judged in {judged:.2f} s, "
          f"total {stored + judged:.2f} s (target < 10 s), decision {doc['decision']}")  # fmt: skip


def main() -> None:
    name = f"rg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run("postgresql", f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", Path(tmp))
            run("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp))
    finally:
        from scanner.db import get_engine

        get_engine.cache_clear()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
