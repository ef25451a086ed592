"""The whole path on real parts: CLI -> API (uvicorn) -> Celery on Redis -> Semgrep and Trivy -> policy
-> verdict in PostgreSQL -> CLI exit codes, and `check` (the PreSync hook) agreeing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Gate
from tests.support import images

pytestmark = pytest.mark.slow

VULNERABLE_SOURCE = """import subprocess


def deploy(branch):
    subprocess.run("git checkout " + branch, shell=True)
"""
CLEAN_SOURCE = """import subprocess


def deploy(branch: str) -> None:
    subprocess.run(["git", "checkout", branch], check=True)
"""


def vulnerable_image(out: Path) -> images.ImageInfo:
    rootfs = images.merge_rootfs(
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl")], release="3.10.2"),
        images.python_dist_info("werkzeug", "0.14.1"),  # CVE-2019-14806: HIGH, fixed in 0.15.3
        images.aws_credentials_file("app/settings.py"),
    )
    return images.build_image(rootfs, out, tag="backend:bad")


def clean_image(out: Path) -> images.ImageInfo:
    rootfs = images.merge_rootfs(
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl")], release="3.10.2"),
        images.python_dist_info("werkzeug", "2.3.0"),
        images.plant_file("app/settings.py", 'REGION = "eu-west-1"\n'),
    )
    return images.build_image(rootfs, out, tag="backend:good")


def source_tree(root: Path, code: str) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "deploy.py").write_text(code)
    return root


def test_failing_scan_names_the_cve_the_secret_and_the_semgrep_rule(gate: Gate, tmp_path: Path) -> None:
    image = vulnerable_image(tmp_path / "bad.tar")
    src = source_tree(tmp_path / "src", VULNERABLE_SOURCE)

    result = gate.cli(
        "scan",
        "--service",
        "backend",
        "--environment",
        "prod",
        "--image-tar",
        str(image.path),
        "--source",
        str(src),
        "--wait",
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("FAIL")
    assert "CVE-2019-14806" in result.stdout
    assert "aws-access-key-id" in result.stdout
    assert "python-subprocess-shell-true" in result.stdout
    # the secret's text is never shown
    assert images.FAKE_AWS_ACCESS_KEY_ID not in result.stdout + result.stderr
    assert images.FAKE_AWS_SECRET_ACCESS_KEY not in result.stdout + result.stderr

    check = gate.cli("check", "--image", image.config_digest, "--environment", "prod")
    assert check.returncode == 1, check.stdout + check.stderr
    assert check.stdout.startswith("FAIL")


def test_clean_scan_passes_and_check_agrees(gate: Gate, tmp_path: Path) -> None:
    image = clean_image(tmp_path / "good.tar")
    src = source_tree(tmp_path / "src", CLEAN_SOURCE)

    result = gate.cli(
        "scan",
        "--service",
        "backend",
        "--environment",
        "prod",
        "--image-tar",
        str(image.path),
        "--source",
        str(src),
        "--wait",
        "--format",
        "json",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["decision"] in ("pass", "warn")
    assert verdict["policy_digest"].startswith("sha256:")
    assert set(verdict["tools"]) >= {"trivy", "semgrep", "trivy_db_updated_at"}

    check = gate.cli(
        "check", "--image", f"registry.example/backend@{image.config_digest}", "--environment", "prod"
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # the same image was never scanned for uat: unknown, which fails closed
    other = gate.cli("check", "--image", image.config_digest, "--environment", "uat")
    assert other.returncode == 1
    assert other.stdout.startswith("UNKNOWN")


def test_secret_text_is_not_stored(gate: Gate, tmp_path: Path) -> None:
    image = vulnerable_image(tmp_path / "bad.tar")
    result = gate.cli(
        "scan",
        "--service",
        "secrets-probe",
        "--environment",
        "dev",
        "--image-tar",
        str(image.path),
        "--wait",
        "--format",
        "json",
    )
    assert result.returncode == 1, result.stdout + result.stderr  # dev blocks leaked secrets
    scan_id = json.loads(result.stdout)["scan_id"]
    with gate.client() as client:
        body = client.get(f"/api/v1/scans/{scan_id}/findings", params={"kind": "secret", "limit": 1000}).text
    assert "aws-access-key-id" in body
    assert images.FAKE_AWS_ACCESS_KEY_ID not in body
    assert images.FAKE_AWS_SECRET_ACCESS_KEY not in body
    # nor anywhere in the database
    import psycopg

    with psycopg.connect(gate.env["RELEASEGATE_DATABASE_URL"]) as conn:
        for table in ("findings", "verdicts", "scans", "scan_jobs"):
            dump = " ".join(str(row) for row in conn.execute(f"SELECT * FROM {table}"))  # noqa: S608
            assert images.FAKE_AWS_ACCESS_KEY_ID not in dump, table
            assert images.FAKE_AWS_SECRET_ACCESS_KEY[:20] not in dump, table


def test_reports_for_ci_views(gate: Gate, tmp_path: Path) -> None:
    """SARIF for code scanning and JUnit for test reports, from the API and through `scan --format`."""
    import xml.etree.ElementTree as ET

    import jsonschema

    from tests.conftest import REPO

    image = vulnerable_image(tmp_path / "bad.tar")
    src = source_tree(tmp_path / "src", VULNERABLE_SOURCE)
    out = tmp_path / "report.sarif"
    result = gate.cli(
        "scan",
        "--service",
        "reports",
        "--environment",
        "prod",
        "--image-tar",
        str(image.path),
        "--source",
        str(src),
        "--wait",
        "--format",
        "sarif",
        "--output",
        str(out),
    )
    assert result.returncode == 1, result.stderr
    log = json.loads(out.read_text())
    schema = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    tools = {run["tool"]["driver"]["name"] for run in log["runs"]}
    assert tools == {"releasegate/semgrep", "releasegate/trivy-image", "releasegate/trivy-fs"}
    assert images.FAKE_AWS_ACCESS_KEY_ID not in out.read_text()

    junit = gate.cli(
        "scan",
        "--service",
        "reports",
        "--environment",
        "prod",
        "--image-tar",
        str(image.path),
        "--source",
        str(src),
        "--wait",
        "--format",
        "junit",
    )
    root = ET.fromstring(junit.stdout)
    assert int(root.get("failures", "0")) >= 3
    assert "CVE-2019-14806" in junit.stdout
