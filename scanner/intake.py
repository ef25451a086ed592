"""Accepting a scan request: store and check the uploads, key the request, reuse or create the scan."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from scanner import archives, gitsource, pipeline, store
from scanner.config import Settings
from scanner.models import Scan, ScanJob

SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ENV_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# The distribution reference grammar: [host[:port]/]path[:tag][@sha256:hex] (lower-case path parts).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"  # a host name label never starts with "-"
IMAGE_REF_RE = re.compile(
    rf"^(?:(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?/)?"
    rf"{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)
COMMIT_RE = re.compile(r"^[0-9A-Za-z._/-]{1,80}$")
_CHUNK = 1024 * 1024


class BadRequestError(ValueError):
    """The request cannot be served as sent (HTTP 400 / 422)."""

    def __init__(self, message: str, *, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class TooLargeError(BadRequestError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=413, code="too_large")


@dataclass
class ScanRequest:
    service: str
    environment: str
    image_ref: str | None = None
    commit: str | None = None
    force: bool = False
    image_tar: Path | None = None
    source_tar: Path | None = None
    git_url: str | None = None
    git_commit: str | None = None


@dataclass
class Accepted:
    scan: Scan
    jobs: list[ScanJob]
    reused: bool


def new_scan_id() -> str:
    return uuid.uuid4().hex


def image_digest_of_ref(ref: str) -> str | None:
    """The digest pinned in a reference (`repo@sha256:...` or a bare digest), if any."""
    digest = ref.rsplit("@", 1)[-1] if "@" in ref else ref
    return digest if DIGEST_RE.match(digest) else None


def save_upload(stream: BinaryIO, dest: Path, *, limit: int) -> str:
    """Copy an upload to disk, refusing it past `limit` bytes; returns its sha256 digest."""
    digest = hashlib.sha256()
    written = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        while chunk := stream.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise TooLargeError(f"upload {dest.name} exceeds {limit} bytes")
            digest.update(chunk)
            out.write(chunk)
    return "sha256:" + digest.hexdigest()


def validate(req: ScanRequest, settings: Settings) -> None:
    if not SERVICE_RE.match(req.service or ""):
        raise BadRequestError("service must match ^[a-z0-9][a-z0-9-]{0,62}$", status=422, code="invalid")
    if not ENV_RE.match(req.environment or ""):
        raise BadRequestError("environment must match ^[a-z0-9][a-z0-9-]{0,62}$", status=422, code="invalid")
    if req.environment not in pipeline.live_policies(settings).get().environments():
        raise BadRequestError(f"no policy covers environment {req.environment!r}", status=422, code="invalid")
    if req.image_ref and req.image_tar:
        raise BadRequestError(
            "give an image reference or an image archive, not both", status=422, code="invalid"
        )
    if req.git_url and req.source_tar:
        raise BadRequestError("give a source archive or a git source, not both", status=422, code="invalid")
    if req.git_url:
        try:
            gitsource.check_url(req.git_url, allow_local=settings.git_allow_local)
        except gitsource.GitSourceError as exc:
            raise BadRequestError(str(exc), status=422, code="invalid") from exc
    if not (req.image_ref or req.image_tar or req.source_tar or req.git_url):
        raise BadRequestError(
            "nothing to scan: give an image, an image archive or a source archive", status=422, code="invalid"
        )
    if req.image_ref and (len(req.image_ref) > 500 or not IMAGE_REF_RE.match(req.image_ref)):
        raise BadRequestError("image is not a valid image reference", status=422, code="invalid")
    if req.commit is not None and not COMMIT_RE.match(req.commit):
        raise BadRequestError("commit must be a revision (at most 80 characters)", status=422, code="invalid")


def accept(req: ScanRequest, *, settings: Settings, session: Session) -> Accepted:
    """Check the uploads, then reuse a fresh identical scan or create a new one (not yet enqueued)."""
    validate(req, settings)
    scan_id = new_scan_id()
    folder = pipeline.scan_folder(settings, scan_id)
    try:
        image_digest = archive_digest = source_digest = None
        if req.image_tar is not None:
            archive_digest = archives.sha256_file(req.image_tar)
            archives.check_tar(req.image_tar, max_bytes=settings.max_unpacked_bytes)
            try:
                image_digest = archives.image_config_digest(req.image_tar)
            except ValueError as exc:
                raise BadRequestError(f"image_tar: {exc}") from exc
        elif req.image_ref:
            image_digest = image_digest_of_ref(req.image_ref)
        if req.source_tar is not None:
            source_digest = archives.sha256_file(req.source_tar)
        git_tree = None
        if req.git_url and req.git_commit:
            # fetched first: the commit id (not the ref asked for) keys the reuse of results
            git_tree = settings.scans_dir / f".git-{scan_id}" / "source"
            try:
                commit_id = gitsource.fetch(req.git_url, req.git_commit, git_tree,
                                            allow_local=settings.git_allow_local)  # fmt: skip
            except gitsource.GitSourceError as exc:
                raise BadRequestError(str(exc), status=422, code="git_source") from exc
            source_digest = f"git:{commit_id}"
        policy_set = pipeline.live_policies(settings).get()
        tools = pipeline.tool_versions(settings)
        key = request_key(
            req,
            image=image_digest or req.image_ref,
            source=source_digest,
            policy_digest=policy_set.digest,
            tools=tools,
        )
        artifacts = artifact_key(image=image_digest or req.image_ref, source=source_digest, tools=tools)
        # A tag can move to another image: only digest-pinned images reuse earlier results.
        reusable = not req.force and not (req.image_ref and image_digest is None)
        donor = None
        if reusable:
            existing = store.reusable_scan(session=session, request_key=key)
            if existing is not None and _fresh(existing, session=session, settings=settings):
                return Accepted(existing, store.jobs_of(session=session, scan_id=existing.id), reused=True)
            # The same artifacts judged for another environment, service or policy: keep the
            # findings, judge them again (the jobs copy them instead of running the scanners).
            donor = store.findings_donor(session=session, artifact_key=artifacts)

        folder.mkdir(parents=True, exist_ok=False)
        if req.source_tar is not None:
            archives.unpack_tar(req.source_tar, folder / "source", max_bytes=settings.max_unpacked_bytes)
        if git_tree is not None:
            shutil.move(str(git_tree), folder / "source")
        if req.image_tar is not None:
            shutil.move(str(req.image_tar), folder / "image.tar")
        scan = Scan(
            id=scan_id,
            service=req.service,
            environment=req.environment,
            image_ref=req.image_ref,
            image_digest=image_digest,
            image_archive_digest=archive_digest,
            source_digest=source_digest,
            commit=req.commit,
            request_key=key,
            artifact_key=artifacts,
            reuse_of=donor.id if donor else None,
            policy_digest=policy_set.digest,
            tools=tools,
        )
        jobs = store.create_scan(
            session=session,
            scan=scan,
            jobs=pipeline.jobs_for(
                has_image=bool(req.image_tar or req.image_ref), has_source=bool(req.source_tar or req.git_url)
            ),
        )
        session.commit()
        return Accepted(scan, jobs, reused=False)
    except archives.UnsafeArchiveError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise BadRequestError(f"unsafe archive: {exc}", code="unsafe_archive") from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(settings.scans_dir / f".git-{scan_id}", ignore_errors=True)


def artifact_key(*, image: str | None, source: str | None, tools: dict[str, str]) -> str:
    blob = json.dumps({"image": image, "source": source, "tools": tools}, sort_keys=True)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def request_key(
    req: ScanRequest, *, image: str | None, source: str | None, policy_digest: str, tools: dict[str, str]
) -> str:
    blob = json.dumps(
        {
            "service": req.service,
            "environment": req.environment,
            "image": image,
            "source": source,
            "policy": policy_digest,
            "tools": tools,
        },
        sort_keys=True,
    )
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def _fresh(scan: Scan, *, session: Session, settings: Settings) -> bool:
    if scan.status not in store.FINISHED:
        return True  # still running: the caller waits on the same scan instead of starting another
    verdict = store.latest_verdict(session=session, scan_id=scan.id)
    if verdict is None:
        return False
    freshness = pipeline.freshness_of(settings, scan.environment)
    if freshness is None:
        return True
    evaluated = (
        verdict.evaluated_at if verdict.evaluated_at.tzinfo else verdict.evaluated_at.replace(tzinfo=UTC)
    )
    return datetime.now(UTC) - evaluated < freshness
