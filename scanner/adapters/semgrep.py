"""Semgrep: the command line (local rules only, offline-safe) and a parser of its JSON output.

The open-source CLI prints `requires login` instead of a fingerprint and the matched lines, so the
fingerprint is computed here from the rule, the file and the matched code with whitespace
collapsed: inserting lines above a finding leaves it unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.findings import Finding, Kind, ScannerName, Severity, fingerprint_of

from ._process import ScannerError, run


class ReportFormatError(ValueError):
    """The document is not a Semgrep JSON report."""


_SEVERITY = {"ERROR": Severity.HIGH, "WARNING": Severity.MEDIUM, "INFO": Severity.LOW}
# Semgrep >= 1.7x also prints these names for rule severities.
_SEVERITY |= {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}


@dataclass(frozen=True, slots=True)
class SemgrepOptions:
    binary: str
    rule_dirs: Sequence[Path]
    home: Path
    timeout: float = 900
    jobs: int = 2
    memory_mb: int = 0

    def env(self) -> dict[str, str]:
        # Offline, Semgrep stalls ~100 s on its version check unless told not to; it also needs a
        # writable config home.
        return {
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "XDG_CONFIG_HOME": str(self.home),
            "SEMGREP_USER_AGENT_APPEND": "releasegate",
        }


def scan_command(opts: SemgrepOptions, source: Path) -> list[str]:
    # The gate decides what is scanned, not the scanned tree: no .gitignore (an upload unpacked
    # inside some git checkout would otherwise be skipped whole) and no .semgrepignore of the repo's
    # own and no `# nosemgrep` comments, so code cannot hide itself: accepted findings are policy
    # exceptions, reviewed in git. Vendored dependencies are Trivy's job, not Semgrep's.
    args = [
        opts.binary,
        "scan",
        "--json",
        "--metrics=off",
        "--disable-version-check",
        "--quiet",
        "--no-git-ignore",
        "--x-ignore-semgrepignore-files",
        "--disable-nosem",
        "--exclude",
        "node_modules",
        "--exclude",
        ".git",
        "--exclude",
        "vendor",
    ]
    for rules in opts.rule_dirs:
        args += ["--config", str(rules)]
    args += ["--jobs", str(opts.jobs), "--timeout", "30", str(source)]
    return args


def run_semgrep(opts: SemgrepOptions, source: Path) -> dict[str, Any]:
    opts.home.mkdir(parents=True, exist_ok=True)
    result = run(
        scan_command(opts, source),
        timeout=opts.timeout,
        env=opts.env(),
        cwd=opts.home,
        memory_mb=opts.memory_mb,
    )
    try:
        data = json.loads(result.stdout)
    except ValueError:
        data = None
    if result.returncode != 0 or not isinstance(data, dict):
        raise ScannerError(f"semgrep exited {result.returncode}: {result.stderr_tail()}")
    fatal = [
        e
        for e in data.get("errors") or []
        if str(e.get("level", "")).lower() == "error"
        and _error_type(e) not in {"Syntax error", "Lexical error", "PartialParsing", "Timeout"}
    ]
    if fatal:
        raise ScannerError("semgrep rule errors: " + "; ".join(str(e.get("message"))[:200] for e in fatal))
    return data


def version(binary: str, home: Path) -> str:
    home.mkdir(parents=True, exist_ok=True)
    opts = SemgrepOptions(binary=binary, rule_dirs=(), home=home)
    result = run([binary, "--version", "--disable-version-check"], timeout=60, env=opts.env())
    if result.returncode != 0:
        raise ScannerError(f"semgrep --version exited {result.returncode}: {result.stderr_tail()}")
    return result.stdout.decode().strip()


def _error_type(error: dict[str, Any]) -> str:
    kind = error.get("type")
    # `type` is a string or a list whose first element names the error.
    if isinstance(kind, list):
        return str(kind[0]) if kind else ""
    return str(kind or "")


# ---------------------------------------------------------------- parsing (pure)

LineReader = Callable[[str], Sequence[str] | None]


def is_semgrep_report(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("results"), list) and "errors" in data


def rule_id(check_id: str) -> str:
    """The rule's own id: Semgrep prefixes it with the dotted path of the rules folder."""
    return check_id.rsplit(".", 1)[-1]


def parse_report(
    data: Any, *, read_lines: LineReader | None = None, source_root: str | None = None
) -> list[Finding]:
    if not is_semgrep_report(data):
        raise ReportFormatError("not a Semgrep JSON report (no results/errors)")
    findings: list[Finding] = []
    occurrences: dict[str, int] = {}
    for r in data["results"]:
        if not isinstance(r, dict) or not isinstance(r.get("check_id"), str):
            raise ReportFormatError("a result is not an object with a check_id")
        extra = r.get("extra") or {}
        metadata = extra.get("metadata") or {}
        rid = rule_id(str(r["check_id"]))
        path = _relative(str(r.get("path") or ""), source_root)
        start = int((r.get("start") or {}).get("line") or 0) or None
        end = int((r.get("end") or {}).get("line") or 0) or start
        code = _matched_code(read_lines, str(r.get("path") or ""), start, end, extra.get("lines"))
        base = fingerprint_of("code", rid, path, code)
        n = occurrences.get(base, 0)
        occurrences[base] = n + 1
        refs = metadata.get("references") or []
        if isinstance(refs, str):
            refs = [refs]
        findings.append(
            Finding(
                fingerprint=fingerprint_of(base, n) if n else base,
                scanner=ScannerName.SEMGREP,
                kind=Kind.CODE,
                rule_id=rid,
                severity=_severity(str(extra.get("severity") or "INFO"), metadata),
                title=str(extra.get("message") or rid)[:1000],
                path=path or None,
                line=start,
                target=path or None,
                references=tuple(str(x) for x in refs[:20]),
            )
        )
    return findings


def _severity(level: str, metadata: dict[str, Any]) -> Severity:
    override = metadata.get("releasegate-severity")
    if override:
        return Severity.parse(str(override))
    try:
        return _SEVERITY[level.upper()]
    except KeyError:
        return Severity.parse(level)


_SPACE = re.compile(r"\s+")


def _matched_code(
    read_lines: LineReader | None, path: str, start: int | None, end: int | None, printed: Any
) -> str:
    lines: Sequence[str] | None = read_lines(path) if read_lines else None
    if lines is not None and start:
        text = "\n".join(lines[start - 1 : (end or start)])
    elif isinstance(printed, str) and printed != "requires login":
        text = printed
    else:
        text = f"line {start}"  # no code to read: fall back to the position
    return _SPACE.sub(" ", text).strip()


def _relative(path: str, root: str | None) -> str:
    if root:
        root = root.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root) :]
    return path.removeprefix("./")


def file_line_reader(root: Path) -> LineReader:
    """Read scanned files' lines (for fingerprints only; the lines are never stored)."""
    cache: dict[str, Sequence[str] | None] = {}

    def read(path: str) -> Sequence[str] | None:
        if path not in cache:
            p = Path(path)
            if not p.is_absolute():
                p = root / p
            try:
                cache[path] = p.read_text("utf-8", "replace").splitlines()
            except OSError:
                cache[path] = None
        return cache[path]

    return read
