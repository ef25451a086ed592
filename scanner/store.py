"""Persistence: keyword-only functions that take the session explicitly. No HTTP, no subprocesses."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from scanner.findings import Finding, Kind, Severity
from scanner.models import (
    ApiToken,
    AuditEvent,
    FindingRow,
    FirstSeen,
    ImageDigest,
    Scan,
    ScanJob,
    Verdict,
    utcnow,
)

SCOPES = ("scan:write", "verdict:read", "read", "admin")
FINISHED = ("done", "error")
_CHUNK = 5000


class NotFoundError(LookupError):
    pass


# ---------------------------------------------------------------- tokens


def hash_token(raw: str) -> str:
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def create_token(*, session: Session, scopes: Sequence[str], name: str = "") -> str:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"unknown scope(s) {unknown}; choose from {', '.join(SCOPES)}")
    raw = "rg_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(raw), scopes=" ".join(sorted(set(scopes)))))
    session.flush()
    return raw


def token_scopes(*, session: Session, raw: str) -> set[str] | None:
    row = session.exec(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw), col(ApiToken.revoked_at).is_(None))
    ).first()
    # The look-up is by hash; the comparison of what was found is constant-time all the same.
    if row is None or not hmac.compare_digest(row.token_hash, hash_token(raw)):
        return None
    return set(row.scopes.split())


def list_tokens(*, session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.id))))


def revoke_token(*, session: Session, token_id: int) -> bool:
    result = session.execute(
        update(ApiToken)
        .where(col(ApiToken.id) == token_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


# ---------------------------------------------------------------- audit


def audit(
    *, session: Session, actor: str, action: str, subject: str = "", detail: dict[str, Any] | None = None
) -> None:
    session.add(AuditEvent(actor=actor, action=action, subject=subject, detail=detail or {}))


def audit_events(*, session: Session, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.exec(query))


# ---------------------------------------------------------------- scans and jobs


def create_scan(*, session: Session, scan: Scan, jobs: Iterable[str]) -> list[ScanJob]:
    session.add(scan)
    session.flush()
    rows = [ScanJob(scan_id=scan.id, name=name) for name in jobs]
    session.add_all(rows)
    if scan.image_digest:
        # an archive is known by its config digest; a registry reference by its manifest digest
        kind = "manifest" if scan.image_ref else "config"
        session.add(ImageDigest(digest=scan.image_digest, scan_id=scan.id, kind=kind))
    session.flush()
    return rows


def get_scan(*, session: Session, scan_id: str) -> Scan:
    scan = session.get(Scan, scan_id)
    if scan is None:
        raise NotFoundError(f"scan {scan_id} not found")
    return scan


def jobs_of(*, session: Session, scan_id: str) -> list[ScanJob]:
    return list(session.exec(select(ScanJob).where(ScanJob.scan_id == scan_id).order_by(col(ScanJob.name))))


def claim_job(*, session: Session, job_id: int | None, now: datetime, stale_before: datetime) -> bool:
    """Mark a job running unless another delivery runs it (compare-and-set on its status)."""
    result = session.execute(
        update(ScanJob)
        .where(
            col(ScanJob.id) == job_id,
            or_(
                col(ScanJob.status) == "queued",
                (col(ScanJob.status) == "running") & (col(ScanJob.started_at) < stale_before),
            ),
        )
        .values(status="running", started_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def get_job(*, session: Session, scan_id: str, name: str) -> ScanJob | None:
    return session.exec(select(ScanJob).where(ScanJob.scan_id == scan_id, ScanJob.name == name)).first()


def unfinished_scans(*, session: Session, limit: int = 500) -> list[Scan]:
    return list(
        session.exec(
            select(Scan)
            .where(col(Scan.status).in_(["queued", "running"]))
            .order_by(col(Scan.created_at))
            .limit(limit)
        )
    )


def findings_donor(*, session: Session, artifact_key: str) -> Scan | None:
    """The newest scan of the same artifacts, tools and rules whose every job succeeded."""
    return session.exec(
        select(Scan)
        .where(Scan.artifact_key == artifact_key, Scan.status == "done")
        .order_by(col(Scan.created_at).desc())
        .limit(1)
    ).first()


def reusable_scan(*, session: Session, request_key: str) -> Scan | None:
    """The newest scan of an identical request that did not fail."""
    return session.exec(
        select(Scan)
        .where(Scan.request_key == request_key, Scan.status != "error")
        .order_by(col(Scan.created_at).desc())
        .limit(1)
    ).first()


def bind_digest(*, session: Session, scan_id: str, digest: str, kind: str = "manifest") -> bool:
    get_scan(session=session, scan_id=scan_id)
    exists = session.exec(
        select(ImageDigest).where(ImageDigest.scan_id == scan_id, ImageDigest.digest == digest)
    ).first()
    if exists:
        return False
    session.add(ImageDigest(digest=digest, scan_id=scan_id, kind=kind))
    session.flush()
    return True


def digests_of(*, session: Session, scan_id: str) -> list[ImageDigest]:
    return list(session.exec(select(ImageDigest).where(ImageDigest.scan_id == scan_id)))


# ---------------------------------------------------------------- findings


def save_findings(*, session: Session, scan: Scan, findings: Sequence[Finding]) -> int:
    """Bulk-insert one job's findings; a fingerprint another job already stored is kept once."""
    if not findings:
        return 0
    now = utcnow()
    known = _first_seen(session=session, service=scan.service, fingerprints=[f.fingerprint for f in findings])
    new_first = [
        {"service": scan.service, "fingerprint": fp, "first_seen": now, "scan_id": scan.id}
        for fp in {f.fingerprint for f in findings} - known.keys()
    ]
    _insert_ignore(session, FirstSeen, new_first, ["service", "fingerprint"])
    rows = [
        {
            "scan_id": scan.id,
            "fingerprint": f.fingerprint,
            "scanner": str(f.scanner),
            "kind": f.kind.value,
            "rule_id": f.rule_id,
            "severity": int(f.severity),
            "title": f.title,
            "package": f.package,
            "installed_version": f.installed_version,
            "fixed_version": f.fixed_version,
            "path": f.path,
            "line": f.line,
            "target": f.target,
            "references": list(f.references),
            "first_seen": known.get(f.fingerprint, now),
            "is_new": True,
        }
        for f in findings
    ]
    _insert_ignore(session, FindingRow, rows, ["scan_id", "fingerprint"])
    return len(rows)


def _insert_ignore(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    table = model.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(rows) > 500:
        _copy_insert_ignore(session, table, rows, keys)
        return
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(rows), _CHUNK):
        stmt = insert(table).on_conflict_do_nothing(index_elements=keys)
        session.execute(stmt, rows[start : start + _CHUNK])


def _copy_insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """PostgreSQL's COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING: an order
    of magnitude faster than batched INSERTs for a scan's 100,000 findings."""
    from psycopg.types.json import Json
    from sqlalchemy import JSON

    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    temp = f"_rg_copy_{secrets.token_hex(6)}"
    cols = ", ".join(f'"{c}"' for c in columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(f'CREATE TEMP TABLE {temp} (LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP')
        with cur.copy(f"COPY {temp} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Json(row[c]) if c in json_columns else row[c] for c in columns])
        conflict = ", ".join(f'"{k}"' for k in keys)
        cur.execute(
            f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM {temp} '
            f"ON CONFLICT ({conflict}) DO NOTHING"
        )
        cur.execute(f"DROP TABLE {temp}")


def _first_seen(*, session: Session, service: str, fingerprints: Sequence[str]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    unique = list(set(fingerprints))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        for fp, seen in session.execute(
            select(FirstSeen.fingerprint, FirstSeen.first_seen).where(
                FirstSeen.service == service, col(FirstSeen.fingerprint).in_(chunk)
            )
        ):
            found[fp] = _aware(seen)
    return found


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_FINDING_COLUMNS = (
    FindingRow.fingerprint,
    FindingRow.scanner,
    FindingRow.kind,
    FindingRow.rule_id,
    FindingRow.severity,
    FindingRow.title,
    FindingRow.package,
    FindingRow.installed_version,
    FindingRow.fixed_version,
    FindingRow.path,
    FindingRow.line,
    FindingRow.target,
    FindingRow.references,
    FindingRow.first_seen,
)


def load_findings(*, session: Session, scan_id: str) -> list[Finding]:
    rows = session.execute(
        select(*_FINDING_COLUMNS).where(  # type: ignore[call-overload]
            FindingRow.scan_id == scan_id
        )
    )
    return [
        Finding(
            fingerprint=r[0],
            scanner=r[1],
            kind=Kind(r[2]),
            rule_id=r[3],
            severity=Severity(r[4]),
            title=r[5],
            package=r[6],
            installed_version=r[7],
            fixed_version=r[8],
            path=r[9],
            line=r[10],
            target=r[11],
            references=tuple(r[12] or ()),
            first_seen=_aware(r[13]) if r[13] else None,
        )
        for r in rows
    ]


def query_findings(
    *,
    session: Session,
    scan_id: str,
    kind: str | None = None,
    severity: Sequence[int] = (),
    rule_id: str | None = None,
    new: bool | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[int, list[FindingRow]]:
    query = select(FindingRow).where(FindingRow.scan_id == scan_id)
    if kind:
        query = query.where(FindingRow.kind == kind)
    if severity:
        query = query.where(col(FindingRow.severity).in_(list(severity)))
    if rule_id:
        query = query.where(FindingRow.rule_id == rule_id)
    if new is not None:
        query = query.where(FindingRow.is_new == new)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(FindingRow.severity).desc(), col(FindingRow.id)).offset(offset).limit(limit)
    )
    return int(total), list(rows)


def mark_new(*, session: Session, scan_id: str, baseline: frozenset[str] | None) -> None:
    """Record which findings are absent from the baseline (the `new` filter of the findings API)."""
    if not baseline:
        return
    known = list(baseline)
    for start in range(0, len(known), _CHUNK):
        session.execute(
            update(FindingRow)
            .where(
                col(FindingRow.scan_id) == scan_id,
                col(FindingRow.fingerprint).in_(known[start : start + _CHUNK]),
            )
            .values(is_new=False)
        )


# ---------------------------------------------------------------- verdicts


def save_verdict(
    *, session: Session, scan: Scan, document: dict[str, Any], evaluated_at: datetime
) -> Verdict:
    verdict = Verdict(
        scan_id=scan.id,
        service=scan.service,
        environment=scan.environment,
        decision=document["decision"],
        policy_digest=document.get("policy_digest") or "",
        evaluated_at=evaluated_at,
        document=document,
    )
    session.add(verdict)
    session.flush()
    return verdict


def latest_verdict(*, session: Session, scan_id: str) -> Verdict | None:
    return session.exec(
        select(Verdict).where(Verdict.scan_id == scan_id).order_by(col(Verdict.evaluated_at).desc()).limit(1)
    ).first()


def baseline_fingerprints(
    *, session: Session, service: str, environment: str, before: datetime
) -> frozenset[str] | None:
    """Fingerprints of the last scan of this service that passed in this environment."""
    scan_id = session.exec(
        select(Verdict.scan_id)
        .join(Scan, col(Scan.id) == Verdict.scan_id)
        .where(
            Verdict.service == service,
            Verdict.environment == environment,
            col(Verdict.decision).in_(["pass", "warn"]),
            col(Scan.created_at) < before,
        )
        .order_by(col(Verdict.evaluated_at).desc())
        .limit(1)
    ).first()
    if scan_id is None:
        return None
    return frozenset(session.exec(select(FindingRow.fingerprint).where(FindingRow.scan_id == scan_id)))


def scans_for_image(*, session: Session, digest: str, environment: str) -> list[Scan]:
    """Scans of the image known by `digest` in `environment`, newest first."""
    return list(
        session.exec(
            select(Scan)
            .join(ImageDigest, col(ImageDigest.scan_id) == Scan.id)
            .where(ImageDigest.digest == digest, Scan.environment == environment)
            .order_by(col(Scan.created_at).desc())
            .limit(20)
        )
    )


@dataclass(frozen=True, slots=True)
class ScanVerdictRow:
    scan_id: str
    service: str
    status: str
    document: dict[str, Any] | None
    evaluated_at: datetime | None
    # the stored document as JSON text and its decision: the hook's answer can be sent as stored
    raw: str | None = None
    decision: str | None = None


_RAW_SQL = (
    "SELECT s.id, s.service, s.status, CAST(v.document AS TEXT), v.evaluated_at, v.decision "
    "FROM scans s LEFT OUTER JOIN verdicts v ON v.scan_id = s.id "
    "WHERE s.environment = {p} AND {where} "
    "ORDER BY s.created_at DESC, v.evaluated_at DESC LIMIT 50"
)


def image_verdicts(
    engine: Any, *, environment: str, digest: str | None, scan_id: str | None
) -> list[ScanVerdictRow]:
    """The scans of an image (by any digest) or one scan, newest first, each with its latest verdict.

    On the driver's own connection: this is the PreSync hook's hot path, and SQLAlchemy's statement
    and result layers cost more than the indexed query itself.
    """
    p = "%s" if engine.dialect.paramstyle in ("format", "pyformat") else "?"
    by_digest = f"s.id IN (SELECT d.scan_id FROM image_digests d WHERE d.digest = {p})"
    where = f"s.id = {p}" if scan_id is not None else by_digest
    sql = _RAW_SQL.format(p=p, where=where)
    postgres = engine.dialect.name == "postgresql"
    params = (environment, scan_id if scan_id is not None else digest)
    driver_error = engine.dialect.loaded_dbapi.Error
    try:
        raw = engine.raw_connection()
    except driver_error as exc:  # the server is down: the same error SQLAlchemy would raise (503)
        raise DBAPIError.instance(sql, params, exc, driver_error) from exc
    try:
        if postgres:
            # a lone read needs no BEGIN/ROLLBACK round trips; the pool gets the connection back as
            # it was (transactional), or every later Session on it would commit statement by statement
            raw.driver_connection.autocommit = True
        try:
            cur = raw.cursor()
            cur.execute(sql, params)
            fetched = cur.fetchall()
            cur.close()
        finally:
            if postgres and not raw.driver_connection.closed:
                raw.driver_connection.autocommit = False
    except driver_error as exc:
        raw.invalidate()  # a connection that failed is not given back to the pool
        raise DBAPIError.instance(sql, params, exc, driver_error) from exc
    finally:
        raw.close()
    out: list[ScanVerdictRow] = []
    seen: set[str] = set()
    for sid, service, status, text, evaluated_at, decision in fetched:
        if sid in seen:
            continue
        seen.add(sid)
        # PostgreSQL's driver returns datetimes; SQLite's returns the text SQLAlchemy stored
        when = datetime.fromisoformat(evaluated_at) if isinstance(evaluated_at, str) else evaluated_at
        out.append(ScanVerdictRow(sid, service, status, None, _aware(when) if when else None, text, decision))
    return out


def last_good(*, session: Session, service: str, environment: str) -> tuple[Scan, Verdict] | None:
    row = session.exec(
        select(Scan, Verdict)
        .join(Verdict, col(Verdict.scan_id) == Scan.id)
        .where(
            Scan.service == service,
            Scan.environment == environment,
            col(Verdict.decision).in_(["pass", "warn"]),
            or_(col(Scan.image_digest).is_not(None), col(Scan.image_ref).is_not(None)),
        )
        .order_by(col(Verdict.evaluated_at).desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
