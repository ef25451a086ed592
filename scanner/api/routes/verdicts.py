"""Verdicts: what the CI step and the PreSync hook ask before anything is promoted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel import Session

from scanner import intake, pipeline, store
from scanner.api.deps import ERROR_RESPONSES, Read, SessionDep, SettingsDep, authorize
from scanner.config import Settings
from scanner.db import get_engine
from scanner.metrics import VERDICTS_SERVED
from scanner.policy.result import Decision, verdict_document

router = APIRouter(tags=["verdicts"], responses=ERROR_RESPONSES)


_VERDICT_PARAMS: dict[str, Any] = {
    "parameters": [
        {"name": "environment", "in": "query", "required": True, "schema": {"type": "string"}},
        {
            "name": "image",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "a digest (sha256:...) or a reference pinned by digest (repo@sha256:...)",
        },
        {
            "name": "scan",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "a scan id, instead of an image",
        },
    ]
}


@router.get("/api/v1/verdicts", openapi_extra=_VERDICT_PARAMS)
async def get_verdict(request: Request) -> Response:
    """The verdict for an image (by any of its digests) or a scan, in an environment.

    The PreSync hook asks this before every sync, so it skips FastAPI's per-parameter validation and
    dependency solving (which cost more than the look-up) and runs one query in the thread pool.
    """
    settings: Settings = request.app.state.settings
    await authorize(request, "verdict:read")
    params = request.query_params
    environment, image, scan = params.get("environment"), params.get("image"), params.get("scan")
    if not environment or len(environment) > 63:
        raise intake.BadRequestError("environment is required", status=422, code="invalid")
    digest = None
    if scan is None:
        if image is None:
            raise intake.BadRequestError("give image or scan", status=422, code="invalid")
        digest = intake.image_digest_of_ref(image)
        if digest is None:
            raise intake.BadRequestError(
                "image must be a digest (sha256:...) or a reference pinned by digest",
                status=422,
                code="invalid",
            )
    # Inline, not in the thread pool: an indexed look-up of at most 50 rows costs ~0.15 ms, less than
    # the thread hop, and this endpoint is asked before every sync.
    body, decision = _verdict(settings, environment, digest, scan)
    VERDICTS_SERVED.labels(decision).inc()
    return Response(body, media_type="application/json")


def _verdict(
    settings: Settings, environment: str, digest: str | None, scan_id: str | None
) -> tuple[str, str]:
    """The verdict as JSON text and its decision."""
    engine = get_engine(settings.resolved_database_url)
    rows = store.image_verdicts(engine, environment=environment, digest=digest, scan_id=scan_id)
    if scan_id is not None and not rows:
        with Session(engine) as session:
            store.get_scan(session=session, scan_id=scan_id)  # 404 for an unknown id
    finished = next((r for r in rows if r.status in store.FINISHED), None)
    if (
        finished is not None
        and finished.raw
        and finished.decision
        and not _stale(finished, settings, environment)
    ):
        return finished.raw, finished.decision  # as stored: no parsing and re-serializing on the hot path
    doc = verdict_from_rows(rows, settings=settings, environment=environment)
    return json.dumps(doc), str(doc["decision"])


def _stale(row: store.ScanVerdictRow, settings: Settings, environment: str) -> bool:
    freshness = pipeline.freshness_of(settings, environment)
    return bool(freshness and row.evaluated_at and datetime.now(UTC) - row.evaluated_at > freshness)


def verdict_for(
    scans: list[Any], *, session: Session, settings: Settings, environment: str
) -> dict[str, Any]:
    """The verdict for a list of scans of one image (newest first) in an environment."""
    rows = []
    for scan in scans:
        v = store.latest_verdict(session=session, scan_id=scan.id)
        rows.append(
            store.ScanVerdictRow(
                scan.id, scan.service, scan.status, v.document if v else None, v.evaluated_at if v else None
            )
        )
    return verdict_from_rows(rows, settings=settings, environment=environment)


def verdict_from_rows(
    rows: list[store.ScanVerdictRow], *, settings: Settings, environment: str
) -> dict[str, Any]:
    """The newest finished scan decides; none finished is pending, none at all unknown, too old stale."""
    finished = next((r for r in rows if r.status in store.FINISHED), None)
    if finished is None:
        newest = rows[0] if rows else None
        return verdict_document(
            None,
            decision=Decision.PENDING if newest else Decision.UNKNOWN,
            service=newest.service if newest else None,
            environment=environment,
            scan_id=newest.scan_id if newest else None,
            evaluated_at=None,
            detail="scan not finished" if newest else "no scan of this image for this environment",
        )
    if (finished.document is None and finished.raw is None) or finished.evaluated_at is None:
        # finished but never judged: still pending
        return verdict_document(
            None,
            decision=Decision.PENDING,
            service=finished.service,
            environment=environment,
            scan_id=finished.scan_id,
            evaluated_at=None,
            detail="verdict not stored yet",
        )
    doc = dict(finished.document) if finished.document is not None else json.loads(finished.raw or "{}")
    if _stale(finished, settings, environment):
        freshness = pipeline.freshness_of(settings, environment)
        doc["decision"] = Decision.STALE.value
        doc["detail"] = f"verdict older than the policy's freshness ({freshness})"
    return doc


@router.get("/api/v1/services/{service}/last-good")
def last_good(
    service: str, environment: str, session: SessionDep, settings: SettingsDep, _: Read
) -> dict[str, Any]:
    found = store.last_good(session=session, service=service, environment=environment)
    if found is None:
        raise store.NotFoundError(f"no passing scan of {service} in {environment}")
    scan, verdict = found
    known = store.digests_of(session=session, scan_id=scan.id)
    digests = sorted({d.digest for d in known})
    freshness = pipeline.freshness_of(settings, environment)
    evaluated = (
        verdict.evaluated_at if verdict.evaluated_at.tzinfo else verdict.evaluated_at.replace(tzinfo=UTC)
    )
    return {
        # what an overlay can pin: digests a registry serves (pushes bound with `bind`, or scanned refs)
        "registry_digests": sorted({d.digest for d in known if d.kind == "manifest"}),
        "stale": freshness is not None and datetime.now(UTC) - evaluated > freshness,
        "service": service,
        "environment": environment,
        "scan_id": scan.id,
        "image_digest": scan.image_digest,
        "image_ref": scan.image_ref,
        "digests": digests,
        "decision": verdict.decision,
        "evaluated_at": verdict.evaluated_at.isoformat(),
    }
