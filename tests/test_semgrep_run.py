"""Semgrep through the adapter with the real binary and the bundled rules."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scanner.adapters import semgrep
from tests.conftest import BIN, REPO

pytestmark = pytest.mark.slow

CODE = 'import subprocess\n\n\ndef run(cmd):\n    subprocess.run("sh -c " + cmd, shell=True)\n'


def options(tmp_path: Path) -> semgrep.SemgrepOptions:
    return semgrep.SemgrepOptions(
        binary=str(BIN / "semgrep"), rule_dirs=[REPO / "policies" / "semgrep"], home=tmp_path / "home"
    )


def test_the_scanned_tree_cannot_hide_code_from_the_gate(tmp_path: Path) -> None:
    """An upload unpacked inside a git checkout that ignores it, with its own .semgrepignore and a
    `# nosemgrep` comment on a second copy of the code."""
    repo = tmp_path / "checkout"
    source = repo / "data" / "scan" / "source"
    (source / "app").mkdir(parents=True)
    (source / "app" / "run.py").write_text(CODE)
    (source / "app" / "quiet.py").write_text(CODE.replace("shell=True)", "shell=True)  # nosemgrep"))
    (source / ".semgrepignore").write_text("app/\n")
    (repo / ".gitignore").write_text("data/\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)

    data = semgrep.run_semgrep(options(tmp_path), source)
    findings = semgrep.parse_report(
        data, read_lines=semgrep.file_line_reader(source), source_root=str(source)
    )

    assert sorted((f.rule_id, f.path, f.line) for f in findings) == [
        ("python-subprocess-shell-true", "app/quiet.py", 5),
        ("python-subprocess-shell-true", "app/run.py", 5),
    ]


def test_a_broken_rule_fails_the_job_instead_of_passing_silently(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text("rules:\n  - id: broken\n    pattern: (\n    languages: [python]\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    opts = semgrep.SemgrepOptions(binary=str(BIN / "semgrep"), rule_dirs=[rules], home=tmp_path / "home")
    with pytest.raises(semgrep.ScannerError):
        semgrep.run_semgrep(opts, tmp_path / "src")


def test_a_code_finding_keeps_its_fingerprint_when_ten_lines_are_inserted_above(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "app").mkdir(parents=True)
    target = source / "app" / "run.py"

    def fingerprints() -> dict[str, tuple[str, int | None]]:
        data = semgrep.run_semgrep(options(tmp_path), source)
        found = semgrep.parse_report(
            data, read_lines=semgrep.file_line_reader(source), source_root=str(source)
        )
        return {f.rule_id: (f.fingerprint, f.line) for f in found}

    target.write_text(CODE)
    before = fingerprints()
    target.write_text("\n".join(f"# unrelated line {i}" for i in range(10)) + "\n" + CODE)
    after = fingerprints()

    rule = "python-subprocess-shell-true"
    assert before[rule][1] == 5 and after[rule][1] == 15  # it moved ...
    assert before[rule][0] == after[rule][0]  # ... and is still the same finding
    target.write_text(CODE.replace('"sh -c "', '"bash -c "'))
    assert fingerprints()[rule][0] != before[rule][0]  # changed code is a new finding
