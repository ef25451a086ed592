"""The Trivy adapter against Trivy's own goldens: the parser reads every report in the corpus, and
`trivy fs` run through the adapter with the fixture database finds what Trivy's maintainers recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.adapters import trivy
from scanner.findings import Kind, Severity
from tests.conftest import BIN
from tests.support.corpus import TRIVY as CORPUS  # noqa: E402

GOLDEN = CORPUS / "golden"
FIXTURE_REPOS = CORPUS / "fixtures" / "repo"
ALL_GOLDENS = sorted(GOLDEN.glob("*.json.golden"))


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def golden_vulnerability_entries(doc: Any) -> int:
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        return sum(len(v.get("affects") or []) for v in doc.get("vulnerabilities") or [])
    results = doc if isinstance(doc, list) else (doc.get("Results") or [])
    return sum(len(r.get("Vulnerabilities") or []) for r in results)


def test_the_corpus_has_goldens() -> None:
    assert len(ALL_GOLDENS) >= 70


@pytest.mark.parametrize("path", ALL_GOLDENS, ids=lambda p: p.name)
def test_every_golden_parses_with_one_finding_per_vulnerability_entry(path: Path) -> None:
    doc = load(path)
    findings = trivy.parse_report(doc)
    vulns = [f for f in findings if f.kind is Kind.VULNERABILITY]
    assert len(vulns) == golden_vulnerability_entries(doc)
    # fingerprints are unique within a report, so nothing is merged away when stored
    assert len({f.fingerprint for f in findings}) == len(findings)
    for f in vulns:
        assert f.rule_id and isinstance(f.severity, Severity)


def test_secret_findings_never_carry_the_code_around_them() -> None:
    doc = load(GOLDEN / "secrets.json.golden")
    findings = trivy.parse_report(doc)
    leaked = "ghp_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # an unmasked context line of the golden
    assert leaked in json.dumps(doc)
    assert [f.rule_id for f in findings] == ["aws-access-key-id", "mysecret"]
    assert all(leaked not in json.dumps(f.to_dict()) for f in findings)


def test_unknown_severity_is_refused_not_guessed() -> None:
    doc = {
        "SchemaVersion": 2,
        "Results": [
            {
                "Target": "x",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-1",
                        "PkgName": "p",
                        "InstalledVersion": "1",
                        "Severity": "SEVERE",
                    }
                ],
            }
        ],
    }
    with pytest.raises(ValueError, match="SEVERE"):
        trivy.parse_report(doc)


def test_schema_1_list_reports_are_read() -> None:
    doc = [
        {
            "Target": "requirements.txt",
            "Type": "pip",
            "Vulnerabilities": [
                {
                    "VulnerabilityID": "CVE-2019-14806",
                    "PkgName": "werkzeug",
                    "InstalledVersion": "0.11",
                    "FixedVersion": "0.15.3",
                    "Severity": "HIGH",
                }
            ],
        }
    ]
    [f] = trivy.parse_report(doc)
    assert (f.rule_id, f.package, f.fixable, f.severity) == (
        "CVE-2019-14806",
        "werkzeug",
        True,
        Severity.HIGH,
    )


def test_not_a_report_is_an_error() -> None:
    with pytest.raises(trivy.ReportFormatError):
        trivy.parse_report({"hello": "world"})


# ---------------------------------------------------------------- parity with trivy fs


# golden -> fixture repository, for every repository golden whose fixture and advisories are in the corpus
PARITY = {
    "pip.json.golden": "pip",
    "pipenv.json.golden": "pipenv",
    "poetry.json.golden": "poetry",
    "uv.json.golden": "uv",
    "pylock.json.golden": "pylock",
    "npm.json.golden": "npm",
    "yarn.json.golden": "yarn",
    "pnpm.json.golden": "pnpm",
    "bun.json.golden": "bun",
    "gomod.json.golden": "gomod",
    "composer.lock.json.golden": "composer",
    "cargo.lock.json.golden": "cargo",
    "conan.json.golden": "conan",
    "nuget.json.golden": "nuget",
    "dotnet.json.golden": "dotnet",
    "packagesprops.json.golden": "packagesprops",
    "swift.json.golden": "swift",
    "cocoapods.json.golden": "cocoapods",
    "pubspec.lock.json.golden": "pubspec",
    "mix.lock.json.golden": "mixlock",
    "secrets.json.golden": "secrets",
    "dockerfile.json.golden": "dockerfile",
}


def _vuln_set(findings: Any) -> set[tuple[str, str | None, str | None, str | None, str]]:
    return {
        (f.rule_id, f.package, f.installed_version, f.fixed_version, f.severity.name)
        for f in findings
        if f.kind is Kind.VULNERABILITY
    }


def _golden_vuln_set(doc: Any) -> set[tuple[str, str, str, str | None, str]]:
    return {
        (
            v["VulnerabilityID"],
            v["PkgName"],
            v["InstalledVersion"],
            v.get("FixedVersion") or None,
            v["Severity"],
        )
        for r in doc.get("Results") or []
        for v in r.get("Vulnerabilities") or []
    }


def _golden_misconfig_ids(doc: Any) -> set[str]:
    return {
        m["ID"]
        for r in doc.get("Results") or []
        for m in r.get("Misconfigurations") or []
        if m.get("Status", "FAIL") == "FAIL"
    }


def _golden_secret_ids(doc: Any) -> set[str]:
    return {s["RuleID"] for r in doc.get("Results") or [] for s in r.get("Secrets") or []}


def test_parity_covers_at_least_twelve_goldens() -> None:
    assert len(PARITY) >= 12
    assert all((GOLDEN / g).exists() and (FIXTURE_REPOS / r).is_dir() for g, r in PARITY.items())


@pytest.mark.slow
@pytest.mark.parametrize("golden_name", sorted(PARITY))
def test_trivy_fs_through_the_adapter_matches_the_golden(
    golden_name: str, trivy_cache: Path, tmp_path: Path
) -> None:
    source = FIXTURE_REPOS / PARITY[golden_name]
    secret_config = source / "trivy-secret.yaml"
    opts = trivy.TrivyOptions(
        binary=str(BIN / "trivy"),
        cache_dir=trivy_cache,
        secret_config=secret_config if secret_config.exists() else None,
    )
    data = trivy.run_trivy(trivy.fs_command(opts, source), opts, cwd=tmp_path)
    findings = trivy.parse_report(data, scanner="trivy-fs")
    golden = load(GOLDEN / golden_name)

    assert _vuln_set(findings) == _golden_vuln_set(golden)
    assert {f.rule_id for f in findings if f.kind is Kind.SECRET} == _golden_secret_ids(golden)
    assert {f.rule_id for f in findings if f.kind is Kind.MISCONFIGURATION} == _golden_misconfig_ids(golden)
