"""Verdicts: what the CI step and the PreSync hook ask before anything is promoted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from sqlmodel import Session

from scanner import intake, pipeline, store
from scanner.api.deps import Read, SessionDep, SettingsDep, VerdictRead
from scanner.config import Settings
from scanner.policy.result import Decision, verdict_document

router = APIRouter(tags=["verdicts"])


@router.get("/api/v1/verdicts")
def get_verdict(
    session: SessionDep,
    settings: SettingsDep,
    _: VerdictRead,
    environment: str = Query(min_length=1, max_length=63),
    image: str | None = Query(default=None, description="a digest or ref@digest"),
    scan: str | None = Query(default=None, description="a scan id"),
) -> dict[str, Any]:
    if scan is not None:
        scans = [store.get_scan(session=session, scan_id=scan)]
        if scans[0].environment != environment:
            scans = []
    elif image is not None:
        digest = intake.image_digest_of_ref(image)
        if digest is None:
            raise intake.BadRequestError(
                "image must be a digest (sha256:...) or a reference pinned by digest",
                status=422,
                code="invalid",
            )
        scans = store.scans_for_image(session=session, digest=digest, environment=environment)
    else:
        raise intake.BadRequestError("give image or scan", status=422, code="invalid")
    return verdict_for(scans, session=session, settings=settings, environment=environment)


def verdict_for(
    scans: list[Any], *, session: Session, settings: Settings, environment: str
) -> dict[str, Any]:
    finished = next((s for s in scans if s.status in store.FINISHED), None)
    if finished is None:
        decision = Decision.PENDING if scans else Decision.UNKNOWN
        newest = scans[0] if scans else None
        return verdict_document(
            None,
            decision=decision,
            service=newest.service if newest else None,
            environment=environment,
            scan_id=newest.id if newest else None,
            evaluated_at=None,
            detail="scan not finished" if newest else "no scan of this image for this environment",
        )
    verdict = store.latest_verdict(session=session, scan_id=finished.id)
    if verdict is None:  # finished but never judged: treat as still pending
        return verdict_document(
            None,
            decision=Decision.PENDING,
            service=finished.service,
            environment=environment,
            scan_id=finished.id,
            evaluated_at=None,
            detail="verdict not stored yet",
        )
    doc = dict(verdict.document)
    freshness = pipeline.freshness_of(settings, environment)
    evaluated = (
        verdict.evaluated_at if verdict.evaluated_at.tzinfo else verdict.evaluated_at.replace(tzinfo=UTC)
    )
    if freshness is not None and datetime.now(UTC) - evaluated > freshness:
        doc["decision"] = Decision.STALE.value
        doc["detail"] = f"verdict older than the policy's freshness ({freshness})"
    return doc


@router.get("/api/v1/services/{service}/last-good")
def last_good(service: str, environment: str, session: SessionDep, _: Read) -> dict[str, Any]:
    found = store.last_good(session=session, service=service, environment=environment)
    if found is None:
        raise store.NotFoundError(f"no passing scan of {service} in {environment}")
    scan, verdict = found
    digests = sorted({d.digest for d in store.digests_of(session=session, scan_id=scan.id)})
    return {
        "service": service,
        "environment": environment,
        "scan_id": scan.id,
        "image_digest": scan.image_digest,
        "image_ref": scan.image_ref,
        "digests": digests,
        "decision": verdict.decision,
        "evaluated_at": verdict.evaluated_at.isoformat(),
    }
