"""Policy dry runs: the verdict a stored scan would get under a given (or the live) policy set."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from scanner import intake, pipeline, store
from scanner.api.deps import ERROR_RESPONSES, Read, SessionDep, SettingsDep
from scanner.policy.engine import counts, judge
from scanner.policy.loader import PolicySet, PolicySetError, load_policy_set
from scanner.policy.result import verdict_document

router = APIRouter(tags=["policies"], responses=ERROR_RESPONSES)

_FILE_NAME = re.compile(r"^(exceptions/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.ya?ml$")
MAX_POLICY_BYTES = 1024 * 1024


class EvaluateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scan_id: str
    environment: str | None = None
    policies: dict[str, str] | None = Field(
        default=None,
        description='policy files by name, e.g. {"prod.yaml": "...", "exceptions/x.yaml": "..."}',
    )
    now: datetime | None = None


def policy_set_from_files(files: dict[str, str]) -> PolicySet:
    """Validate a policy set sent in a request, with the same loader (and errors) as the live one."""
    if sum(len(text) for text in files.values()) > MAX_POLICY_BYTES:
        raise intake.BadRequestError("policy set too large", status=413, code="too_large")
    with tempfile.TemporaryDirectory(prefix="releasegate-dry-run-") as tmp:
        root = Path(tmp) / "policies"
        (root / "exceptions").mkdir(parents=True)
        for name, text in files.items():
            # Names are checked before they become paths: no folders but exceptions/, no `..`.
            if not _FILE_NAME.match(name):
                raise intake.BadRequestError(f"invalid policy file name {name!r}", status=422, code="invalid")
            (root / name).write_text(text, "utf-8")
        return load_policy_set(root)


@router.post("/api/v1/policies/evaluate")
def evaluate_policies(
    body: EvaluateIn, session: SessionDep, settings: SettingsDep, _: Read
) -> dict[str, Any]:
    scan = store.get_scan(session=session, scan_id=body.scan_id)
    if body.policies is None:
        policy_set = pipeline.live_policies(settings).get()
    else:
        try:
            policy_set = policy_set_from_files(body.policies)
        except PolicySetError as exc:
            raise intake.BadRequestError(
                "invalid policy set: " + "; ".join(str(p) for p in exc.problems),
                status=422,
                code="invalid_policy",
            ) from exc
    environment = body.environment or scan.environment
    now = body.now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    findings = store.load_findings(session=session, scan_id=scan.id)
    baseline = store.baseline_fingerprints(
        session=session, service=scan.service, environment=environment, before=scan.created_at
    )
    result = judge(
        policy_set, findings, service=scan.service, environment=environment, now=now, baseline=baseline
    )
    doc = verdict_document(
        result,
        service=scan.service,
        environment=environment,
        scan_id=scan.id,
        evaluated_at=now.isoformat().replace("+00:00", "Z"),
        counts=counts(findings),
        tools=scan.tools,
    )
    doc["dry_run"] = True
    return doc
