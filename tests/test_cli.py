"""The `releasegate` command without a server: evaluate, policy lint, usage errors and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import BIN, REPO
from tests.support.corpus import GOLDEN  # noqa: E402

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())


def rg(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "releasegate"), *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


def semgrep_report(tmp_path: Path, severity: str = "ERROR") -> Path:
    doc = {
        "results": [
            {
                "check_id": "policies.semgrep.python.python-subprocess-shell-true",
                "path": "app/run.py",
                "start": {"line": 5, "col": 5, "offset": 40},
                "end": {"line": 5, "col": 50, "offset": 85},
                "extra": {
                    "message": "shell=True with a built command",
                    "severity": severity,
                    "metadata": {},
                    "lines": "requires login",
                    "fingerprint": "requires login",
                },
            }
        ],
        "errors": [],
        "paths": {"scanned": ["app/run.py"]},
        "version": "1.185.0",
    }
    path = tmp_path / "semgrep.json"
    path.write_text(json.dumps(doc))
    return path


def test_evaluate_fails_prod_on_a_fixable_high_and_names_it() -> None:
    result = rg("evaluate", "--report", str(GOLDEN / "pip.json.golden"), "--environment", "prod")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("FAIL")
    assert "CVE-2019-14806" in result.stdout and "fixable-high" in result.stdout


def test_evaluate_dev_only_warns_on_the_same_report() -> None:
    result = rg(
        "evaluate", "--report", str(GOLDEN / "pip.json.golden"), "--environment", "dev", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["decision"] == "warn"
    assert doc["counts"]["by_kind"] == {"vulnerability": 2}


def test_evaluate_reads_several_reports_of_both_tools(tmp_path: Path) -> None:
    result = rg(
        "evaluate",
        "--report",
        str(GOLDEN / "secrets.json.golden"),
        "--report",
        str(semgrep_report(tmp_path)),
        "--environment",
        "uat",
        "--format",
        "json",
    )
    doc = json.loads(result.stdout)
    assert result.returncode == 1
    assert doc["counts"]["by_kind"] == {"secret": 2, "code": 1}
    # the secrets are CRITICAL: blocked twice over in uat; the HIGH code finding only warns there
    assert {r["rule_id"] for r in doc["reasons"] if r["action"] == "block"} == {"no-secrets", "no-critical"}
    [high] = [r for r in doc["reasons"] if r["rule_id"] == "high-visibility"]
    assert high["action"] == "warn"
    assert "python-subprocess-shell-true" in {e["rule_id"] for e in high["examples"]}


def test_evaluate_writes_sarif_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "r.sarif"
    result = rg(
        "evaluate",
        "--report",
        str(GOLDEN / "alpine-310.json.golden"),
        "--report",
        str(semgrep_report(tmp_path)),
        "--environment",
        "prod",
        "--format",
        "sarif",
        "--output",
        str(out),
    )
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL")  # the summary still goes to the terminal
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    rule_ids = {r["ruleId"] for run in log["runs"] for r in run["results"]}
    assert "python-subprocess-shell-true" in rule_ids and "CVE-2019-1549" in rule_ids


def test_evaluate_junit_parses_and_counts_failures(tmp_path: Path) -> None:
    result = rg(
        "evaluate", "--report", str(GOLDEN / "pip.json.golden"), "--environment", "prod", "--format", "junit"
    )
    root = ET.fromstring(result.stdout)
    assert int(root.get("failures", "0")) >= 1
    assert "CVE-2019-14806" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--report", "/etc/hostname", "--environment", "prod"], "not readable JSON"),
        (["evaluate", "--report", str(GOLDEN / "pip.json.golden"), "--environment", "nowhere"], "no policy"),
        (
            [
                "evaluate",
                "--report",
                str(GOLDEN / "pip.json.golden"),
                "--environment",
                "prod",
                "--format",
                "xml",
            ],
            "unknown format",
        ),
        (["check", "--image", "backend:latest", "--environment", "prod"], "pinned by digest"),
        (["scan", "--service", "backend", "--environment", "prod"], "nothing to scan"),
    ],
)
def test_usage_and_input_errors_exit_2(args: list[str], message: str) -> None:
    result = rg(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_unknown_option_is_a_usage_error() -> None:
    assert rg("scan", "--no-such-option").returncode == 2


def test_policy_lint_accepts_the_bundled_set_and_refuses_a_broken_one(tmp_path: Path) -> None:
    ok = rg("policy", "lint", str(REPO / "policies"))
    assert ok.returncode == 0, ok.stdout
    (tmp_path / "prod.yaml").write_text(
        "apiVersion: releasegate/v1\nkind: Policy\nname: prod\nenvironments: [prod]\nrules:\n"
        "  - id: x\n    when: {severity: SEVERE}\n    action: block\n"
    )
    bad = rg("policy", "lint", str(tmp_path))
    assert bad.returncode == 1
    assert "prod.yaml:7:" in bad.stdout and "SEVERE" in bad.stdout


def test_fail_open_is_honoured_only_where_the_policy_allows_it() -> None:
    unreachable = {"RELEASEGATE_URL": "http://127.0.0.1:9", "RELEASEGATE_POLICY_DIR": str(REPO / "policies")}
    image = "sha256:" + "3" * 64
    env = {**os.environ, **unreachable}
    prod = subprocess.run(
        [
            str(BIN / "releasegate"),
            "check",
            "--image",
            image,
            "--environment",
            "prod",
            "--retries",
            "1",
            "--fail-open",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert prod.returncode == 2
    assert "not allowed for 'prod'" in prod.stderr
    dev = subprocess.run(
        [
            str(BIN / "releasegate"),
            "check",
            "--image",
            image,
            "--environment",
            "dev",
            "--retries",
            "1",
            "--fail-open",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert dev.returncode == 0
    assert "WARNING" in dev.stderr and '"audit": "fail-open"' in dev.stderr


def test_the_same_source_tree_always_uploads_the_same_bytes(tmp_path: Path) -> None:
    """Result reuse keys on the upload's digest: the CLI's tar.gz must not carry names or times."""
    from scanner.archives import sha256_file
    from scanner.cli import tar_source

    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "src" / "app" / "main.py").write_text("print('hi')\n")
    (tmp_path / "src" / ".git").mkdir()
    (tmp_path / "src" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    first, second = tar_source(tmp_path / "src"), tar_source(tmp_path / "src")
    try:
        assert first.name != second.name
        assert sha256_file(first) == sha256_file(second)
        import tarfile

        with tarfile.open(first) as tar:
            assert tar.getnames() == ["app/main.py"]  # .git is not uploaded
    finally:
        first.unlink()
        second.unlink()
