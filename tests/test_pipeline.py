"""The scan steps as plain functions on real PostgreSQL and the real scanners: idempotent jobs, first_seen
kept across scans, `new` against the last passing scan, fail-closed judging."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from scanner import pipeline, store
from scanner.config import Settings
from scanner.db import migrate, session_scope
from scanner.models import FindingRow, Scan
from tests.conftest import BIN, REPO

pytestmark = pytest.mark.slow

CODE = 'import subprocess\n\n\ndef run(cmd):\n    subprocess.run("sh -c " + cmd, shell=True)\n'


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, trivy_cache: Path) -> Settings:
    s = Settings(
        data_dir=tmp_path / "data",
        database_url=pg_url,
        policy_dir=REPO / "policies",
        trivy_cache_dir=trivy_cache,
        trivy_bin=str(BIN / "trivy"),
        semgrep_bin=str(BIN / "semgrep"),
    )
    migrate(s.resolved_database_url)
    return s


@pytest.fixture
def sessions(settings: Settings) -> Callable[[], AbstractContextManager[Any]]:
    return partial(session_scope, settings.resolved_database_url)


def new_scan(
    settings: Settings,
    sessions: Callable[[], AbstractContextManager[Any]],
    *,
    service: str,
    code: str,
    environment: str = "prod",
) -> str:
    scan = Scan(
        id=f"{service}{datetime.now(UTC).timestamp():.6f}".replace(".", ""),
        service=service,
        environment=environment,
        request_key="k",
        policy_digest="d",
        tools={},
    )
    source = pipeline.scan_folder(settings, scan.id) / "source"
    source.mkdir(parents=True)
    (source / "run.py").write_text(code)
    with sessions() as session:
        store.create_scan(session=session, scan=scan, jobs=["semgrep"])
    return scan.id


def test_a_job_runs_once_even_when_its_task_is_delivered_twice(settings: Settings, sessions: Any) -> None:
    scan_id = new_scan(settings, sessions, service="idem", code=CODE)

    assert pipeline.run_job(settings, sessions, scan_id, "semgrep") == scan_id
    with sessions() as session:
        first = store.get_job(session=session, scan_id=scan_id, name="semgrep")
    assert first is not None and first.status == "done" and first.finding_count == 1
    # the source is gone: a second real run would now find nothing and fail, a skipped one cannot
    (pipeline.scan_folder(settings, scan_id) / "source" / "run.py").unlink()
    assert pipeline.run_job(settings, sessions, scan_id, "semgrep") == scan_id
    with sessions() as session:
        again = store.get_job(session=session, scan_id=scan_id, name="semgrep")
        rows = list(session.exec(select(FindingRow).where(FindingRow.scan_id == scan_id)))
    assert again is not None and again.finished_at == first.finished_at
    assert len(rows) == 1

    doc = pipeline.judge_scan(settings, sessions, scan_id)
    assert doc is not None and doc["decision"] == "fail"
    assert pipeline.judge_scan(settings, sessions, scan_id) is None  # judged once


def test_first_seen_survives_rescans_and_new_compares_with_the_last_pass(
    settings: Settings, sessions: Any
) -> None:
    medium = "import tempfile\n\n\ndef f():\n    return tempfile.mktemp()\n"
    first = new_scan(settings, sessions, service="baseline", code=medium, environment="dev")
    pipeline.run_job(settings, sessions, first, "semgrep")
    assert pipeline.judge_scan(settings, sessions, first)["decision"] in ("pass", "warn")  # type: ignore[index]

    second = new_scan(settings, sessions, service="baseline", code=medium + "\n" + CODE, environment="dev")
    pipeline.run_job(settings, sessions, second, "semgrep")
    pipeline.judge_scan(settings, sessions, second)
    with sessions() as session:
        rows = {r.rule_id: r for r in session.exec(select(FindingRow).where(FindingRow.scan_id == second))}
        old = session.exec(select(FindingRow).where(FindingRow.scan_id == first)).one()
    assert rows["python-subprocess-shell-true"].is_new is True
    mktemp = next(r for r in rows.values() if r.rule_id != "python-subprocess-shell-true")
    assert mktemp.is_new is False
    assert mktemp.first_seen == old.first_seen


def test_a_failed_job_makes_the_verdict_error(settings: Settings, sessions: Any) -> None:
    broken = settings.model_copy(update={"semgrep_bin": str(BIN / "no-such-semgrep")})
    scan_id = new_scan(settings, sessions, service="crash", code=CODE)
    assert pipeline.run_job(broken, sessions, scan_id, "semgrep") == scan_id
    doc = pipeline.judge_scan(broken, sessions, scan_id)
    assert doc is not None and doc["decision"] == "error"
    assert "no-such-semgrep" in doc["detail"]
    with sessions() as session:
        assert store.get_scan(session=session, scan_id=scan_id).status == "error"


def test_the_reaper_finds_lost_jobs_dead_workers_and_unjudged_scans(
    settings: Settings, sessions: Any
) -> None:
    from datetime import timedelta

    from scanner.models import ScanJob

    lost = new_scan(settings, sessions, service="lost", code=CODE)  # queued, its message lost
    dead = new_scan(settings, sessions, service="dead", code=CODE)  # a worker died while running it
    unjudged = new_scan(settings, sessions, service="unjudged", code=CODE)
    fresh = new_scan(settings, sessions, service="fresh", code=CODE)  # just submitted: leave it alone
    pipeline.run_job(settings, sessions, unjudged, "semgrep")
    later = datetime.now(UTC) + timedelta(seconds=settings.scanner_timeout_seconds + 600)
    with sessions() as session:
        job = store.get_job(session=session, scan_id=dead, name="semgrep")
        assert isinstance(job, ScanJob)
        job.status, job.started_at = "running", datetime.now(UTC)
        session.add(job)
        store.get_scan(session=session, scan_id=fresh).created_at = later

    jobs, judge = pipeline.reap(settings, sessions, now=later)

    assert (lost, "semgrep") in jobs and (dead, "semgrep") in jobs
    assert all(scan_id != fresh for scan_id, _ in jobs)
    assert unjudged in judge and lost not in judge
    doc = pipeline.judge_scan(settings, sessions, unjudged)
    assert doc is not None
    _, judge_after = pipeline.reap(settings, sessions, now=later)
    assert unjudged not in judge_after


def test_the_same_artifacts_for_another_environment_reuse_findings_without_a_scanner(
    settings: Settings, sessions: Any
) -> None:
    from scanner import intake

    source = settings.data_dir / "upload"
    source.mkdir(parents=True)
    (source / "run.py").write_text(CODE)
    import tarfile

    archive = settings.data_dir / "src.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "run.py", arcname="run.py")

    def submit(environment: str, cfg: Settings) -> str:
        copy = settings.data_dir / f"{environment}.tar.gz"
        copy.write_bytes(archive.read_bytes())
        req = intake.ScanRequest(service="reuse-env", environment=environment, source_tar=copy)
        with sessions() as session:
            accepted = intake.accept(req, settings=cfg, session=session)
        for job in accepted.jobs:
            pipeline.run_job(cfg, sessions, accepted.scan.id, job.name)
        return accepted.scan.id

    dev = submit("dev", settings)
    assert pipeline.judge_scan(settings, sessions, dev)["decision"] == "warn"  # type: ignore[index]
    # no scanner can start now: if the prod scan ran one, its jobs would fail
    broken = settings.model_copy(
        update={"semgrep_bin": "/nonexistent/semgrep", "trivy_bin": "/nonexistent/trivy"}
    )
    pipeline._tools.clear()
    prod = submit("prod", settings)  # intake asks the real tools for their versions
    with sessions() as session:
        assert store.get_scan(session=session, scan_id=prod).reuse_of == dev
    for job in ("semgrep", "trivy-fs"):
        with sessions() as session:
            j = store.get_job(session=session, scan_id=prod, name=job)
            assert j is not None
            j.status = "queued"
        pipeline.run_job(broken, sessions, prod, job)
    doc = pipeline.judge_scan(broken, sessions, prod)
    assert doc is not None and doc["decision"] == "fail"  # the same HIGH code finding blocks in prod
    assert [r["rule_id"] for r in doc["reasons"]] == ["high-code"]


def test_a_vulnerability_database_past_its_age_makes_the_verdict_error(
    settings: Settings, sessions: Any
) -> None:
    scan_id = new_scan(settings, sessions, service="old-db", code="x = 1\n")
    with sessions() as session:
        scan = store.get_scan(session=session, scan_id=scan_id)
        scan.tools = pipeline.tool_versions(settings)  # the fixture database says UpdatedAt 2024-01-01
        from scanner.models import ScanJob

        session.add(ScanJob(scan_id=scan_id, name="trivy-fs", status="done"))
    pipeline.run_job(settings, sessions, scan_id, "semgrep")
    strict = settings.model_copy(update={"trivy_db_max_age_hours": 72})
    doc = pipeline.judge_scan(strict, sessions, scan_id, force=True)
    assert doc is not None and doc["decision"] == "error"
    assert "Trivy database was updated" in doc["detail"]
    relaxed = pipeline.judge_scan(settings, sessions, scan_id, force=True)
    assert relaxed is not None and relaxed["decision"] == "pass"


def test_a_second_delivery_of_a_running_job_does_not_run_the_scanner_again(
    settings: Settings, sessions: Any
) -> None:
    scan_id = new_scan(settings, sessions, service="claimed", code=CODE)
    with sessions() as session:
        job = store.get_job(session=session, scan_id=scan_id, name="semgrep")
        assert job is not None
        now = datetime.now(UTC)
        assert store.claim_job(session=session, job_id=job.id, now=now, stale_before=now) is True
    # another delivery arrives while the first one runs: with no scanner available it would fail
    broken = settings.model_copy(update={"semgrep_bin": "/nonexistent/semgrep"})
    assert pipeline.run_job(broken, sessions, scan_id, "semgrep") is None
    with sessions() as session:
        job = store.get_job(session=session, scan_id=scan_id, name="semgrep")
        assert job is not None and job.status == "running" and job.error is None
