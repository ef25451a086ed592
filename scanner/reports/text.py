"""The verdict as text for a terminal or a CI log. Findings come from untrusted code: every value is
stripped of control characters so a finding cannot rewrite the log (ANSI escapes, carriage returns).
"""

from __future__ import annotations

from typing import Any

from scanner.reports._common import UNSAFE


def clean(value: Any, limit: int = 160) -> str:
    text = UNSAFE.sub("?", str(value)).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_verdict(doc: dict[str, Any]) -> str:
    decision = str(doc.get("decision", "unknown"))
    lines = [
        f"{decision.upper()}: {clean(doc.get('service') or '-')} -> {clean(doc.get('environment'))}"
        f"  (scan {clean(doc.get('scan_id') or '-')}, policy {clean(doc.get('policy') or '-')} "
        f"{clean(doc.get('policy_digest') or '')})"
    ]
    if doc.get("detail"):
        lines.append(f"  detail: {clean(doc['detail'], 600)}")
    for reason in doc.get("reasons") or []:
        mark = (
            "x"
            if reason.get("triggered") and reason.get("action") == "block"
            else ("!" if reason.get("triggered") else "-")
        )
        lines.append(
            f"  [{mark}] {clean(reason['action'])} {clean(reason['rule_id'])}: {reason['count']} finding(s), "
            f"max {reason['max']}"
        )
        for ex in reason.get("examples") or []:
            where = ex.get("package") or ex.get("path") or ""
            version = ex.get("installed_version") or ""
            fixed = f" -> fixed in {clean(ex['fixed_version'])}" if ex.get("fixed_version") else ""
            line = f":{ex['line']}" if ex.get("line") and not ex.get("package") else ""
            lines.append(
                f"        {clean(ex.get('severity', ''))} {clean(ex.get('rule_id', ''))} "
                f"{clean(where)}{line} {clean(version)}{fixed}".rstrip()
            )
            if ex.get("exception_not_applied"):
                nap = ex["exception_not_applied"]
                lines.append(
                    f"          exception {clean(nap.get('id'))} not applied: {clean(nap.get('why'))}"
                )
    for exc in doc.get("exceptions_applied") or []:
        lines.append(
            f"  exception {clean(exc.get('id'))} applied to {exc.get('count')} finding(s), "
            f"expires {clean(exc.get('expires'))}, owner {clean(exc.get('owner'))}"
        )
    counts = doc.get("counts") or {}
    if counts.get("by_severity"):
        sev = ", ".join(f"{k} {v}" for k, v in sorted(counts["by_severity"].items()))
        lines.append(f"  findings by severity: {clean(sev, 300)}")
    tools = doc.get("tools") or {}
    if tools:
        lines.append("  tools: " + clean(", ".join(f"{k} {v}" for k, v in sorted(tools.items())), 300))
    return "\n".join(lines) + "\n"
