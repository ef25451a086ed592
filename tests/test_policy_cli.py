"""`releasegate policy test` and `policy diff` as a user runs them: real files, git and a database."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from functools import partial
from pathlib import Path

import pytest

from scanner import pipeline, store
from scanner.config import Settings
from scanner.db import migrate, session_scope
from scanner.findings import Finding, Kind, Severity, fingerprint_of
from scanner.models import Scan
from tests.conftest import BIN, REPO


def rg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")} | (env or {})
    return subprocess.run(
        [str(BIN / "releasegate"), *args], capture_output=True, text=True, timeout=120, env=full
    )


def copy_policies(dest: Path) -> Path:
    shutil.copytree(REPO / "policies", dest, ignore=shutil.ignore_patterns("semgrep"))
    return dest


def test_policy_test_passes_on_the_bundled_policies() -> None:
    result = rg("policy", "test", str(REPO / "policies"))
    assert result.returncode == 0, result.stdout
    passed, total = result.stdout.strip().splitlines()[-1].split()[0].split("/")
    assert passed == total and int(total) >= 15


def test_policy_test_fails_and_names_the_case_when_an_expectation_changes(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path / "policies")
    cases = policies / "tests" / "prod.yaml"
    text = cases.read_text()
    marker = "  - name: prod-blocks-fixable-high"
    start = text.index(marker)
    text = text[:start] + text[start:].replace("expect: {decision: fail", "expect: {decision: pass", 1)
    cases.write_text(text)
    result = rg("policy", "test", str(policies))
    assert result.returncode == 1
    assert "FAIL tests/prod.yaml: prod-blocks-fixable-high: decision fail, expected pass" in result.stdout


# ---------------------------------------------------------------- diff


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo_with_scans(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository holding the bundled policies, and a database with scans judged under them."""
    repo = tmp_path / "repo"
    policies = copy_policies(repo / "policies")
    git(repo, "init", "-q")
    git(repo, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "add", ".")
    git(repo, "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "policies")
    url = f"sqlite:///{tmp_path}/gate.db"
    migrate(url)
    settings = Settings(data_dir=tmp_path / "data", database_url=url, policy_dir=policies)
    sessions = partial(session_scope, url)
    high = Finding(
        fingerprint=fingerprint_of("h"),
        scanner="trivy-image",
        kind=Kind.VULNERABILITY,
        rule_id="CVE-2019-14806",
        severity=Severity.HIGH,
        package="werkzeug",
        installed_version="0.11",
        fixed_version="0.15.3",
    )
    low = Finding(
        fingerprint=fingerprint_of("l"),
        scanner="trivy-image",
        kind=Kind.VULNERABILITY,
        rule_id="CVE-2016-9401",
        severity=Severity.LOW,
        package="bash",
        installed_version="4.4",
    )
    for service, findings in (("api-high", [high]), ("api-low", [low])):
        scan = Scan(
            id=uuid.uuid4().hex,
            service=service,
            environment="uat",
            request_key="k",
            policy_digest="d",
            tools={},
        )
        with sessions() as session:
            store.create_scan(session=session, scan=scan, jobs=[])
            store.save_findings(session=session, scan=scan, findings=findings)
        assert pipeline.judge_scan(settings, sessions, scan.id) is not None
    return policies, {"RELEASEGATE_DATABASE_URL": url, "RELEASEGATE_DATA_DIR": str(tmp_path / "data")}


def test_policy_diff_shows_the_verdicts_a_stricter_rule_would_flip(
    repo_with_scans: tuple[Path, dict[str, str]],
) -> None:
    policies, env = repo_with_scans
    uat = policies / "uat.yaml"
    uat.write_text(
        uat.read_text().replace(
            "  - id: high-visibility\n    when: {severity: HIGH}\n    action: warn",
            "  - id: high-visibility\n    when: {severity: HIGH}\n    action: block",
        )
    )
    result = rg("policy", "diff", "--base", "HEAD", str(policies), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("api-high\tuat\t")
    assert "warn -> fail" in lines[0] and "[high-visibility]" in lines[0]
    assert lines[-1].startswith("1 verdict(s) would change")


def test_policy_diff_shows_nothing_for_a_comment_only_change(
    repo_with_scans: tuple[Path, dict[str, str]],
) -> None:
    policies, env = repo_with_scans
    uat = policies / "uat.yaml"
    uat.write_text(
        "# reviewed by security on 2026-11-26\n" + uat.read_text().replace("rules:", "rules:  # ordered")
    )
    result = rg("policy", "diff", "--base", "HEAD", str(policies), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [result.stdout.strip().splitlines()[-1]]
    assert "0 verdict(s) would change" in result.stdout and "(same digest)" in result.stdout


def test_policy_diff_with_an_unknown_ref_is_a_usage_error(
    repo_with_scans: tuple[Path, dict[str, str]],
) -> None:
    policies, env = repo_with_scans
    result = rg("policy", "diff", "--base", "no-such-ref", str(policies), env=env)
    assert result.returncode == 2
    assert "git:" in result.stderr
