"""SARIF 2.1.0 for code-scanning views (GitHub, GitLab, Azure DevOps): one run per scanner.

Findings come from scanned, untrusted code. JSON would escape any character, but viewers render what it
unescapes, so every string is stripped of control characters and Unicode direction overrides before it
reaches the log. A secret finding carries what every finding carries (rule, path, line, fingerprint),
never the matched text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from scanner.findings import Finding, Kind, Severity
from scanner.reports._common import as_int, clean, mappings
from scanner.reports._common import triggered as is_triggered

SARIF_VERSION = "2.1.0"
# The `id` of the vendored official schema (tests/data/sarif-schema-2.1.0.json).
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "releasegateFingerprint/v1"
TOOL_PREFIX = "releasegate"

# GitHub reads security-severity as a CVSS-like score: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium.
SECURITY_SEVERITY: Mapping[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.UNKNOWN: "0.0",
}
LEVEL: Mapping[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.UNKNOWN: "note",
}

# C0 and C1 controls except tab and newline, direction overrides (Trojan Source), lone surrogates
# (they cannot be encoded as UTF-8) and the two non-characters XML also refuses.
# RFC 3986 characters a URL may carry as they are; anything else makes it no helpUri.
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_SHORT_DESCRIPTION = 200
_VERDICT_KEYS = ("decision", "environment", "service", "scan_id", "policy", "policy_digest", "evaluated_at")


def to_sarif(
    findings: Sequence[Finding],
    verdict: Mapping[str, Any] | None = None,
    *,
    scanners: Iterable[str] = (),
) -> dict[str, Any]:
    """A SARIF log of the findings, one run per scanner.

    `scanners` names scanners that ran: each gets a run even with no findings, so a code-scanning view
    closes the alerts that are gone. The verdict, when given, is recorded in every run.
    """
    by_scanner: dict[str, list[Finding]] = {clean(name): [] for name in scanners}
    for finding in findings:
        by_scanner.setdefault(clean(finding.scanner), []).append(finding)
    tools = _string_map(verdict.get("tools")) if verdict else {}
    runs = [_run(name, items, verdict, tools) for name, items in sorted(by_scanner.items())]
    if not runs:
        runs = [_run("", [], verdict, tools)]  # the verdict still needs a home
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": runs}


def _run(
    scanner: str, findings: Sequence[Finding], verdict: Mapping[str, Any] | None, tools: Mapping[str, str]
) -> dict[str, Any]:
    first: dict[str, Finding] = {}
    index: dict[str, int] = {}
    worst: dict[str, Severity] = {}
    results: list[dict[str, Any]] = []
    for finding in findings:
        rule_id = clean(finding.rule_id)
        if rule_id not in first:
            index[rule_id] = len(first)
            first[rule_id] = finding
        # A rule found at several severities (one CVE, two ecosystems) is ranked by its worst.
        worst[rule_id] = max(worst.get(rule_id, finding.severity), finding.severity)
        results.append(_result(finding, rule_id, index[rule_id]))
    rules = [_rule(rule_id, finding, worst[rule_id]) for rule_id, finding in first.items()]

    driver: dict[str, Any] = {
        "name": f"{TOOL_PREFIX}/{scanner}" if scanner else TOOL_PREFIX,
        "rules": rules,
    }
    version = tools.get(scanner.split("-", 1)[0]) if scanner else None
    if version:
        driver["version"] = version
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": results}
    if verdict is not None:
        run["invocations"] = [_invocation(verdict)]
        run["properties"] = {"verdict": _verdict_summary(verdict, tools)}
    return run


def _rule(rule_id: str, finding: Finding, severity: Severity) -> dict[str, Any]:
    description = clean(finding.title) or rule_id
    short = description.replace("\n", " ").replace("\t", " ")
    if len(short) > _SHORT_DESCRIPTION:
        short = short[: _SHORT_DESCRIPTION - 1] + "…"
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": short},
        "fullDescription": {"text": description},
        "defaultConfiguration": {"level": LEVEL[severity]},
    }
    help_uri = next((url for url in map(_web_url, finding.references) if url), None)
    if help_uri:
        rule["helpUri"] = help_uri
    rule["properties"] = {
        "security-severity": SECURITY_SEVERITY[severity],
        "tags": ["security", finding.kind.value],
        "kind": finding.kind.value,
    }
    return rule


def _result(finding: Finding, rule_id: str, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": _message(finding, rule_id)},
        "partialFingerprints": {FINGERPRINT_KEY: clean(finding.fingerprint)},
        "properties": _result_properties(finding),
    }
    location = _location(finding)
    if location:
        result["locations"] = [location]
    return result


def _message(finding: Finding, rule_id: str) -> str:
    title = clean(finding.title) or rule_id
    if finding.kind is not Kind.VULNERABILITY or not finding.package:
        return title
    installed = f" {clean(finding.installed_version)}" if finding.installed_version else ""
    change = f" -> {clean(finding.fixed_version)}" if finding.fixed_version else " (no fixed version)"
    return f"{clean(finding.package)}{installed}{change}: {title}"


def _location(finding: Finding) -> dict[str, Any] | None:
    uri = _artifact_uri(finding.path or finding.target or finding.package or "")
    if not uri:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    line = _positive_int(finding.line)
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _artifact_uri(where: str) -> str:
    """A relative URI reference: no leading slash (it would read as a network path) and ':' encoded (a
    first segment like `sha256:…` would read as a scheme)."""
    text = clean(where).strip().replace("\\", "/").lstrip("/")
    while text.startswith("./"):
        text = text[2:].lstrip("/")
    return quote(text, safe="/!$&'()*+,;=@")


def _result_properties(finding: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {
        "severity": finding.severity.name,
        "kind": finding.kind.value,
        "scanner": clean(finding.scanner),
        "fixable": finding.fixable,
    }
    optional = {
        "package": finding.package,
        "installed_version": finding.installed_version,
        "fixed_version": finding.fixed_version,
        "target": finding.target,
        "first_seen": finding.first_seen.isoformat() if finding.first_seen else None,
    }
    props.update({key: clean(value) for key, value in optional.items() if value})
    return props


def _invocation(verdict: Mapping[str, Any]) -> dict[str, Any]:
    decision = clean(verdict.get("decision") or "unknown")
    invocation: dict[str, Any] = {
        "executionSuccessful": decision != "error",
        "properties": {"decision": decision, "policy_digest": clean(verdict.get("policy_digest"))},
    }
    if verdict.get("detail"):
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error" if decision == "error" else "note",
                "message": {"text": clean(verdict["detail"])},
            }
        ]
    return invocation


def _verdict_summary(verdict: Mapping[str, Any], tools: Mapping[str, str]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        key: clean(verdict.get(key)) for key in _VERDICT_KEYS if verdict.get(key) is not None
    }
    summary["reasons"] = [
        {
            "rule_id": clean(reason.get("rule_id")),
            "action": clean(reason.get("action")),
            "count": as_int(reason.get("count")),
            "max": as_int(reason.get("max")),
            "triggered": is_triggered(reason),
        }
        for reason in mappings(verdict.get("reasons"))
    ]
    summary["exceptions_applied"] = [
        {key: clean(exc.get(key)) for key in ("id", "owner", "expires") if exc.get(key) is not None}
        | {"count": as_int(exc.get("count"))}
        for exc in mappings(verdict.get("exceptions_applied"))
    ]
    if tools:
        summary["tools"] = dict(tools)
    return summary


def _web_url(reference: str) -> str | None:
    text = str(reference).strip()
    if not _URL.fullmatch(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # a malformed bracketed host
        return None
    return text if parts.netloc else None


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {clean(key): clean(item) for key, item in value.items() if item not in (None, "")}


def _positive_int(value: object) -> int | None:
    number = as_int(value)
    return number if number >= 1 else None
