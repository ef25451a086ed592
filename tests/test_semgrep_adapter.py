"""The Semgrep parser on hand-written reports: rule ids, severities, paths, and fingerprints that survive
code moving down the file but not the code changing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from scanner.adapters import semgrep
from scanner.adapters.semgrep import ReportFormatError, parse_report, rule_id
from scanner.findings import Kind, Severity, UnknownSeverityError

APP = [
    "from flask import Flask",
    "",
    "app.run(debug=True)",
    "print('done')",
]


def result(
    *,
    check_id: str = "policies.semgrep.python.my-rule",
    path: str = "/src/app.py",
    line: int = 3,
    end_line: int | None = None,
    severity: str = "ERROR",
    metadata: dict[str, Any] | None = None,
    message: str = "Flask debug mode in production",
) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "path": path,
        "start": {"line": line, "col": 1, "offset": 0},
        "end": {"line": end_line or line, "col": 10, "offset": 9},
        "extra": {
            "message": message,
            "severity": severity,
            "metadata": metadata or {},
            "lines": "requires login",
            "fingerprint": "requires login",
        },
    }


def report(*results: dict[str, Any]) -> dict[str, Any]:
    return {"results": list(results), "errors": [], "paths": {"scanned": []}}


def reader(files: dict[str, Sequence[str]]) -> semgrep.LineReader:
    return lambda path: files.get(path)


def test_an_empty_report_has_no_findings() -> None:
    assert parse_report(report()) == []


def test_one_result_becomes_one_code_finding() -> None:
    [finding] = parse_report(report(result()), read_lines=reader({"/src/app.py": APP}), source_root="/src")
    assert finding.scanner == "semgrep"
    assert finding.kind is Kind.CODE
    assert finding.rule_id == "my-rule"
    assert finding.severity is Severity.HIGH
    assert finding.title == "Flask debug mode in production"
    assert finding.path == "app.py"
    assert finding.line == 3
    assert finding.package is None
    assert not finding.fixable


@pytest.mark.parametrize(
    ("check_id", "expected"),
    [
        ("policies.semgrep.python.my-rule", "my-rule"),
        ("tmp.rules.js-eval-nonliteral", "js-eval-nonliteral"),
        ("my-rule", "my-rule"),
    ],
)
def test_the_rules_folder_prefix_is_stripped_from_the_check_id(check_id: str, expected: str) -> None:
    assert rule_id(check_id) == expected
    [finding] = parse_report(report(result(check_id=check_id)))
    assert finding.rule_id == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [("ERROR", Severity.HIGH), ("WARNING", Severity.MEDIUM), ("INFO", Severity.LOW)],
)
def test_semgrep_levels_map_to_severities(level: str, expected: Severity) -> None:
    [finding] = parse_report(report(result(severity=level)))
    assert finding.severity is expected


@pytest.mark.parametrize(
    ("level", "override", "expected"),
    [
        ("INFO", "CRITICAL", Severity.CRITICAL),
        ("ERROR", "low", Severity.LOW),
        ("WARNING", "HIGH", Severity.HIGH),
    ],
)
def test_the_rule_metadata_overrides_the_level(level: str, override: str, expected: Severity) -> None:
    [finding] = parse_report(report(result(severity=level, metadata={"releasegate-severity": override})))
    assert finding.severity is expected


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(UnknownSeverityError):
        parse_report(report(result(severity="FATAL")))


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(UnknownSeverityError):
        parse_report(report(result(metadata={"releasegate-severity": "SEVERE"})))


def test_paths_are_relative_to_the_source_root() -> None:
    findings = parse_report(
        report(result(path="/src/app.py"), result(path="/src/pkg/views.py"), result(path="/elsewhere/x.py")),
        source_root="/src/",
    )
    assert [f.path for f in findings] == ["app.py", "pkg/views.py", "/elsewhere/x.py"]
    assert [f.target for f in findings] == ["app.py", "pkg/views.py", "/elsewhere/x.py"]


def test_a_root_without_trailing_slash_does_not_cut_a_sibling_folder() -> None:
    [finding] = parse_report(report(result(path="/srcfoo/app.py")), source_root="/src")
    assert finding.path == "/srcfoo/app.py"


def test_relative_paths_lose_their_leading_dot_slash() -> None:
    [finding] = parse_report(report(result(path="./app.py")))
    assert finding.path == "app.py"


def test_inserting_lines_above_a_finding_keeps_its_fingerprint() -> None:
    before = parse_report(report(result(line=3)), read_lines=reader({"/src/app.py": APP}), source_root="/src")
    moved = [f"# added {i}" for i in range(10)] + APP
    after = parse_report(
        report(result(line=13)), read_lines=reader({"/src/app.py": moved}), source_root="/src"
    )
    assert after[0].line == 13
    assert after[0].fingerprint == before[0].fingerprint


def test_reindenting_the_matched_code_keeps_its_fingerprint() -> None:
    before = parse_report(report(result(line=3)), read_lines=reader({"/src/app.py": APP}))
    indented = [*APP[:2], "    app.run(debug=True)\t", APP[3]]
    after = parse_report(report(result(line=3)), read_lines=reader({"/src/app.py": indented}))
    assert after[0].fingerprint == before[0].fingerprint
    spaced = parse_report(report(result(line=1)), read_lines=reader({"/src/app.py": ["x  =\t 1"]}))
    single = parse_report(report(result(line=1)), read_lines=reader({"/src/app.py": ["x = 1"]}))
    assert spaced[0].fingerprint == single[0].fingerprint


def test_changing_the_matched_code_changes_the_fingerprint() -> None:
    before = parse_report(report(result()), read_lines=reader({"/src/app.py": APP}))
    changed = [*APP[:2], "app.run(debug=os.environ['DEBUG'])", APP[3]]
    after = parse_report(report(result()), read_lines=reader({"/src/app.py": changed}))
    assert after[0].fingerprint != before[0].fingerprint


def test_a_multi_line_match_is_fingerprinted_on_all_its_lines() -> None:
    two = parse_report(report(result(line=3, end_line=4)), read_lines=reader({"/src/app.py": APP}))
    changed = [*APP[:3], "print('other')"]
    other = parse_report(report(result(line=3, end_line=4)), read_lines=reader({"/src/app.py": changed}))
    assert two[0].fingerprint != other[0].fingerprint


def test_the_fingerprint_depends_on_the_rule_and_the_file() -> None:
    files = reader({"/src/app.py": APP, "/src/other.py": APP})
    base, other_rule, other_file = parse_report(
        report(result(), result(check_id="policies.semgrep.python.other-rule"), result(path="/src/other.py")),
        read_lines=files,
        source_root="/src",
    )
    assert len({base.fingerprint, other_rule.fingerprint, other_file.fingerprint}) == 3


def test_the_fingerprint_does_not_depend_on_where_the_source_was_unpacked() -> None:
    first = parse_report(
        report(result(path="/tmp/a/app.py")), read_lines=reader({"/tmp/a/app.py": APP}), source_root="/tmp/a"
    )
    second = parse_report(
        report(result(path="/tmp/b/app.py")), read_lines=reader({"/tmp/b/app.py": APP}), source_root="/tmp/b"
    )
    assert first[0].fingerprint == second[0].fingerprint


def test_the_same_code_twice_in_a_file_gets_two_fingerprints() -> None:
    lines = ["app.run(debug=True)", "x = 1", "app.run(debug=True)"]
    findings = parse_report(
        report(result(line=1), result(line=3)), read_lines=reader({"/src/app.py": lines}), source_root="/src"
    )
    assert len({f.fingerprint for f in findings}) == 2
    # and both survive lines being inserted above them
    shifted = ["import os", "", *lines]
    again = parse_report(
        report(result(line=3), result(line=5)),
        read_lines=reader({"/src/app.py": shifted}),
        source_root="/src",
    )
    assert [f.fingerprint for f in again] == [f.fingerprint for f in findings]


def test_without_a_line_reader_the_printed_lines_are_used() -> None:
    first = result()
    first["extra"]["lines"] = "app.run(debug=True)"
    moved = result(line=13)
    moved["extra"]["lines"] = "  app.run(debug=True)"
    assert parse_report(report(first))[0].fingerprint == parse_report(report(moved))[0].fingerprint


def test_without_code_the_fingerprint_falls_back_to_the_position() -> None:
    at_three, at_four = parse_report(report(result(line=3), result(line=4)))
    assert at_three.fingerprint != at_four.fingerprint


def test_references_from_metadata_are_kept() -> None:
    [finding] = parse_report(report(result(metadata={"references": "https://owasp.org/x"})))
    assert finding.references == ("https://owasp.org/x",)
    [finding] = parse_report(report(result(metadata={"references": ["a", "b"]})))
    assert finding.references == ("a", "b")


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "results",
        {},
        {"results": []},
        {"errors": []},
        {"results": {}, "errors": []},
        {"SchemaVersion": 2, "Results": []},
    ],
    ids=["none", "list", "string", "empty", "no-errors", "no-results", "results-not-list", "trivy"],
)
def test_a_document_that_is_not_a_semgrep_report_is_refused(data: Any) -> None:
    with pytest.raises(ReportFormatError):
        parse_report(data)


@pytest.mark.parametrize(
    "bad_result",
    [None, "policies.semgrep.python.my-rule", {}, {"check_id": None, "path": "/src/app.py"}],
    ids=["null", "string", "empty", "no-check-id"],
)
def test_a_result_without_a_check_id_is_refused(bad_result: Any) -> None:
    with pytest.raises(ReportFormatError):
        parse_report(report(result(), bad_result))
