"""The project's own Semgrep rules: every rule has its test file and `semgrep --test` passes."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO

RULES = REPO / "policies" / "semgrep"
RULE_FILES = sorted(p for p in RULES.rglob("*.yaml"))


def test_at_least_thirty_rules_each_with_an_id_message_severity_and_cwe() -> None:
    ids = []
    for path in RULE_FILES:
        for rule in yaml.safe_load(path.read_text())["rules"]:
            ids.append(rule["id"])
            assert rule["message"] and rule["severity"] in {"ERROR", "WARNING", "INFO"}, path
            assert "." not in rule["id"], "the adapter takes the id after the last dot"
            assert rule["metadata"]["cwe"], path
            extensions = (".py", ".js", ".ts", ".jsx", ".tsx", ".go", ".java", ".dockerfile", ".test.yml")
            assert any(path.with_suffix(ext).exists() for ext in extensions), path
    assert len(ids) == len(set(ids)) >= 30
    languages = {
        lang
        for path in RULE_FILES
        for rule in yaml.safe_load(path.read_text())["rules"]
        for lang in rule["languages"]
    }
    assert {"python", "javascript", "go", "java", "dockerfile", "yaml"} <= languages


@pytest.mark.slow
def test_semgrep_test_passes_on_every_rule(tmp_path: Path) -> None:
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(BIN / "semgrep"), "--test", "--metrics=off", "--disable-version-check", str(RULES)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    passed = re.search(r"(\d+)/(\d+): ✓ All tests passed", out)
    assert passed is not None, out[-3000:]
    assert passed.group(1) == passed.group(2) and int(passed.group(1)) == len(RULE_FILES) >= 30
