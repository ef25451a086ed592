"""`releasegate policy lint` on broken sets: exit 1 and `file:line: message` for every error, one test
per error kind (the loader's own tests check the same lines without the CLI)."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import BIN

HEAD = "apiVersion: releasegate/v1\nkind: Policy\n"
GOOD_RULE = "  - id: ok\n    when: {kind: secret}\n    action: block\n"


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "releasegate"), "policy", "lint", str(folder)], capture_output=True, text=True, timeout=60
    )


def exception(eid: str, expires: str | None = "2099-01-01") -> str:
    text = f"apiVersion: releasegate/v1\nkind: Exception\nid: {eid}\nwhen: {{rule_id: CVE-1}}\n"
    text += "reason: test\nowner: sec@example.invalid\n"
    return text + (f"expires: {expires}\n" if expires else "")


CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "unknown key": (
        {
            "prod.yaml": HEAD
            + "name: prod\nenvironments: [prod]\nrules:\n"
            + GOOD_RULE
            + "  - id: typo\n    whne: {kind: code}\n    action: block\n"
        },
        ["policies/prod.yaml:10: rules.1.whne: unknown key"],
    ),
    "wrong type": (
        {
            "prod.yaml": HEAD + "name: prod\nenvironments: [prod]\nrules:\n"
            "  - id: budget\n    when: {kind: code}\n    action: block\n    max: lots\n"
        },
        ["policies/prod.yaml:9: rules.0.max:"],
    ),
    "unknown severity": (
        {
            "prod.yaml": HEAD + "name: prod\nenvironments: [prod]\nrules:\n"
            "  - id: sev\n    when: {severity: SEVERE}\n    action: block\n"
        },
        ["policies/prod.yaml:7: rules.0.when.severity:"],
    ),
    "duplicate rule id": (
        {"prod.yaml": HEAD + "name: prod\nenvironments: [prod]\nrules:\n" + GOOD_RULE + GOOD_RULE},
        ["policies/prod.yaml:9: rules.1.id: duplicate rule id 'ok'"],
    ),
    "duplicate exception id": (
        {
            "prod.yaml": HEAD + "name: prod\nenvironments: [prod]\nrules:\n" + GOOD_RULE,
            "exceptions/a.yaml": exception("EXC-1"),
            "exceptions/b.yaml": exception("EXC-1"),
        },
        ["policies/exceptions/b.yaml:3: duplicate exception id 'EXC-1'"],
    ),
    "missing expires": (
        {
            "prod.yaml": HEAD + "name: prod\nenvironments: [prod]\nrules:\n" + GOOD_RULE,
            "exceptions/a.yaml": exception("EXC-2", expires=None),
        },
        ["policies/exceptions/a.yaml:1: expires: required field is missing"],
    ),
    "extends cycle": (
        {
            "a.yaml": HEAD + "name: a\nextends: b\nrules:\n" + GOOD_RULE,
            "b.yaml": HEAD + "name: b\nextends: a\nenvironments: [prod]\nrules:\n" + GOOD_RULE,
        },
        ["policies/a.yaml:4: extends: cycle a -> b -> a", "policies/b.yaml:4: extends: cycle b -> a -> b"],
    ),
    "expired exception": (
        {
            "prod.yaml": HEAD + "name: prod\nenvironments: [prod]\nrules:\n" + GOOD_RULE,
            "exceptions/old.yaml": exception("EXC-3", (date.today() - timedelta(days=2)).isoformat()),
        },
        ["policies/exceptions/old.yaml:7: exception EXC-3 expired on"],
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_error_kind_is_reported_with_file_and_line(kind: str, tmp_path: Path) -> None:
    files, expected = CASES[kind]
    folder = tmp_path / "policies"
    (folder / "exceptions").mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    result = lint(folder)
    assert result.returncode == 1, result.stdout
    for line in expected:
        assert any(out.startswith(line) for out in result.stdout.splitlines()), (line, result.stdout)


def test_an_exception_expiring_soon_is_a_warning_not_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    (folder / "exceptions").mkdir(parents=True)
    (folder / "prod.yaml").write_text(HEAD + "name: prod\nenvironments: [prod]\nrules:\n" + GOOD_RULE)
    (folder / "exceptions" / "soon.yaml").write_text(
        exception("EXC-4", (date.today() + timedelta(days=5)).isoformat())
    )
    result = lint(folder)
    assert result.returncode == 0, result.stdout
    assert "warning: exception EXC-4 expires on" in result.stdout
