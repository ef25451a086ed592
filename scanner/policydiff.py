"""`policy diff`: which recent verdicts a policy change would flip.

The base policy set is read from git (`git archive REF -- <policy dir>`), the head set from the
working tree; every scan judged in the last days is evaluated under both.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from scanner import store
from scanner.models import Scan, Verdict
from scanner.policy.engine import judge
from scanner.policy.loader import PolicyNotFoundError, PolicySet, load_policy_set


class GitError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Change:
    scan_id: str
    service: str
    environment: str
    before: str
    after: str
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]


def policy_set_at(ref: str, policy_dir: Path) -> PolicySet:
    """The policy set as it was at a git ref (same folder, inside the same repository)."""
    policy_dir = policy_dir.resolve()
    top = _git(["rev-parse", "--show-toplevel"], cwd=policy_dir).strip()
    rel = policy_dir.relative_to(Path(top))
    blob = _git_bytes(["archive", "--format=tar", ref, "--", str(rel)], cwd=Path(top))
    with tempfile.TemporaryDirectory(prefix="releasegate-base-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            tar.extractall(tmp, filter="data")
        return load_policy_set(Path(tmp) / rel)


def _git(args: list[str], *, cwd: Path) -> str:
    return _git_bytes(args, cwd=cwd).decode()


def _git_bytes(args: list[str], *, cwd: Path) -> bytes:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if result.returncode != 0:
        raise GitError(result.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return result.stdout


def recent_scans(*, session: Session, since: datetime) -> Iterator[Scan]:
    ids = session.exec(select(Verdict.scan_id).where(col(Verdict.evaluated_at) >= since).distinct()).all()
    for scan_id in ids:
        scan = session.get(Scan, scan_id)
        if scan is not None and scan.status == "done":
            yield scan


def diff(*, session: Session, base: PolicySet, head: PolicySet, now: datetime, days: int = 7) -> list[Change]:
    changes: list[Change] = []
    for scan in recent_scans(session=session, since=now - timedelta(days=days)):
        findings = store.load_findings(session=session, scan_id=scan.id)
        baseline = store.baseline_fingerprints(
            session=session, service=scan.service, environment=scan.environment, before=scan.created_at
        )
        outcomes: list[tuple[str, tuple[str, ...]]] = []
        for policy_set in (base, head):
            try:
                result = judge(
                    policy_set,
                    findings,
                    service=scan.service,
                    environment=scan.environment,
                    now=now,
                    baseline=baseline,
                )
            except PolicyNotFoundError:
                outcomes.append(("error", ()))
                continue
            outcomes.append((result.decision.value, tuple(r.rule_id for r in result.reasons if r.triggered)))
        (before, rules_before), (after, rules_after) = outcomes
        if before != after:
            changes.append(
                Change(scan.id, scan.service, scan.environment, before, after, rules_before, rules_after)
            )
    return sorted(changes, key=lambda c: (c.service, c.environment, c.scan_id))
