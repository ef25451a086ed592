"""The verdict as JUnit XML, for the test-report views of CI systems (GitLab, Jenkins, Azure DevOps).

One testsuite for the verdict itself, whose single testcase `policy <name>` passes exactly when the
decision lets a promotion through, then one testsuite per policy rule that matched:

- a blocking rule over its `max`: a failing testcase per example finding, and one more for the matched
  findings the verdict lists no example of;
- a warning rule over its `max`: the same testcases, skipped, with the warning as their message;
- a rule within its `max`: one passing testcase that says so.

ElementTree escapes text and attributes; what it cannot escape (characters XML 1.0 forbids) and what a
viewer should not render (other controls, direction overrides) is replaced before it gets there.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from scanner.findings import Finding
from scanner.reports._common import as_int, clean, mappings
from scanner.reports._common import triggered as is_triggered

PASSING_DECISIONS = frozenset({"pass", "warn"})

# Characters XML 1.0 refuses (most C0 controls, lone surrogates, U+FFFE/U+FFFF), plus C1 controls and
# Unicode direction overrides, which a report view would render.
_URL = re.compile(r"https?://\S+")
_NAME_LIMIT = 300


def to_junit(findings: Sequence[Finding], verdict: Mapping[str, Any]) -> str:
    """JUnit XML of the verdict. `findings` add detail (references, target) to the verdict's examples,
    which they are matched to by fingerprint, and give the finding counts of the verdict's testcase."""
    policy = _line(verdict.get("policy")) or "policy"
    by_fingerprint = {f.fingerprint: f for f in findings}
    suites = [_verdict_suite(verdict, policy, findings)]
    suites += [_rule_suite(reason, policy, by_fingerprint) for reason in mappings(verdict.get("reasons"))]

    root = ET.Element("testsuites", name=f"releasegate {policy}")
    _set_counts(root, suites)
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _line(value: object, limit: int = _NAME_LIMIT) -> str:
    text = " ".join(clean(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- suites


def _verdict_suite(verdict: Mapping[str, Any], policy: str, findings: Sequence[Finding]) -> ET.Element:
    decision = _line(verdict.get("decision")) or "unknown"
    suite = ET.Element("testsuite", name="releasegate verdict")
    _properties(
        suite,
        {
            key: verdict.get(key)
            for key in ("decision", "environment", "service", "scan_id", "policy_digest", "evaluated_at")
        },
    )
    case = ET.SubElement(suite, "testcase", name=f"policy {policy}", classname=f"releasegate.{policy}")
    blocking = [
        _line(reason.get("rule_id"))
        for reason in mappings(verdict.get("reasons"))
        if reason.get("action") == "block" and is_triggered(reason)
    ]
    if decision == "error":
        detail = _line(verdict.get("detail")) or "a scanner failed"
        ET.SubElement(case, "error", message=f"decision error: {detail}", type="error").text = clean(
            verdict.get("detail")
        )
    elif decision not in PASSING_DECISIONS:
        why = f"blocked by {', '.join(blocking)}" if blocking else _line(verdict.get("detail"))
        message = f"decision {decision}" + (f": {why}" if why else "")
        ET.SubElement(case, "failure", message=message, type=decision)
    out = [f"decision: {decision}"]
    out += [f"findings: {summary}" for summary in [_finding_counts(verdict, findings)] if summary]
    for exc in mappings(verdict.get("exceptions_applied")):
        out.append(
            f"exception {_line(exc.get('id'))} applied to {as_int(exc.get('count'))} finding(s), "
            f"expires {_line(exc.get('expires'))}, owner {_line(exc.get('owner'))}"
        )
    ET.SubElement(case, "system-out").text = "\n".join(out)
    _set_counts(suite, [suite])
    return suite


def _rule_suite(reason: Mapping[str, Any], policy: str, by_fingerprint: Mapping[str, Finding]) -> ET.Element:
    rule_id = _line(reason.get("rule_id"))
    action = _line(reason.get("action"))
    count, limit, triggered = as_int(reason.get("count")), as_int(reason.get("max")), is_triggered(reason)
    summary = f"{action} rule {rule_id}: {count} finding(s) matched, max {limit}"
    suite = ET.Element("testsuite", name=f"{policy}: {rule_id}")
    _properties(suite, {"action": action, "count": count, "max": limit, "triggered": triggered})
    classname = f"releasegate.{policy}.{rule_id}"
    examples = mappings(reason.get("examples"))

    if not triggered:
        case = ET.SubElement(suite, "testcase", name=f"{rule_id}: within max {limit}", classname=classname)
        lines = [summary] + [_example_line(ex) for ex in examples]
        ET.SubElement(case, "system-out").text = "\n".join(lines)
    else:
        outcome = "failure" if action == "block" else "skipped"
        for ex in examples:
            finding = by_fingerprint.get(str(ex.get("fingerprint") or ""))
            case = ET.SubElement(suite, "testcase", name=_example_line(ex), classname=classname)
            message = " ".join(
                filter(None, [_line(ex.get("severity")), _line(ex.get("rule_id")), _where(ex)])
            )
            if outcome == "skipped":
                message = f"warning: {message}"
            element = ET.SubElement(case, outcome, message=message)
            detail = "\n".join(_example_detail(ex, finding, summary))
            if outcome == "failure":
                element.set("type", action)
                element.text = detail
            else:
                ET.SubElement(case, "system-out").text = detail
        unlisted = count - len(examples)
        if unlisted > 0:
            case = ET.SubElement(
                suite, "testcase", name=f"{rule_id}: {unlisted} more finding(s)", classname=classname
            )
            element = ET.SubElement(
                case, outcome, message=f"{summary}; {unlisted} not listed in the verdict's examples"
            )
            if outcome == "failure":
                element.set("type", action)
    ET.SubElement(suite, "system-out").text = summary
    _set_counts(suite, [suite])
    return suite


# ---------------------------------------------------------------- pieces


def _example_line(ex: Mapping[str, Any]) -> str:
    parts = [_line(ex.get("severity")), _line(ex.get("rule_id")), _where(ex)]
    if ex.get("package") and ex.get("installed_version"):
        parts.append(_line(ex.get("installed_version")))
    return " ".join(p for p in parts if p)


def _where(ex: Mapping[str, Any]) -> str:
    if ex.get("package"):
        return _line(ex.get("package"))
    path = _line(ex.get("path"))
    line = as_int(ex.get("line"))
    return f"{path}:{line}" if path and line > 0 else path


def _example_detail(ex: Mapping[str, Any], finding: Finding | None, summary: str) -> list[str]:
    lines = [summary]
    title = _line(ex.get("title"), 1000)
    kind = _line(ex.get("kind"))
    lines.append(
        f"finding: {_line(ex.get('rule_id'))} ({kind}, {_line(ex.get('severity'))}) {title}".rstrip()
    )
    if ex.get("package"):
        installed = _line(ex.get("installed_version"))
        fixed = f" -> fixed in {_line(ex['fixed_version'])}" if ex.get("fixed_version") else " (no fix)"
        lines.append(f"package: {_line(ex['package'])} {installed}{fixed}")
    if ex.get("path"):
        line = as_int(ex.get("line"))
        lines.append(f"location: {_line(ex['path'])}" + (f":{line}" if line > 0 else ""))
    if finding is not None and finding.target and finding.target != ex.get("path"):
        lines.append(f"target: {_line(finding.target)}")
    if ex.get("scanner"):
        lines.append(f"scanner: {_line(ex['scanner'])}")
    if ex.get("fingerprint"):
        lines.append(f"fingerprint: {_line(ex['fingerprint'])}")
    nap = ex.get("exception_not_applied")
    if isinstance(nap, Mapping):
        lines.append(f"exception {_line(nap.get('id'))} not applied: {_line(nap.get('why'))}")
    if finding is not None:
        # Secret findings keep a hash in references: only links are shown.
        links = [_line(ref) for ref in finding.references if _URL.fullmatch(str(ref))]
        lines += [f"reference: {link}" for link in links[:5]]
    return lines


def _finding_counts(verdict: Mapping[str, Any], findings: Sequence[Finding]) -> str:
    if findings:
        by_severity: Mapping[str, Any] = Counter(f.severity.name for f in findings)
    else:
        counts = verdict.get("counts")
        stored = counts.get("by_severity") if isinstance(counts, Mapping) else None
        by_severity = stored if isinstance(stored, Mapping) else {}
    return ", ".join(f"{_line(name)} {as_int(n)}" for name, n in sorted(by_severity.items()))


def _properties(element: ET.Element, values: Mapping[str, Any]) -> None:
    props = ET.SubElement(element, "properties")
    for name, value in values.items():
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else _line(value)
        ET.SubElement(props, "property", name=name, value=text)


def _set_counts(element: ET.Element, suites: Iterable[ET.Element]) -> None:
    cases = [case for suite in suites for case in suite.iter("testcase")]
    element.set("tests", str(len(cases)))
    element.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    element.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    element.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    element.set("time", "0")
