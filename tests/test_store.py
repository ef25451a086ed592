"""Storage on real PostgreSQL and SQLite: bulk inserts keep each fingerprint once, first_seen is kept
per service, verdict look-ups by any digest."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bench._data import synthetic_findings
from scanner import store
from scanner.db import get_engine, migrate
from scanner.models import FindingRow, FirstSeen, Scan


@pytest.fixture(params=["postgresql", "sqlite"])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/t.db"
    migrate(url)
    with Session(get_engine(url), expire_on_commit=False) as s:
        yield s


def scan(session: Session, service: str = "svc", digest: str | None = None) -> Scan:
    row = Scan(id=uuid.uuid4().hex, service=service, environment="prod", request_key="k", policy_digest="d",
               image_digest=digest)  # fmt: skip
    store.create_scan(session=session, scan=row, jobs=["trivy-image", "trivy-fs"])
    session.commit()
    return row


@pytest.mark.parametrize("n", [10, 1200])  # 1200 takes PostgreSQL's COPY path
def test_bulk_insert_keeps_each_fingerprint_once(session: Session, n: int) -> None:
    s = scan(session, service=f"bulk{n}")
    findings = synthetic_findings(n)
    store.save_findings(session=session, scan=s, findings=findings)
    store.save_findings(session=session, scan=s, findings=findings[: n // 2])  # another job, same issues
    session.commit()
    count = session.exec(select(func.count()).select_from(FindingRow).where(FindingRow.scan_id == s.id)).one()
    assert count == n
    loaded = store.load_findings(session=session, scan_id=s.id)
    assert {f.fingerprint for f in loaded} == {f.fingerprint for f in findings}
    assert {f.references for f in loaded} == {()}


def test_first_seen_is_per_service_and_kept(session: Session) -> None:
    findings = synthetic_findings(5)
    a1 = scan(session, service="alpha")
    store.save_findings(session=session, scan=a1, findings=findings)
    session.commit()
    first = {f.fingerprint: f.first_seen for f in store.load_findings(session=session, scan_id=a1.id)}
    # pretend a week has passed
    for row in session.exec(select(FirstSeen).where(FirstSeen.service == "alpha")):
        row.first_seen = datetime.now(UTC) - timedelta(days=7)
        session.add(row)
    session.commit()
    a2 = scan(session, service="alpha")
    b1 = scan(session, service="beta")
    store.save_findings(session=session, scan=a2, findings=findings)
    store.save_findings(session=session, scan=b1, findings=findings)
    session.commit()
    again = store.load_findings(session=session, scan_id=a2.id)
    other = store.load_findings(session=session, scan_id=b1.id)
    week = datetime.now(UTC) - timedelta(days=6)
    assert all(f.first_seen is not None and f.first_seen < week for f in again)
    assert all(f.first_seen is not None and f.first_seen > week for f in other)
    assert set(first) == {f.fingerprint for f in again}


def test_an_image_is_found_by_any_of_its_digests(session: Session) -> None:
    config = "sha256:" + uuid.uuid4().hex * 2
    manifest = "sha256:" + uuid.uuid4().hex * 2
    s = scan(session, digest=config)
    assert store.bind_digest(session=session, scan_id=s.id, digest=manifest) is True
    assert store.bind_digest(session=session, scan_id=s.id, digest=manifest) is False
    session.commit()
    assert [x.id for x in store.scans_for_image(session=session, digest=config, environment="prod")] == [s.id]
    assert [x.id for x in store.scans_for_image(session=session, digest=manifest, environment="prod")] == [
        s.id
    ]
    assert store.scans_for_image(session=session, digest=manifest, environment="dev") == []
    with pytest.raises(store.NotFoundError):
        store.bind_digest(session=session, scan_id="nope", digest=manifest)
