"""Sources from git (`source: {git_url, commit}`): one commit fetched, scanned, keyed by its id; local
repositories refused unless the gate allows them; links in the tree never lead the scanners out."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Gate, start_gate, stop_gate

pytestmark = pytest.mark.slow

CODE = 'import subprocess\n\n\ndef run(cmd):\n    subprocess.run("sh -c " + cmd, shell=True)\n'


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q")
    (root / "app.py").write_text("x = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "clean")
    clean = git(root, "rev-parse", "HEAD")
    (root / "app.py").write_text(CODE)
    (root / "requirements.txt").write_text("werkzeug==0.11\n")
    (root / "passwd").symlink_to("/etc/passwd")
    git(root, "add", ".")
    git(root, "commit", "-qm", "vulnerable")
    return root, clean, git(root, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def local_gate(tmp_path_factory: pytest.TempPathFactory, trivy_cache: Path) -> Iterator[Gate]:
    gate = start_gate(
        tmp_path_factory.mktemp("git-gate"),
        database_url="",
        broker_url="",
        trivy_cache=trivy_cache,
        env={"RELEASEGATE_GIT_ALLOW_LOCAL": "true"},
    )
    yield gate
    stop_gate(gate)


def scan(gate: Gate, url: str, commit: str, environment: str = "prod") -> dict[str, object]:
    with gate.client() as client:
        resp = client.post(
            "/api/v1/scans",
            json={
                "service": "gitsrc",
                "environment": environment,
                "source": {"git_url": url, "commit": commit},
            },
        )
        assert resp.status_code in (200, 202), resp.text
        scan_id = resp.json()["scan_id"]
        body: dict[str, object] = client.get(f"/api/v1/scans/{scan_id}", params={"wait": 60}).json()
    return body


def test_a_commit_is_fetched_scanned_and_keyed_by_its_id(
    local_gate: Gate, repo: tuple[Path, str, str]
) -> None:
    root, clean, vulnerable = repo
    bad = scan(local_gate, f"file://{root}", vulnerable)
    verdict = bad["verdict"]
    assert isinstance(verdict, dict) and verdict["decision"] == "fail", bad
    text = json.dumps(verdict)
    assert "python-subprocess-shell-true" in text and "CVE-2019-14806" in text
    assert bad["source_digest"] == f"git:{vulnerable}"
    assert "root:x:0:0" not in json.dumps(bad)  # the link to /etc/passwd was checked out as a plain file

    good = scan(local_gate, f"file://{root}", clean)
    assert good["source_digest"] == f"git:{clean}"
    assert isinstance(good["verdict"], dict) and good["verdict"]["decision"] == "pass", good

    branch = git(root, "rev-parse", "--abbrev-ref", "HEAD")  # a ref name resolves to its commit id
    by_ref = scan(local_gate, f"file://{root}", branch, environment="dev")
    assert by_ref["source_digest"] == f"git:{vulnerable}"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc", "local repositories are not allowed"),
        ("/srv/repo", "local repositories are not allowed"),
        ("--upload-pack=touch /tmp/x", "not a repository URL"),
        ("ext::sh -c touch% /tmp/x", "not a repository URL"),
    ],
)
def test_local_and_hostile_urls_are_refused(gate: Gate, url: str, message: str) -> None:
    with gate.client() as client:
        resp = client.post(
            "/api/v1/scans",
            json={"service": "gitsrc", "environment": "dev", "source": {"git_url": url, "commit": "main"}},
        )
    assert resp.status_code == 422, resp.text
    assert message in resp.json()["error"]["message"]


def test_an_unknown_commit_is_a_clear_error(local_gate: Gate, repo: tuple[Path, str, str]) -> None:
    root, _, _ = repo
    with local_gate.client() as client:
        resp = client.post(
            "/api/v1/scans",
            json={
                "service": "gitsrc",
                "environment": "dev",
                "source": {"git_url": f"file://{root}", "commit": "0" * 40},
            },
        )
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "git_source"
    assert str(root) not in resp.json()["error"]["message"]
