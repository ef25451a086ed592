"""Trivy: command lines for `trivy image` and `trivy fs`, and a parser of its reports.

The parser is pure (report data in, findings out) and reads every report shape Trivy has printed:
schema 2 (`{"SchemaVersion": 2, "Results": [...]}`), the old schema 1 (a bare list of results),
and CycloneDX documents with vulnerabilities. A secret's `Match` and `Code` are never read into a
finding: Trivy masks the match, but `Code.Lines` carries the surrounding lines unmasked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scanner.findings import Finding, Kind, ScannerName, Severity, fingerprint_of, secret_hash

from ._process import ProcessResult, ScannerError, run


class ReportFormatError(ValueError):
    """The document is not a Trivy report we can read."""


_OFFLINE_ENV = {
    "TRIVY_SKIP_VERSION_CHECK": "true",
    "TRIVY_DISABLE_TELEMETRY": "true",
    "TRIVY_NO_PROGRESS": "true",
    "TRIVY_SKIP_CHECK_UPDATE": "true",
}


@dataclass(frozen=True, slots=True)
class TrivyOptions:
    binary: str
    cache_dir: Path
    skip_db_update: bool = True
    db_repository: str = ""
    timeout: float = 900
    memory_mb: int = 0
    secret_config: Path | None = None
    registry_username: str = ""
    registry_password: str = ""
    insecure: bool = False

    def common_args(self) -> list[str]:
        args = ["--format", "json", "--cache-dir", str(self.cache_dir), "--quiet"]
        if self.skip_db_update:
            args.append("--skip-db-update")
        if self.db_repository:
            args += ["--db-repository", self.db_repository]
        # The scanned tree is untrusted: it must not switch its own secret rules off by shipping a
        # trivy-secret.yaml. Trivy looks for that file in its working directory, which the callers
        # set to a scratch folder of ours; a configured file is passed explicitly.
        if self.secret_config:
            args += ["--secret-config", str(self.secret_config)]
        return args

    def env(self) -> dict[str, str]:
        env = dict(_OFFLINE_ENV)
        if self.registry_username:
            env["TRIVY_USERNAME"] = self.registry_username
            env["TRIVY_PASSWORD"] = self.registry_password
        if self.insecure:
            env["TRIVY_INSECURE"] = "true"
        return env


def image_command(opts: TrivyOptions, *, archive: Path | None = None, ref: str | None = None) -> list[str]:
    if (archive is None) == (ref is None):
        raise ValueError("give exactly one of archive or ref")
    args = [opts.binary, "image", *opts.common_args(), "--list-all-pkgs", "--scanners", "vuln,secret,license"]
    if archive is not None:
        return [*args, "--input", str(archive)]
    assert ref is not None
    return [*args, ref]


def fs_command(opts: TrivyOptions, source: Path) -> list[str]:
    return [
        opts.binary,
        "fs",
        *opts.common_args(),
        "--scanners",
        "vuln,secret,misconfig,license",
        str(source),
    ]


def run_trivy(args: list[str], opts: TrivyOptions, *, cwd: Path) -> dict[str, Any]:
    result = run(args, timeout=opts.timeout, env=opts.env(), cwd=cwd, memory_mb=opts.memory_mb)
    return decode_output(result)


def decode_output(result: ProcessResult) -> dict[str, Any]:
    # Trivy logs `ERROR ... Falling back to embedded checks` offline and still succeeds: the exit
    # code and a parseable report decide, not stderr.
    if result.returncode != 0:
        raise ScannerError(f"trivy exited {result.returncode}: {result.stderr_tail()}")
    try:
        data = json.loads(result.stdout)
    except ValueError as exc:
        raise ScannerError(f"trivy printed no JSON report: {exc}") from exc
    if not isinstance(data, dict):
        raise ScannerError("trivy printed an unexpected report")
    return data


def version_info(binary: str, cache_dir: Path) -> dict[str, str]:
    """Trivy's version and its database's UpdatedAt (empty when there is no database)."""
    result = run(
        [binary, "--version", "--format", "json", "--cache-dir", str(cache_dir)],
        timeout=30,
        env=_OFFLINE_ENV,
    )
    if result.returncode != 0:
        raise ScannerError(f"trivy --version exited {result.returncode}: {result.stderr_tail()}")
    data = json.loads(result.stdout)
    db = data.get("VulnerabilityDB") or {}
    return {
        "trivy": str(data.get("Version", "")),
        "trivy_db_updated_at": str(db.get("UpdatedAt", "")),
        "trivy_db_next_update": str(db.get("NextUpdate", "")),
    }


# ---------------------------------------------------------------- parsing (pure)


def parse_report(data: Any, *, scanner: str = ScannerName.TRIVY_FS) -> list[Finding]:
    if isinstance(data, list):  # schema 1: a bare list of results
        results: Iterable[Any] = data
    elif isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
        return _dedupe(_cyclonedx(data, scanner))
    elif isinstance(data, dict) and "spdxVersion" in data:
        return []  # an SPDX SBOM lists packages, never vulnerabilities
    elif isinstance(data, dict) and ("Results" in data or "SchemaVersion" in data):
        results = data.get("Results") or []
    else:
        raise ReportFormatError("not a Trivy report (no Results, not CycloneDX or SPDX)")
    return _dedupe(_from_results(results, scanner))


def is_trivy_report(data: Any) -> bool:
    if isinstance(data, list):
        return all(isinstance(r, dict) and "Target" in r for r in data)
    if not isinstance(data, dict):
        return False
    return (
        "SchemaVersion" in data
        or "Results" in data
        or data.get("bomFormat") == "CycloneDX"
        or ("spdxVersion" in data)
    )


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Keep every entry, but give exact repeats their own fingerprint so none is merged away."""
    seen: dict[str, int] = {}
    out: list[Finding] = []
    for f in findings:
        n = seen.get(f.fingerprint, 0)
        seen[f.fingerprint] = n + 1
        if n:
            f = _with_fingerprint(f, fingerprint_of(f.fingerprint, n))
        out.append(f)
    return out


def _with_fingerprint(f: Finding, fp: str) -> Finding:
    return replace(f, fingerprint=fp)


def _from_results(results: Iterable[Any], scanner: str) -> Iterator[Finding]:
    for result in results:
        if not isinstance(result, dict):
            raise ReportFormatError("a result is not an object")
        target = str(result.get("Target") or "")
        cls = str(result.get("Class") or "")
        rtype = str(result.get("Type") or "")
        # OS package targets name the image ("img:tag (alpine 3.17.1)"): key them by type so
        # the same package issue keeps its identity whatever the image is called.
        where = rtype if cls == "os-pkgs" else target
        for v in result.get("Vulnerabilities") or []:
            yield _vulnerability(v, scanner, target, where)
        for s in result.get("Secrets") or []:
            yield _secret(s, scanner, target)
        for m in result.get("Misconfigurations") or []:
            if str(m.get("Status", "FAIL")).upper() == "FAIL":
                yield _misconfiguration(m, scanner, target)
        for lic in result.get("Licenses") or []:
            yield _license(lic, scanner, target)


def _layer(item: dict[str, Any]) -> str | None:
    layer = item.get("Layer") or {}
    return layer.get("DiffID") or layer.get("Digest") or None


def _vulnerability(v: dict[str, Any], scanner: str, target: str, where: str) -> Finding:
    vid = str(v["VulnerabilityID"])
    pkg = str(v.get("PkgName") or "")
    installed = str(v.get("InstalledVersion") or "")
    pkg_path = v.get("PkgPath") or None
    refs = [str(r) for r in (v.get("References") or [])]
    primary = v.get("PrimaryURL")
    if primary and primary not in refs:
        refs.insert(0, str(primary))
    return Finding(
        fingerprint=fingerprint_of("vulnerability", vid, pkg, installed, where, pkg_path or v.get("PkgID")),
        scanner=scanner,
        kind=Kind.VULNERABILITY,
        rule_id=vid,
        severity=Severity.parse(str(v.get("Severity") or "UNKNOWN")),
        title=str(v.get("Title") or v.get("Description") or vid)[:500],
        package=pkg or None,
        installed_version=installed or None,
        fixed_version=str(v.get("FixedVersion") or "") or None,
        path=pkg_path or target or None,
        target=_layer(v) or target or None,
        references=tuple(refs[:20]),
    )


def _secret(s: dict[str, Any], scanner: str, target: str) -> Finding:
    rule = str(s["RuleID"])
    # Only the masked match is hashed, and only to tell two secrets in one file apart.
    token = secret_hash(str(s.get("Match") or ""))
    return Finding(
        fingerprint=fingerprint_of("secret", rule, target, token),
        scanner=scanner,
        kind=Kind.SECRET,
        rule_id=rule,
        severity=Severity.parse(str(s.get("Severity") or "UNKNOWN")),
        title=str(s.get("Title") or rule),
        path=target or None,
        line=_int(s.get("StartLine")),
        target=_layer(s) or target or None,
        references=(token,),
    )


def _misconfiguration(m: dict[str, Any], scanner: str, target: str) -> Finding:
    mid = str(m.get("ID") or m.get("AVDID") or "")
    cause = m.get("CauseMetadata") or {}
    refs = [str(r) for r in (m.get("References") or [])]
    return Finding(
        fingerprint=fingerprint_of(
            "misconfiguration", mid, target, cause.get("Resource"), cause.get("Provider"), m.get("Message")
        ),
        scanner=scanner,
        kind=Kind.MISCONFIGURATION,
        rule_id=mid,
        severity=Severity.parse(str(m.get("Severity") or "UNKNOWN")),
        title=str(m.get("Title") or mid),
        path=target or None,
        line=_int(cause.get("StartLine")),
        target=target or None,
        references=tuple(refs[:20]),
    )


def _license(lic: dict[str, Any], scanner: str, target: str) -> Finding:
    name = str(lic.get("Name") or "")
    pkg = lic.get("PkgName") or None
    path = lic.get("FilePath") or target or None
    return Finding(
        fingerprint=fingerprint_of("license", name, pkg, path),
        scanner=scanner,
        kind=Kind.LICENSE,
        rule_id=name,
        severity=Severity.parse(str(lic.get("Severity") or "UNKNOWN")),
        title=f"{name} ({lic.get('Category') or 'unknown category'})",
        package=pkg,
        path=path,
        target=target or None,
        references=tuple(x for x in [lic.get("Link")] if x),
    )


_UPGRADE = re.compile(r"Upgrade .+ to version (?P<v>.+)$")


def _cyclonedx(doc: dict[str, Any], scanner: str) -> Iterator[Finding]:
    components: dict[str, dict[str, Any]] = {}
    for comp in doc.get("components") or []:
        components[str(comp.get("bom-ref"))] = comp
    meta_comp = (doc.get("metadata") or {}).get("component") or {}
    if meta_comp:
        components.setdefault(str(meta_comp.get("bom-ref")), meta_comp)
    for v in doc.get("vulnerabilities") or []:
        vid = str(v["id"])
        severity = _cdx_severity(v)
        rec = _UPGRADE.match(str(v.get("recommendation") or ""))
        fixed = rec.group("v") if rec else None
        refs = [str(a.get("url")) for a in (v.get("advisories") or []) if a.get("url")]
        for affected in v.get("affects") or []:
            ref = str(affected.get("ref"))
            comp = components.get(ref, {})
            pkg = str(comp.get("name") or "") or None
            version = str(comp.get("version") or "") or None
            yield Finding(
                fingerprint=fingerprint_of("vulnerability", vid, pkg, version, ref),
                scanner=scanner,
                kind=Kind.VULNERABILITY,
                rule_id=vid,
                severity=severity,
                title=str(v.get("description") or vid)[:500],
                package=pkg,
                installed_version=version,
                fixed_version=fixed,
                path=ref,
                target=ref,
                references=tuple(refs[:20]),
            )


def _cdx_severity(v: dict[str, Any]) -> Severity:
    ratings = [r for r in (v.get("ratings") or []) if r.get("severity")]
    source = ((v.get("source") or {}).get("name")) or ""
    for preferred in (source, "nvd"):
        for r in ratings:
            if (r.get("source") or {}).get("name") == preferred:
                return _cdx_level(str(r["severity"]))
    levels = [_cdx_level(str(r["severity"])) for r in ratings]
    return max(levels, default=Severity.UNKNOWN)


def _cdx_level(value: str) -> Severity:
    mapping = {"info": "LOW", "none": "UNKNOWN", "unknown": "UNKNOWN"}
    return Severity.parse(mapping.get(value.lower(), value))


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
