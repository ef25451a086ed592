"""SARIF and JUnit reports: valid against the official SARIF 2.1.0 schema, faithful to the findings and
the verdict, and inert whatever text scanned code managed to put into a finding."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from scanner.adapters import trivy
from scanner.findings import Finding, Kind, ScannerName, Severity, fingerprint_of
from scanner.policy.engine import example
from scanner.policy.result import Decision, Evaluation, Reason, verdict_document
from scanner.reports.junit import to_junit
from scanner.reports.sarif import FINGERPRINT_KEY, to_sarif
from tests.conftest import REPO

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR_CLASS = jsonschema.validators.validator_for(SCHEMA)
VALIDATOR = VALIDATOR_CLASS(SCHEMA, format_checker=VALIDATOR_CLASS.FORMAT_CHECKER)
from tests.support.corpus import GOLDEN  # noqa: E402

ALL_GOLDENS = sorted(GOLDEN.glob("*.json.golden"))

HOSTILE = "<script>alert(1)</script> & \"quoted\" 'single' \x1b[31mred\x1b[0m nul\x00 \u202eevil"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def finding(kind: Kind, rule_id: str, severity: Severity, **fields: Any) -> Finding:
    fields.setdefault("scanner", ScannerName.TRIVY_FS)
    fields.setdefault("title", f"{rule_id} title")
    return Finding(
        fingerprint=fingerprint_of(
            kind, rule_id, fields.get("package"), fields.get("path"), fields.get("line")
        ),
        kind=kind,
        rule_id=rule_id,
        severity=severity,
        **fields,
    )


def every_kind() -> list[Finding]:
    return [
        finding(
            Kind.VULNERABILITY,
            "CVE-2023-0286",
            Severity.HIGH,
            scanner=ScannerName.TRIVY_IMAGE,
            title=HOSTILE,
            package="openssl",
            installed_version="3.0.7-r0",
            fixed_version="3.0.8-r0",
            path="registry.example/app:1.2 (alpine 3.17.1)",  # an OS package: the target names the image
            target="sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0",
            references=("https://avd.aquasec.com/nvd/cve-2023-0286", "https://example.org/other"),
            first_seen=datetime(2026, 11, 1, tzinfo=UTC),
        ),
        finding(
            Kind.VULNERABILITY,
            "CVE-2023-0286",  # the same CVE in a second package: one rule, two results
            Severity.CRITICAL,
            scanner=ScannerName.TRIVY_IMAGE,
            package="libssl3",
            installed_version="3.0.7-r0",
            path="/usr/lib/libssl.so.3",
            references=("not a url", "https://avd.aquasec.com/nvd/cve-2023-0286"),
        ),
        finding(
            Kind.VULNERABILITY,
            "GHSA-xxxx-yyyy-zzzz",
            Severity.UNKNOWN,
            scanner=ScannerName.TRIVY_IMAGE,
            package="left-pad",
            installed_version="1.0.0",
            target="sha256:abc",  # no file at all: the layer is all there is
        ),
        finding(
            Kind.CODE,
            "policies.semgrep.python-eval",
            Severity.MEDIUM,
            scanner=ScannerName.SEMGREP,
            title='eval of untrusted input\x1b]0;pwned\x07 in "handler"',
            path="./app/handlers\\views.py",
            line=42,
        ),
        finding(
            Kind.SECRET,
            "aws-access-key-id",
            Severity.CRITICAL,
            title="AWS Access Key ID",
            path="deploy.sh",
            line=3,
            references=("sha256:c6f622624f09562f",),
        ),
        finding(
            Kind.MISCONFIGURATION,
            "DS-0002",
            Severity.HIGH,
            title="Image user should not be 'root'",
            path="Dockerfile",
            line=0,  # Trivy's "no line": never a region
            references=("https://avd.aquasec.com/misconfig/ds-0002",),
        ),
        finding(
            Kind.LICENSE,
            "AGPL-3.0",
            Severity.LOW,
            title="AGPL-3.0 (forbidden) <b>&amp;</b>",
            package="ghostscript",
            path="usr/share/doc/ghostscript/copyright",
        ),
    ]


def verdict(
    findings: Sequence[Finding],
    reasons: Sequence[tuple[str, str, int, Sequence[Finding]]],
    decision: Decision,
    **extra: Any,
) -> dict[str, Any]:
    """A verdict document as the engine and the API build it (SPEC section 5)."""
    evaluation = Evaluation(
        decision=decision,
        reasons=[
            Reason(
                rule_id=rule,
                action=action,
                count=len(matched),
                max=limit,
                examples=[example(f) for f in matched],
            )
            for rule, action, limit, matched in reasons
        ],
        exceptions_applied=[],
        policy="prod",
        policy_digest="sha256:" + "ab" * 32,
    )
    return verdict_document(
        evaluation,
        service="backend",
        environment="prod",
        scan_id="0b4f3c3e-8f1e-4f55-9a43-3a1f7d8e2c11",
        evaluated_at="2026-11-26T17:00:00Z",
        counts={"by_kind": {"vulnerability": len(findings)}, "by_severity": {}},
        tools={"trivy": "0.76.0", "semgrep": "1.185.0", "trivy_db_updated_at": "2026-11-26T00:00:00Z"},
        **extra,
    )


def validate(log: dict[str, Any]) -> None:
    errors = sorted(VALIDATOR.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    json.dumps(log, allow_nan=False).encode("utf-8")  # serialisable as it will be served


def results_by_rule(log: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for run in log["runs"]:
        for result in run["results"]:
            out.setdefault(result["ruleId"], []).append(result)
    return out


# ---------------------------------------------------------------- SARIF


def test_the_vendored_schema_is_the_official_one_and_formats_are_checked() -> None:
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    VALIDATOR_CLASS.check_schema(SCHEMA)
    # Without a URI checker installed, "format": "uri" would be ignored and helpUri never checked.
    assert not VALIDATOR_CLASS.FORMAT_CHECKER.conforms("not a uri", "uri")
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "bogus": 1}]})


def test_findings_of_every_kind_make_a_valid_log_with_one_run_per_scanner() -> None:
    findings = every_kind()
    log = to_sarif(findings)
    validate(log)
    assert log["version"] == "2.1.0"
    names = [run["tool"]["driver"]["name"] for run in log["runs"]]
    assert names == ["releasegate/semgrep", "releasegate/trivy-fs", "releasegate/trivy-image"]
    assert sum(len(run["results"]) for run in log["runs"]) == len(findings)
    for run in log["runs"]:
        assert "invocations" not in run  # no verdict given, nothing claimed about it


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [
        (Severity.CRITICAL, "error", "9.5"),
        (Severity.HIGH, "error", "8.0"),
        (Severity.MEDIUM, "warning", "5.5"),
        (Severity.LOW, "note", "2.0"),
        (Severity.UNKNOWN, "note", "0.0"),
    ],
)
def test_severity_sets_level_and_security_severity(severity: Severity, level: str, score: str) -> None:
    log = to_sarif([finding(Kind.CODE, "rule", severity, path="a.py", line=1)])
    validate(log)
    (run,) = log["runs"]
    (rule,) = run["tool"]["driver"]["rules"]
    (result,) = run["results"]
    assert result["level"] == level
    assert rule["defaultConfiguration"]["level"] == level
    assert rule["properties"]["security-severity"] == score
    assert rule["properties"]["tags"] == ["security", "code"]
    assert result["properties"]["severity"] == severity.name


def test_a_rule_is_listed_once_and_ranked_by_its_worst_finding() -> None:
    log = to_sarif(every_kind())
    image_run = next(run for run in log["runs"] if run["tool"]["driver"]["name"] == "releasegate/trivy-image")
    rules = image_run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["CVE-2023-0286", "GHSA-xxxx-yyyy-zzzz"]
    cve = rules[0]
    assert cve["properties"]["security-severity"] == "9.5"  # CRITICAL in libssl3 outranks HIGH in openssl
    assert cve["helpUri"] == "https://avd.aquasec.com/nvd/cve-2023-0286"
    assert "helpUri" not in rules[1]
    results = [r for r in image_run["results"] if r["ruleId"] == "CVE-2023-0286"]
    assert [r["level"] for r in results] == ["error", "error"]
    assert {r["ruleIndex"] for r in results} == {0}
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in image_run["results"])


def test_every_result_carries_the_finding_fingerprint() -> None:
    findings = every_kind()
    log = to_sarif(findings)
    fingerprints = [
        r["partialFingerprints"][FINGERPRINT_KEY] for rs in results_by_rule(log).values() for r in rs
    ]
    assert sorted(fingerprints) == sorted(f.fingerprint for f in findings)


def test_vulnerability_message_and_properties_say_what_to_upgrade() -> None:
    log = to_sarif(every_kind())
    first, second = results_by_rule(log)["CVE-2023-0286"]
    assert first["message"]["text"].startswith("openssl 3.0.7-r0 -> 3.0.8-r0: ")
    assert second["message"]["text"].startswith("libssl3 3.0.7-r0 (no fixed version): ")
    assert first["properties"] == {
        "severity": "HIGH",
        "kind": "vulnerability",
        "scanner": "trivy-image",
        "fixable": True,
        "package": "openssl",
        "installed_version": "3.0.7-r0",
        "fixed_version": "3.0.8-r0",
        "target": "sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0",
        "first_seen": "2026-11-01T00:00:00+00:00",
    }
    assert second["properties"]["fixable"] is False
    assert "fixed_version" not in second["properties"]


def test_locations_are_relative_uri_references_with_lines_when_known() -> None:
    by_rule = results_by_rule(to_sarif(every_kind()))

    def where(rule: str, n: int = 0) -> dict[str, Any]:
        return dict(by_rule[rule][n]["locations"][0]["physicalLocation"])

    image = where("CVE-2023-0286")
    uri = image["artifactLocation"]["uri"]
    assert unquote(uri) == "registry.example/app:1.2 (alpine 3.17.1)"
    assert " " not in uri and not urlsplit(uri).scheme  # not read as a scheme "registry.example/app"
    assert "region" not in image
    assert where("CVE-2023-0286", 1)["artifactLocation"]["uri"] == "usr/lib/libssl.so.3"
    assert unquote(where("GHSA-xxxx-yyyy-zzzz")["artifactLocation"]["uri"]) == "sha256:abc"
    assert not urlsplit(where("GHSA-xxxx-yyyy-zzzz")["artifactLocation"]["uri"]).scheme
    code = where("policies.semgrep.python-eval")
    assert code == {"artifactLocation": {"uri": "app/handlers/views.py"}, "region": {"startLine": 42}}
    assert where("aws-access-key-id")["region"] == {"startLine": 3}
    assert "region" not in where("DS-0002")


def test_untrusted_text_is_stripped_of_control_characters_and_stays_text() -> None:
    log = to_sarif(every_kind())
    validate(log)
    dumped = json.dumps(log, ensure_ascii=False)
    assert not CONTROL.search(dumped)
    assert "\\u00" not in json.dumps(log)  # nothing left for JSON to escape as a control character
    text = results_by_rule(log)["CVE-2023-0286"][0]["message"]["text"]
    assert "<script>alert(1)</script> & \"quoted\" 'single' ?[31mred?[0m nul? ?evil" in text
    rule = log["runs"][2]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == rule["fullDescription"]["text"] == CONTROL.sub("?", HOSTILE)


def test_values_from_a_loosely_typed_finding_are_still_strings() -> None:
    loose = Finding.from_dict(
        {
            "fingerprint": 123,
            "scanner": "trivy-fs",
            "kind": "vulnerability",
            "rule_id": 456,
            "severity": "high",
            "package": 789,
            "installed_version": 1.5,
            "line": "12",
            "path": "requirements.txt",
        }
    )
    log = to_sarif([loose])
    validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "456"
    assert result["properties"]["package"] == "789"
    assert result["properties"]["installed_version"] == "1.5"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 12}


def test_the_verdict_is_recorded_in_each_run() -> None:
    findings = every_kind()
    doc = verdict(findings, [("fixable-high", "block", 0, findings[:1])], Decision.FAIL)
    log = to_sarif(findings, doc)
    validate(log)
    for run in log["runs"]:
        (invocation,) = run["invocations"]
        assert invocation["executionSuccessful"] is True  # a failing verdict is a successful evaluation
        assert invocation["properties"] == {"decision": "fail", "policy_digest": doc["policy_digest"]}
        summary = run["properties"]["verdict"]
        assert summary["decision"] == "fail"
        assert summary["policy_digest"] == doc["policy_digest"]
        assert summary["reasons"] == [
            {"rule_id": "fixable-high", "action": "block", "count": 1, "max": 0, "triggered": True}
        ]
        assert "examples" not in json.dumps(summary)  # the results already are the findings
    versions = {run["tool"]["driver"]["name"]: run["tool"]["driver"].get("version") for run in log["runs"]}
    assert versions == {
        "releasegate/semgrep": "1.185.0",
        "releasegate/trivy-fs": "0.76.0",
        "releasegate/trivy-image": "0.76.0",
    }


def test_an_error_verdict_is_an_unsuccessful_execution_with_its_detail() -> None:
    doc = verdict([], [], Decision.ERROR, detail="trivy exited 2\x1b[2J")
    log = to_sarif([], doc, scanners=["trivy-image"])
    validate(log)
    (run,) = log["runs"]
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {"level": "error", "message": {"text": "trivy exited 2?[2J"}}
    ]


def test_scanners_that_found_nothing_still_get_a_run_so_old_alerts_close() -> None:
    log = to_sarif(
        [finding(Kind.CODE, "r", Severity.LOW, scanner="semgrep", path="a.py")], scanners=["trivy-fs"]
    )
    validate(log)
    assert [(run["tool"]["driver"]["name"], len(run["results"])) for run in log["runs"]] == [
        ("releasegate/semgrep", 1),
        ("releasegate/trivy-fs", 0),
    ]


def test_no_findings_and_no_scanners_is_still_a_valid_log() -> None:
    log = to_sarif([], verdict([], [], Decision.PASS))
    validate(log)
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "releasegate"
    assert run["properties"]["verdict"]["decision"] == "pass"


def secret_texts(doc: Any) -> list[str]:
    """What Trivy shows of each secret: the masked match and the lines of code around it."""
    texts = []
    for result in doc.get("Results") or []:
        for secret in result.get("Secrets") or []:
            texts.append(str(secret["Match"]))
            texts += [str(line["Content"]) for line in (secret.get("Code") or {}).get("Lines") or []]
    return [text for text in texts if len(text) >= 8]


def test_secret_reports_carry_no_matched_text() -> None:
    doc = json.loads((GOLDEN / "secrets.json.golden").read_text())
    findings = trivy.parse_report(doc)
    texts = secret_texts(doc)
    assert "export GITHUB_PAT=ghp_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" in texts  # unmasked in the golden
    sarif = json.dumps(to_sarif(findings))
    junit = to_junit(findings, verdict(findings, [("no-secrets", "block", 0, findings)], Decision.FAIL))
    for report in (sarif, junit):
        assert not [text for text in texts if text in report]
        assert "ghp_" not in report and "****" not in report
    assert '"ruleId": "aws-access-key-id"' in sarif


@pytest.mark.parametrize("path", ALL_GOLDENS, ids=lambda p: p.name)
def test_sarif_of_every_trivy_golden_is_valid(path: Path) -> None:
    findings = trivy.parse_report(json.loads(path.read_text()), scanner=ScannerName.TRIVY_IMAGE)
    log = to_sarif(findings, verdict(findings, [], Decision.PASS))
    validate(log)
    assert sum(len(run["results"]) for run in log["runs"]) == len(findings)


@pytest.mark.parametrize(
    ("name", "kind", "located"),
    [
        ("alpine-310", Kind.VULNERABILITY, False),
        ("npm", Kind.VULNERABILITY, False),
        ("secrets", Kind.SECRET, True),
        ("dockerfile", Kind.MISCONFIGURATION, False),
    ],
)
def test_goldens_of_each_kind_give_results_of_that_kind(name: str, kind: Kind, located: bool) -> None:
    findings = trivy.parse_report(json.loads((GOLDEN / f"{name}.json.golden").read_text()))
    assert findings and all(f.kind is kind for f in findings)
    log = to_sarif(findings)
    validate(log)
    results = log["runs"][0]["results"]
    assert {r["properties"]["kind"] for r in results} == {kind.value}
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
    assert all(("region" in r["locations"][0]["physicalLocation"]) is located for r in results)


# ---------------------------------------------------------------- JUnit


def parse(xml: str) -> ET.Element:
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(xml.encode("utf-8"))


def counts(element: ET.Element) -> dict[str, int]:
    return {key: int(element.attrib[key]) for key in ("tests", "failures", "errors", "skipped")}


def assert_counts_add_up(root: ET.Element) -> None:
    cases = list(root.iter("testcase"))
    assert counts(root) == {
        "tests": len(cases),
        "failures": sum(c.find("failure") is not None for c in cases),
        "errors": sum(c.find("error") is not None for c in cases),
        "skipped": sum(c.find("skipped") is not None for c in cases),
    }
    for suite in root.iter("testsuite"):
        assert int(suite.attrib["tests"]) == len(suite.findall("testcase"))


def test_junit_fails_one_case_per_blocking_example_and_skips_warnings() -> None:
    findings = every_kind()
    doc = verdict(
        findings,
        [
            ("fixable-high", "block", 0, findings[:2]),
            ("copyleft", "warn", 0, findings[6:7]),
            ("medium-budget", "block", 25, findings[3:4]),
        ],
        Decision.FAIL,
    )
    root = parse(to_junit(findings, doc))
    assert_counts_add_up(root)
    assert counts(root) == {"tests": 5, "failures": 3, "errors": 0, "skipped": 1}
    suites = {s.attrib["name"]: s for s in root.iter("testsuite")}
    assert list(suites) == [
        "releasegate verdict",
        "prod: fixable-high",
        "prod: copyleft",
        "prod: medium-budget",
    ]

    verdict_case = suites["releasegate verdict"].find("testcase")
    assert verdict_case is not None and verdict_case.attrib["name"] == "policy prod"
    failure = verdict_case.find("failure")
    assert failure is not None and failure.attrib["message"] == "decision fail: blocked by fixable-high"

    blocking = suites["prod: fixable-high"].findall("testcase")
    messages = [c.find("failure").attrib["message"] for c in blocking]  # type: ignore[union-attr]
    assert messages == ["HIGH CVE-2023-0286 openssl", "CRITICAL CVE-2023-0286 libssl3"]
    detail = blocking[0].find("failure").text or ""  # type: ignore[union-attr]
    assert "openssl 3.0.7-r0 -> fixed in 3.0.8-r0" in detail
    assert "reference: https://avd.aquasec.com/nvd/cve-2023-0286" in detail
    props = {p.attrib["name"]: p.attrib["value"] for p in suites["prod: fixable-high"].iter("property")}
    assert props == {"action": "block", "count": "2", "max": "0", "triggered": "true"}

    (warning,) = suites["prod: copyleft"].findall("testcase")
    skipped = warning.find("skipped")
    assert skipped is not None and skipped.attrib["message"].startswith("warning: LOW AGPL-3.0 ghostscript")
    assert "AGPL-3.0" in (warning.findtext("system-out") or "")

    (budget,) = suites["prod: medium-budget"].findall("testcase")
    assert list(budget) == [budget.find("system-out")]  # passing: within its max
    assert budget.attrib["name"] == "medium-budget: within max 25"


def test_junit_passes_the_policy_case_when_nothing_blocks() -> None:
    findings = every_kind()
    doc = verdict(findings, [("copyleft", "warn", 0, findings[6:7])], Decision.WARN)
    root = parse(to_junit(findings, doc))
    assert_counts_add_up(root)
    assert counts(root) == {"tests": 2, "failures": 0, "errors": 0, "skipped": 1}
    case = next(root.iter("testcase"))
    assert case.attrib["name"] == "policy prod"
    assert [child.tag for child in case] == ["system-out"]
    out = case.findtext("system-out") or ""
    assert "decision: warn" in out and "CRITICAL 2" in out

    clean = parse(to_junit([], verdict([], [], Decision.PASS)))
    assert counts(clean) == {"tests": 1, "failures": 0, "errors": 0, "skipped": 0}


def test_junit_reports_a_scanner_failure_as_an_error() -> None:
    doc = verdict([], [], Decision.ERROR, detail="semgrep timed out")
    root = parse(to_junit([], doc))
    assert_counts_add_up(root)
    error = next(root.iter("error"))
    assert error.attrib["message"] == "decision error: semgrep timed out"


@pytest.mark.parametrize("decision", [Decision.STALE, Decision.UNKNOWN, Decision.PENDING])
def test_junit_fails_every_decision_that_does_not_let_a_promotion_through(decision: Decision) -> None:
    root = parse(to_junit([], verdict([], [], decision)))
    assert counts(root)["failures"] == 1
    assert next(root.iter("failure")).attrib["message"] == f"decision {decision.value}"


def test_junit_counts_the_matched_findings_the_examples_leave_out() -> None:
    findings = [
        finding(Kind.VULNERABILITY, f"CVE-2026-{n:04d}", Severity.HIGH, package=f"p{n}", fixed_version="2")
        for n in range(23)
    ]
    doc = verdict(findings, [("fixable-high", "block", 0, findings)], Decision.FAIL)
    reason = doc["reasons"][0]
    reason["examples"] = reason["examples"][:20]  # what the engine keeps
    root = parse(to_junit(findings, doc))
    assert_counts_add_up(root)
    assert counts(root)["failures"] == 1 + 20 + 1
    last = root.findall("testsuite")[1].findall("testcase")[-1]
    assert last.attrib["name"] == "fixable-high: 3 more finding(s)"


def test_junit_escapes_markup_and_drops_control_characters() -> None:
    findings = every_kind()
    doc = verdict(findings, [("fixable-high", "block", 0, findings[:1])], Decision.FAIL)
    doc["reasons"][0]["examples"][0]["exception_not_applied"] = {"id": "EXC-1\x00", "why": "expired\x1b[1m"}
    doc["policy"] = "prod\x0b\ud800"
    xml = to_junit(findings, doc)
    assert not CONTROL.search(xml)
    assert "\ud800" not in xml
    xml.encode("utf-8")  # no lone surrogate survived
    assert "<script>" not in xml and "&lt;script&gt;" in xml
    root = parse(xml)
    assert_counts_add_up(root)
    failure = root.findall("testsuite")[1].find("testcase/failure")
    assert failure is not None
    assert "<script>alert(1)</script> & \"quoted\" 'single' ?[31mred?[0m nul? ?evil" in (failure.text or "")
    assert "exception EXC-1? not applied: expired?[1m" in (failure.text or "")
    assert root.attrib["name"] == "releasegate prod??"


def test_junit_survives_a_loosely_typed_verdict() -> None:
    doc = {
        "decision": "fail",
        "reasons": [
            {"rule_id": 7, "action": "block", "count": "2", "max": None, "examples": [{"line": "x"}, "junk"]},
            "junk",
        ],
        "exceptions_applied": None,
    }
    root = parse(to_junit([], doc))
    assert_counts_add_up(root)
    assert counts(root) == {"tests": 3, "failures": 3, "errors": 0, "skipped": 0}
    assert root.attrib["name"] == "releasegate policy"
