"""Scans: submit (JSON or multipart uploads), status, findings, digest binding."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from scanner import intake, store
from scanner.api import deps
from scanner.api.deps import ERROR_RESPONSES, Read, ScanWrite, SessionDep, SettingsDep
from scanner.config import Settings
from scanner.findings import Severity
from scanner.metrics import SCANS_SUBMITTED
from scanner.models import FindingRow, Scan
from scanner.queue import RUN_JOB
from scanner.reports import junit, sarif

router = APIRouter(responses=ERROR_RESPONSES)
log = logging.getLogger(__name__)


class SourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    git_url: str
    commit: str


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str
    environment: str
    image: str | None = None
    source: SourceRef | None = None
    commit: str | None = None
    force: bool = False


class DigestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


_SCAN_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/json": {"schema": ScanIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["service", "environment"],
                    "properties": {
                        "service": {"type": "string"},
                        "environment": {"type": "string"},
                        "commit": {"type": "string"},
                        "force": {"type": "boolean"},
                        "image_tar": {"type": "string", "format": "binary"},
                        "source_tar": {"type": "string", "format": "binary"},
                    },
                }
            },
        }
    }
}


@router.post("/scan", status_code=202, openapi_extra=_SCAN_BODY, tags=["scans"])
@router.post("/api/v1/scans", status_code=202, openapi_extra=_SCAN_BODY, tags=["scans"])
async def submit_scan(
    request: Request, settings: SettingsDep, session: SessionDep, _: ScanWrite
) -> JSONResponse:
    length = int(request.headers.get("content-length") or 0)
    if length > settings.max_upload_bytes * 2:
        raise intake.TooLargeError(f"request body exceeds {settings.max_upload_bytes * 2} bytes")
    ctype = request.headers.get("content-type", "")
    staging = Path(tempfile.mkdtemp(prefix="upload-", dir=_staging_root(settings)))
    try:
        if ctype.startswith("multipart/form-data"):
            req = await _from_form(request, settings, staging)
        else:
            try:
                body = ScanIn.model_validate(json.loads(await request.body() or b"null"))
            except (ValueError, RecursionError) as exc:
                message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                raise intake.BadRequestError(
                    f"invalid JSON body: {message}", status=422, code="invalid"
                ) from exc
            req = intake.ScanRequest(
                service=body.service,
                environment=body.environment,
                image_ref=body.image,
                commit=body.commit or (body.source.commit if body.source else None),
                git_url=body.source.git_url if body.source else None,
                git_commit=body.source.commit if body.source else None,
                force=body.force,
            )
        accepted = await run_in_threadpool(intake.accept, req, settings=settings, session=session)
    finally:
        await run_in_threadpool(_cleanup, staging)
    actor = "token:" + store.hash_token(deps.bearer_token(request) or "")[7:19]
    await run_in_threadpool(_audit_submission, session, actor, accepted)
    if not accepted.reused:
        # Enqueued only after the scan's transaction committed, so a worker always finds its rows.
        sender = request.app.state.celery
        try:
            for job in accepted.jobs:
                await run_in_threadpool(sender.send_task, RUN_JOB, args=[job.scan_id, job.name])
        except Exception:  # a broker outage loses nothing: the scan is stored and the reaper enqueues it
            log.exception("could not enqueue scan %s; the reaper will", accepted.scan.id)
    SCANS_SUBMITTED.labels(str(accepted.reused).lower()).inc()
    summary = scan_summary(accepted.scan, session=session, request=request)
    summary["reused"] = accepted.reused
    return JSONResponse(summary, status_code=200 if accepted.reused else 202)


def _audit_submission(session: Session, actor: str, accepted: intake.Accepted) -> None:
    scan = accepted.scan
    store.audit(
        session=session,
        actor=actor,
        action="scan",
        subject=scan.id,
        detail={
            "service": scan.service,
            "environment": scan.environment,
            "reused": accepted.reused,
            "image": scan.image_digest or scan.image_ref,
        },
    )
    session.commit()


def _staging_root(settings: Settings) -> str:
    root = settings.data_dir.resolve() / "staging"
    root.mkdir(parents=True, exist_ok=True)
    return str(root)


def _cleanup(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


async def _from_form(request: Request, settings: Settings, staging: Path) -> intake.ScanRequest:
    form = await request.form(max_files=2, max_fields=20)
    try:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        unknown = set(form.keys()) - {
            "service",
            "environment",
            "commit",
            "force",
            "image",
            "image_tar",
            "source_tar",
        }
        if unknown:
            raise intake.BadRequestError(
                f"unknown form fields: {sorted(unknown)}", status=422, code="invalid"
            )
        req = intake.ScanRequest(
            service=fields.get("service", ""),
            environment=fields.get("environment", ""),
            image_ref=fields.get("image") or None,
            commit=fields.get("commit") or None,
            force=fields.get("force", "").lower() in {"1", "true", "yes"},
        )
        for name in ("image_tar", "source_tar"):
            upload = form.get(name)
            if upload is None or isinstance(upload, str):
                continue
            dest = staging / f"{name}.bin"
            await run_in_threadpool(intake.save_upload, upload.file, dest, limit=settings.max_upload_bytes)
            setattr(req, name, dest)
        return req
    finally:
        await form.close()


def scan_summary(scan: Scan, *, session: Session, request: Request | None = None) -> dict[str, Any]:
    jobs = store.jobs_of(session=session, scan_id=scan.id)
    verdict = store.latest_verdict(session=session, scan_id=scan.id)
    digests = store.digests_of(session=session, scan_id=scan.id)
    base = f"/api/v1/scans/{scan.id}"
    return {
        "scan_id": scan.id,
        "id": scan.id,
        "service": scan.service,
        "environment": scan.environment,
        "status": scan.status,
        "created_at": _iso(scan.created_at),
        "started_at": _iso(scan.started_at),
        "finished_at": _iso(scan.finished_at),
        "image": {
            "ref": scan.image_ref,
            "digest": scan.image_digest,
            "digests": sorted({d.digest for d in digests}),
        },
        "source_digest": scan.source_digest,
        "commit": scan.commit,
        "jobs": [
            {
                "name": j.name,
                "status": j.status,
                "started_at": _iso(j.started_at),
                "finished_at": _iso(j.finished_at),
                "seconds": (j.finished_at - j.started_at).total_seconds()
                if j.finished_at and j.started_at
                else None,
                "findings": j.finding_count,
                "error": j.error,
            }
            for j in jobs
        ],
        "counts": scan.counts or {"by_kind": {}, "by_severity": {}},
        "tools": scan.tools,
        "error": scan.error,
        "verdict": verdict.document if verdict else None,
        "links": {
            "self": base,
            "findings": f"{base}/findings",
            "verdict": f"/api/v1/verdicts?scan={scan.id}",
        },
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    text: str = value.isoformat()
    return text if value.tzinfo else text + "Z"


@router.get("/api/v1/scans/{scan_id}", tags=["scans"])
async def get_scan(
    scan_id: str,
    session: SessionDep,
    _: Read,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=60,
            description="hold the answer up to this many seconds until the scan has a verdict (long polling)",
        ),
    ] = 0,
) -> dict[str, Any]:
    # Long polling: `scan --wait` learns of the verdict within a tenth of a second instead of a
    # polling interval, without hammering the API.
    deadline = time.monotonic() + wait
    while True:
        summary = await run_in_threadpool(_summary, session, scan_id)
        if summary["verdict"] is not None or time.monotonic() >= deadline:
            return summary
        await asyncio.sleep(0.1)


def _summary(session: Session, scan_id: str) -> dict[str, Any]:
    session.expire_all()  # re-read: the worker commits in another process
    return scan_summary(store.get_scan(session=session, scan_id=scan_id), session=session)


@router.get("/api/v1/scans/{scan_id}/findings", tags=["scans"])
def list_findings(
    scan_id: str,
    session: SessionDep,
    _: Read,
    kind: str | None = None,
    severity: Annotated[str | None, Query(description="one or more, comma separated")] = None,
    rule_id: str | None = None,
    new: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    store.get_scan(session=session, scan_id=scan_id)
    try:
        levels = [int(Severity.parse(s)) for s in severity.split(",")] if severity else []
    except ValueError as exc:
        raise intake.BadRequestError(str(exc), status=422, code="invalid") from exc
    total, rows = store.query_findings(
        session=session,
        scan_id=scan_id,
        kind=kind,
        severity=levels,
        rule_id=rule_id,
        new=new,
        offset=offset,
        limit=limit,
    )
    nxt = offset + limit if offset + limit < total else None
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "next": f"/api/v1/scans/{scan_id}/findings?offset={nxt}&limit={limit}" if nxt is not None else None,
        "findings": [finding_json(r) for r in rows],
    }


def finding_json(row: FindingRow) -> dict[str, Any]:
    return {
        "fingerprint": row.fingerprint,
        "scanner": row.scanner,
        "kind": row.kind,
        "rule_id": row.rule_id,
        "severity": Severity(row.severity).name,
        "title": row.title,
        "package": row.package,
        "installed_version": row.installed_version,
        "fixed_version": row.fixed_version,
        "fixable": bool(row.fixed_version),
        "path": row.path,
        "line": row.line,
        "target": row.target,
        "references": row.references,
        "first_seen": _iso(row.first_seen),
        "new": row.is_new,
    }


@router.get(
    "/api/v1/scans/{scan_id}/report.sarif",
    tags=["reports"],
    response_class=Response,
    responses={
        200: {
            "description": "SARIF 2.1.0",
            "content": {"application/sarif+json": {"schema": {"type": "object"}}},
        }
    },
)
def sarif_report(scan_id: str, session: SessionDep, _: Read) -> Response:
    """SARIF 2.1.0 for code-scanning views (one run per scanner, verdict in the run properties)."""
    scan = store.get_scan(session=session, scan_id=scan_id)
    verdict = store.latest_verdict(session=session, scan_id=scan_id)
    findings = store.load_findings(session=session, scan_id=scan_id)
    jobs = [j.name for j in store.jobs_of(session=session, scan_id=scan.id)]
    log = sarif.to_sarif(findings, verdict.document if verdict else None, scanners=jobs)
    return Response(json.dumps(log), media_type="application/sarif+json")


@router.get(
    "/api/v1/scans/{scan_id}/report.junit.xml",
    tags=["reports"],
    response_class=Response,
    responses={
        200: {"description": "JUnit XML", "content": {"application/xml": {"schema": {"type": "string"}}}}
    },
)
def junit_report(scan_id: str, session: SessionDep, _: Read) -> Response:
    """JUnit XML for CI test-report views: one suite per matched policy rule."""
    store.get_scan(session=session, scan_id=scan_id)
    verdict = store.latest_verdict(session=session, scan_id=scan_id)
    if verdict is None:
        raise store.NotFoundError(f"scan {scan_id} has no verdict yet")
    findings = store.load_findings(session=session, scan_id=scan_id)
    return Response(junit.to_junit(findings, verdict.document), media_type="application/xml")


@router.post("/api/v1/scans/{scan_id}/digests", tags=["scans"])
def bind_digest(scan_id: str, body: DigestIn, session: SessionDep, _: ScanWrite) -> dict[str, Any]:
    added = store.bind_digest(session=session, scan_id=scan_id, digest=body.digest, kind="manifest")
    session.commit()
    return {
        "scan_id": scan_id,
        "digest": body.digest,
        "added": added,
        "digests": sorted({d.digest for d in store.digests_of(session=session, scan_id=scan_id)}),
    }
