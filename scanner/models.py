"""SQLModel tables. Findings are stored flat with the columns that policies and filters query."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    token_hash: str = Field(index=True, unique=True, max_length=100)
    scopes: str = Field(max_length=200)  # space separated
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Scan(SQLModel, table=True):
    __tablename__ = "scans"
    __table_args__ = (
        Index("ix_scans_service_env_created", "service", "environment", "created_at"),
        Index("ix_scans_request_key", "request_key"),
        Index("ix_scans_artifact_key", "artifact_key"),
    )
    id: str = Field(primary_key=True, max_length=32)
    service: str = Field(max_length=63)
    environment: str = Field(max_length=63)
    status: str = Field(default="queued", max_length=16)  # queued running done error
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    image_ref: str | None = Field(default=None, max_length=500)
    image_digest: str | None = Field(default=None, max_length=80)  # config digest (image ID)
    image_archive_digest: str | None = Field(default=None, max_length=80)
    source_digest: str | None = Field(default=None, max_length=80)
    commit: str | None = Field(default=None, max_length=80)
    request_key: str = Field(max_length=80)
    # same artifacts (image and source digests) scanned by the same tools, database and rules:
    # findings can be reused from such a scan whatever its service, environment or policy
    artifact_key: str | None = Field(default=None, max_length=80)
    reuse_of: str | None = Field(default=None, max_length=32)
    policy_digest: str = Field(max_length=80)
    tools: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))


class ScanJob(SQLModel, table=True):
    __tablename__ = "scan_jobs"
    __table_args__ = (UniqueConstraint("scan_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    scan_id: str = Field(foreign_key="scans.id", index=True, max_length=32)
    name: str = Field(max_length=32)  # semgrep | trivy-image | trivy-fs
    status: str = Field(default="queued", max_length=16)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    finding_count: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))


class FindingRow(SQLModel, table=True):
    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("scan_id", "fingerprint"),
        Index("ix_findings_scan_severity", "scan_id", "severity"),
        Index("ix_findings_rule_id", "rule_id"),
        Index("ix_findings_package", "package"),
    )
    id: int | None = Field(default=None, primary_key=True)
    scan_id: str = Field(foreign_key="scans.id", max_length=32)
    fingerprint: str = Field(max_length=64)
    scanner: str = Field(max_length=32)
    kind: str = Field(max_length=20)
    rule_id: str = Field(max_length=300)
    severity: int
    title: str = Field(default="", sa_column=Column(Text, nullable=False))
    package: str | None = Field(default=None, max_length=300)
    installed_version: str | None = Field(default=None, max_length=200)
    fixed_version: str | None = Field(default=None, max_length=300)
    path: str | None = Field(default=None, sa_column=Column(Text))
    line: int | None = None
    target: str | None = Field(default=None, sa_column=Column(Text))
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    first_seen: datetime | None = None
    is_new: bool = True


class FirstSeen(SQLModel, table=True):
    """When a fingerprint first appeared for a service: the clock behind `age` grace periods."""

    __tablename__ = "first_seen"
    service: str = Field(primary_key=True, max_length=63)
    fingerprint: str = Field(primary_key=True, max_length=64)
    first_seen: datetime
    scan_id: str = Field(max_length=32)


class ImageDigest(SQLModel, table=True):
    """Every digest an image is known by: its config digest and each manifest digest it was pushed as."""

    __tablename__ = "image_digests"
    __table_args__ = (UniqueConstraint("digest", "scan_id"),)
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(index=True, max_length=80)
    scan_id: str = Field(foreign_key="scans.id", index=True, max_length=32)
    kind: str = Field(default="config", max_length=16)  # config | manifest
    created_at: datetime = Field(default_factory=utcnow)


class Verdict(SQLModel, table=True):
    __tablename__ = "verdicts"
    __table_args__ = (
        Index("ix_verdicts_scan_evaluated", "scan_id", "evaluated_at"),
        Index("ix_verdicts_service_env", "service", "environment", "evaluated_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    scan_id: str = Field(foreign_key="scans.id", max_length=32)
    service: str = Field(max_length=63)
    environment: str = Field(max_length=63)
    decision: str = Field(max_length=16)
    policy_digest: str = Field(max_length=80)
    evaluated_at: datetime = Field(default_factory=utcnow)
    document: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AuditEvent(SQLModel, table=True):
    """Who did what and when: verdicts, token changes, scan submissions."""

    __tablename__ = "audit_events"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40, index=True)
    subject: str = Field(default="", max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
