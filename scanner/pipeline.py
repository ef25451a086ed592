"""One scan's steps as plain functions that the tasks call: scan with one tool, store, judge."""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from scanner import store
from scanner.adapters import registry, semgrep, trivy
from scanner.adapters._process import ScannerError
from scanner.config import Settings
from scanner.findings import Finding, ScannerName
from scanner.models import Scan, ScanJob
from scanner.policy.engine import counts, judge
from scanner.policy.live import LivePolicies
from scanner.policy.loader import PolicyNotFoundError
from scanner.policy.result import Decision, verdict_document

log = logging.getLogger(__name__)

_policies: dict[Path, LivePolicies] = {}
_tools: dict[str, tuple[float, dict[str, str]]] = {}
TOOLS_TTL = 60.0


def live_policies(settings: Settings) -> LivePolicies:
    # Keyed by the configured path as given: resolving it on every verdict request costs syscalls.
    live = _policies.get(settings.policy_dir)
    if live is None:
        live = _policies[settings.policy_dir] = LivePolicies(settings.policy_dir.resolve())
    return live


def tool_versions(settings: Settings) -> dict[str, str]:
    """Scanner versions and the database date, cached briefly: they key the reuse of results."""
    cache_key = f"{settings.trivy_bin}|{settings.semgrep_bin}|{settings.resolved_trivy_cache_dir}"
    hit = _tools.get(cache_key)
    if hit and time.monotonic() - hit[0] < TOOLS_TTL:
        return hit[1]
    versions = trivy.version_info(settings.trivy_bin, settings.resolved_trivy_cache_dir)
    versions["semgrep"] = semgrep.version(settings.semgrep_bin, settings.data_dir.resolve() / "semgrep-home")
    versions["semgrep_rules"] = ruleset_digest(settings.semgrep_rule_dirs)
    _tools[cache_key] = (time.monotonic(), versions)
    return versions


def ruleset_digest(folders: list[Path]) -> str:
    """sha256 over every rule file's path and content: a rule change means new Semgrep results."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")]):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def scan_folder(settings: Settings, scan_id: str) -> Path:
    return settings.scans_dir / scan_id


def jobs_for(*, has_image: bool, has_source: bool) -> list[str]:
    jobs = []
    if has_image:
        jobs.append(ScannerName.TRIVY_IMAGE.value)
    if has_source:
        jobs += [ScannerName.SEMGREP.value, ScannerName.TRIVY_FS.value]
    return jobs


def trivy_options(settings: Settings) -> trivy.TrivyOptions:
    secret_config = settings.policy_dir / "trivy-secret.yaml"
    return trivy.TrivyOptions(
        binary=settings.trivy_bin,
        cache_dir=settings.resolved_trivy_cache_dir,
        skip_db_update=settings.trivy_skip_db_update,
        db_repository=settings.trivy_db_repository,
        timeout=settings.scanner_timeout_seconds,
        memory_mb=settings.scanner_memory_mb,
        secret_config=secret_config if secret_config.exists() else None,
        registry_username=settings.registry_username,
        registry_password=settings.registry_password,
        insecure=settings.registry_insecure,
    )


def _reused(
    session_factory: Callable[[], Any], scan: Scan, job_name: str
) -> tuple[list[Finding], list[tuple[str, str]]] | None:
    """The findings of the same job in the donor scan (same artifacts, tools and rules), if it has them."""
    if not scan.reuse_of:
        return None
    with session_factory() as session:
        donor_job = store.get_job(session=session, scan_id=scan.reuse_of, name=job_name)
        if donor_job is None or donor_job.status != "done":
            return None
        findings = [
            f for f in store.load_findings(session=session, scan_id=scan.reuse_of) if f.scanner == job_name
        ]
        digests = [(d.digest, d.kind) for d in store.digests_of(session=session, scan_id=scan.reuse_of)]
    # first_seen belongs to this scan's service: save_findings computes it again
    return [replace(f, first_seen=None) for f in findings], digests


def _run_tool(settings: Settings, scan: Scan, job_name: str) -> tuple[list[Finding], list[tuple[str, str]]]:
    """Run one scanner; return its findings and any image digests it learnt."""
    folder = scan_folder(settings, scan.id)
    work = folder / "work" / job_name
    work.mkdir(parents=True, exist_ok=True)
    if job_name == ScannerName.SEMGREP:
        source = folder / "source"
        opts = semgrep.SemgrepOptions(
            binary=settings.semgrep_bin,
            rule_dirs=settings.semgrep_rule_dirs,
            home=settings.data_dir.resolve() / "semgrep-home",
            timeout=settings.scanner_timeout_seconds,
            memory_mb=settings.scanner_memory_mb,
        )
        data = semgrep.run_semgrep(opts, source)
        return (
            semgrep.parse_report(data, read_lines=semgrep.file_line_reader(source), source_root=str(source)),
            [],
        )
    opts_t = trivy_options(settings)
    if job_name == ScannerName.TRIVY_FS:
        data = trivy.run_trivy(trivy.fs_command(opts_t, folder / "source"), opts_t, cwd=work)
        return trivy.parse_report(data, scanner=job_name), []
    if job_name == ScannerName.TRIVY_IMAGE:
        archive = folder / "image.tar"
        if archive.exists():
            return _trivy_image(trivy.image_command(opts_t, archive=archive), opts_t, work, job_name)
        if not scan.image_ref:
            raise ScannerError("no image to scan")
        parsed, platforms = registry.resolve(
            scan.image_ref,
            username=settings.registry_username,
            password=settings.registry_password,
            insecure=settings.registry_insecure,
        )
        if not platforms:
            return _trivy_image(trivy.image_command(opts_t, ref=scan.image_ref), opts_t, work, job_name)
        # A multi-arch index: every platform image is scanned and judged, not only the host's.
        findings: list[Finding] = []
        digests: list[tuple[str, str]] = []
        for image in platforms:
            ref = parsed.with_digest(image.digest)
            found, learnt = _trivy_image(trivy.image_command(opts_t, ref=ref), opts_t, work, job_name)
            findings += found
            digests += [(image.digest, "manifest"), *learnt]
        return findings, digests
    raise ScannerError(f"unknown job {job_name!r}")


def _trivy_image(
    args: list[str], opts: trivy.TrivyOptions, work: Path, job_name: str
) -> tuple[list[Finding], list[tuple[str, str]]]:
    data = trivy.run_trivy(args, opts, cwd=work)
    meta = data.get("Metadata") or {}
    digests = [(d, "config") for d in [meta.get("ImageID")] if d]
    digests += [(d.rsplit("@", 1)[-1], "manifest") for d in meta.get("RepoDigests") or [] if "@" in d]
    return trivy.parse_report(data, scanner=job_name), digests


def run_job(
    settings: Settings, session_factory: Callable[[], Any], scan_id: str, job_name: str
) -> str | None:
    """Run one scanner job of a scan. Returns the scan id when every job of the scan has finished.

    Idempotent: a finished job is not run again (a redelivered task only re-signals readiness).
    """
    with session_factory() as session:
        job = store.get_job(session=session, scan_id=scan_id, name=job_name)
        if job is None:
            log.warning("job %s of scan %s vanished", job_name, scan_id)
            return None
        job_id = job.id
        if job.status in store.FINISHED:
            return _ready(session, job.scan_id)  # a redelivery of finished work: only re-signal
        now = datetime.now(UTC)
        stale = now - timedelta(
            seconds=settings.scanner_timeout_seconds + settings.reaper_running_grace_seconds
        )
        # Claimed atomically: of two deliveries of one job (a redelivery, a reaper re-enqueue), only
        # one runs the scanner; a job counts as abandoned only once its time limit and grace passed.
        if not store.claim_job(session=session, job_id=job.id, now=now, stale_before=stale):
            log.info("job %s of scan %s is already running elsewhere", job_name, scan_id)
            return None
        scan = store.get_scan(session=session, scan_id=job.scan_id)
        if scan.status == "queued":
            scan.status, scan.started_at = "running", now
            session.add(scan)
    error: str | None = None
    findings: list[Finding] = []
    digests: list[tuple[str, str]] = []
    try:
        reused = _reused(session_factory, scan, job.name)
        findings, digests = reused if reused is not None else _run_tool(settings, scan, job.name)
    except Exception as exc:  # any failure of a scanner fails the scan closed, never open
        log.exception("job %s (%s) of scan %s failed", job.id, job.name, scan.id)
        error = f"{type(exc).__name__}: {exc}"[:4000]
    with session_factory() as session:
        job = session.get(ScanJob, job_id)
        assert job is not None
        if error is None:
            job.finding_count = store.save_findings(session=session, scan=scan, findings=findings)
            for digest, kind in digests:
                store.bind_digest(session=session, scan_id=scan.id, digest=digest, kind=kind)
        job.status, job.error, job.finished_at = ("error" if error else "done"), error, datetime.now(UTC)
        session.add(job)
    with session_factory() as session:
        return _ready(session, scan.id)


def _ready(session: Session, scan_id: str) -> str | None:
    jobs = store.jobs_of(session=session, scan_id=scan_id)
    return scan_id if all(j.status in store.FINISHED for j in jobs) else None


def judge_scan(
    settings: Settings,
    session_factory: Callable[[], Any],
    scan_id: str,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> dict[str, Any] | None:
    """Evaluate a finished scan under the live policy set and store the verdict (idempotent)."""
    now = now or datetime.now(UTC)
    with session_factory() as session:
        scan = store.get_scan(session=session, scan_id=scan_id)
        if (
            not force
            and scan.status in store.FINISHED
            and store.latest_verdict(session=session, scan_id=scan_id)
        ):
            return None
        jobs = store.jobs_of(session=session, scan_id=scan_id)
        failed = [j for j in jobs if j.status == "error"]
        findings = store.load_findings(session=session, scan_id=scan_id)
        baseline = store.baseline_fingerprints(
            session=session, service=scan.service, environment=scan.environment, before=scan.created_at
        )
        policy_set = live_policies(settings).get()
        detail = None
        try:
            policy = policy_set.policy_for(scan.environment)
            evaluation = judge(
                policy_set,
                findings,
                service=scan.service,
                environment=scan.environment,
                now=now,
                baseline=baseline,
            )
            decision = evaluation.decision
            stale_db = database_too_old(
                settings, scan.tools, now, uses_trivy=any(j.name != "semgrep" for j in jobs)
            )
            if stale_db and not policy.allow_stale_db:
                decision, detail = Decision.ERROR, stale_db
        except PolicyNotFoundError as exc:
            evaluation, decision, detail = None, Decision.ERROR, str(exc)
        if failed:
            # A scanner that did not finish may have hidden anything: fail closed.
            decision = Decision.ERROR
            detail = "; ".join(f"{j.name}: {j.error}" for j in failed)
        scan_counts = counts(findings)
        document = verdict_document(
            evaluation,
            decision=decision,
            service=scan.service,
            environment=scan.environment,
            scan_id=scan.id,
            evaluated_at=now.isoformat().replace("+00:00", "Z"),
            counts=scan_counts,
            tools=scan.tools,
            policy_digest=policy_set.digest,
            detail=detail,
        )
        store.mark_new(session=session, scan_id=scan_id, baseline=baseline)
        store.save_verdict(session=session, scan=scan, document=document, evaluated_at=now)
        store.audit(
            session=session,
            actor="worker",
            action="verdict",
            subject=scan.id,
            detail={
                "decision": document["decision"],
                "service": scan.service,
                "environment": scan.environment,
                "policy_digest": policy_set.digest,
            },
        )
        scan.status = "error" if failed else "done"
        scan.error = detail if failed else None
        scan.finished_at = now
        scan.counts = scan_counts
        session.add(scan)
    if not failed:
        # The uploads have been scanned; keep the folder small but leave the source for fingerprints.
        shutil.rmtree(scan_folder(settings, scan_id) / "work", ignore_errors=True)
    return document


def reap(
    settings: Settings, session_factory: Callable[[], Any], *, now: datetime | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """Work to enqueue again: jobs still queued after a while (a message the broker lost), jobs
    running past their time limit (a worker that died), scans whose jobs all finished but that were
    never judged. Returns (scan id, job name) pairs and scan ids to judge. Redelivery is safe: jobs
    and judging are idempotent."""
    now = now or datetime.now(UTC)
    queued_before = now - timedelta(seconds=settings.reaper_queued_after_seconds)
    running_before = now - timedelta(
        seconds=settings.scanner_timeout_seconds + settings.reaper_running_grace_seconds
    )
    jobs: list[tuple[str, str]] = []
    judge: list[str] = []
    with session_factory() as session:
        for scan in store.unfinished_scans(session=session):
            scan_jobs = store.jobs_of(session=session, scan_id=scan.id)
            if all(j.status in store.FINISHED for j in scan_jobs):
                last = max((_aware(j.finished_at) for j in scan_jobs if j.finished_at), default=None)
                if last is None or last < now - timedelta(seconds=60):
                    judge.append(scan.id)  # its judge task was lost
                continue
            for job in scan_jobs:
                if job.status == "queued" and _aware(scan.created_at) < queued_before:
                    jobs.append((scan.id, job.name))
                elif job.status == "running" and job.started_at and _aware(job.started_at) < running_before:
                    jobs.append((scan.id, job.name))
    return jobs, judge


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def database_too_old(
    settings: Settings, tools: dict[str, Any], now: datetime, *, uses_trivy: bool
) -> str | None:
    """Why the scan's vulnerability database is too old to trust, or None."""
    if not uses_trivy or settings.trivy_db_max_age_hours <= 0:
        return None
    raw = str(tools.get("trivy_db_updated_at") or "")
    try:
        updated = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return f"the Trivy database has no valid UpdatedAt ({raw!r})"
    age = now - _aware(updated)
    if age > timedelta(hours=settings.trivy_db_max_age_hours):
        return (
            f"the Trivy database was updated {age.days} days ago ({raw}), more than the allowed "
            f"{settings.trivy_db_max_age_hours:g} h: update or mirror it (RELEASEGATE_TRIVY_DB_REPOSITORY)"
        )
    return None


def freshness_of(settings: Settings, environment: str) -> timedelta | None:
    try:
        seconds = live_policies(settings).get().policy_for(environment).freshness_seconds
    except PolicyNotFoundError:
        return None
    return timedelta(seconds=seconds) if seconds else None
