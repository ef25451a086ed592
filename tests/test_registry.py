"""Registry images end to end: images pushed with skopeo to a real registry on loopback (Debian's
`docker-registry`), scanned by digest through the live gate (Trivy pulls them over http), and checked
by every digest they have; result reuse without a scanner run; binding a pushed digest to an archive
scan; stable Trivy fingerprints; multi-arch index digests."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import Gate
from tests.support import images
from tests.support.registry import AMD64, ARM64, INSTALL_HINT, LocalRegistry, Platform, missing_tools

pytestmark = pytest.mark.slow

CVE = "CVE-2019-14806"  # werkzeug 0.14.1, HIGH: prod fails it
TRIVY_IMAGE = "trivy-image"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    missing = missing_tools()
    if missing:
        message = f"not installed: {', '.join(missing)} ({INSTALL_HINT})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with LocalRegistry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg


# ---------------------------------------------------------------- images and helpers


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _rootfs(*, vulnerable: bool, nonce: str, arch: str = "x86_64") -> dict[str, images.Content]:
    """The end-to-end test's images, plus a build id: every test gets digests no other test has."""
    parts = [
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl")], release="3.10.2", arch=arch),
        images.plant_file("app/build-id", f"{nonce}\n"),
    ]
    if vulnerable:
        parts += [
            images.python_dist_info("werkzeug", "0.14.1"),
            images.aws_credentials_file("app/settings.py"),
        ]
    else:
        parts += [
            images.python_dist_info("werkzeug", "2.3.0"),
            images.plant_file("app/settings.py", 'REGION = "eu-west-1"\n'),
        ]
    return images.merge_rootfs(*parts)


def build(tmp_path: Path, *, vulnerable: bool) -> images.ImageInfo:
    nonce = uuid.uuid4().hex
    name = "bad" if vulnerable else "good"
    return images.build_image(
        _rootfs(vulnerable=vulnerable, nonce=nonce),
        tmp_path / f"{name}-{nonce[:8]}.tar",
        tag=f"backend:{name}",
    )


def cli_json(result: Any) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"no JSON from the CLI: {result.stdout!r} {result.stderr!r}") from None
    return doc


def scan_image(gate: Gate, service: str, ref: str) -> tuple[int, dict[str, Any]]:
    result = gate.cli(
        "scan", "--service", service, "--environment", "prod", "--image", ref, "--wait", "--format", "json"
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, cli_json(result)


def check(gate: Gate, image: str) -> tuple[int, dict[str, Any]]:
    result = gate.cli(
        "check", "--image", image, "--environment", "prod", "--format", "json", "--retries", "1"
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, cli_json(result)


def as_text(doc: dict[str, Any]) -> str:
    """The verdict document as text: enough to ask whether it names a rule id."""
    return json.dumps(doc)


def submit(client: httpx.Client, service: str, ref: str, *, force: bool = False) -> httpx.Response:
    body = {"service": service, "environment": "prod", "image": ref, "force": force}
    return client.post("/api/v1/scans", json=body)


def wait_done(client: httpx.Client, scan_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/scans/{scan_id}").raise_for_status().json()
        if body["status"] in ("done", "error") and body.get("verdict"):
            return body
        assert time.monotonic() < deadline, f"scan {scan_id} did not finish: {body}"
        time.sleep(0.2)


def trivy_fingerprints(client: httpx.Client, scan_id: str) -> list[tuple[str, str, str]]:
    body = client.get(f"/api/v1/scans/{scan_id}/findings", params={"limit": 1000}).raise_for_status().json()
    assert body["next"] is None
    return sorted(
        (f["fingerprint"], f["rule_id"], f["kind"]) for f in body["findings"] if f["scanner"] == TRIVY_IMAGE
    )


# ---------------------------------------------------------------- acceptance 2: scan and check by digest


def test_pushed_image_is_scanned_by_digest_and_checked_by_every_digest(
    gate: Gate, registry: LocalRegistry, tmp_path: Path
) -> None:
    bad = build(tmp_path, vulnerable=True)
    digest = registry.push(bad.path, "backend", unique("bad"))
    ref = registry.ref("backend", digest)
    assert registry.config_digest("backend", digest) == bad.config_digest  # skopeo keeps the image ID

    code, verdict = scan_image(gate, unique("reg-bad"), ref)

    assert code == 1 and verdict["decision"] == "fail", verdict
    assert CVE in as_text(verdict)
    scan_id = verdict["scan_id"]
    # Trivy pulled it from our registry: the gate did not get the image any other way.
    assert ("GET", f"/v2/backend/manifests/{digest}", 200) in registry.manifest_requests("backend")
    with gate.client() as client:
        scan = client.get(f"/api/v1/scans/{scan_id}").raise_for_status().json()
    assert scan["image"]["ref"] == ref
    assert {digest, bad.config_digest} <= set(scan["image"]["digests"])

    # The PreSync hook asks by the pushed reference, by the image ID, or by a bare digest.
    for image in (ref, f"{registry.host}/backend@{bad.config_digest}", bad.config_digest, digest):
        code, doc = check(gate, image)
        assert (code, doc["decision"], doc["scan_id"]) == (1, "fail", scan_id), image

    good = build(tmp_path, vulnerable=False)
    good_digest = registry.push(good.path, "backend", unique("good"))
    good_ref = registry.ref("backend", good_digest)
    code, verdict = scan_image(gate, unique("reg-good"), good_ref)
    assert code == 0 and verdict["decision"] in ("pass", "warn"), verdict
    code, doc = check(gate, good_ref)
    assert (code, doc["scan_id"]) == (0, verdict["scan_id"])
    code, doc = check(gate, good.config_digest)
    assert (code, doc["scan_id"]) == (0, verdict["scan_id"])


# ---------------------------------------------------------------- acceptance 3: reuse without a scanner run


def test_rescan_of_the_same_digest_reuses_the_result_and_runs_no_scanner(
    gate: Gate, registry: LocalRegistry, tmp_path: Path
) -> None:
    repo = "reuse/backend"
    image = build(tmp_path, vulnerable=True)
    digest = registry.push(image.path, repo, unique("v"))
    ref = registry.ref(repo, digest)
    service = unique("reuse")
    with gate.client() as client:
        first = submit(client, service, ref)
        assert first.status_code == 202, first.text
        assert first.json()["reused"] is False
        scan_id = first.json()["scan_id"]
        before = wait_done(client, scan_id)
        assert before["verdict"]["decision"] == "fail"
        pulls, blobs = registry.manifest_requests(repo), registry.blob_requests(repo)
        # The control: a scan that runs Trivy on a registry image reads its manifest from the registry.
        assert any(path.endswith(digest) for _, path, _ in pulls), pulls

        started = time.monotonic()
        again = submit(client, service, ref)
        elapsed = time.monotonic() - started
        assert again.status_code == 200, again.text
        assert again.json()["reused"] is True
        assert again.json()["scan_id"] == scan_id
        assert again.json()["verdict"] == before["verdict"]
        time.sleep(3)  # long enough for a worker to pick up and start anything that was enqueued
        after = client.get(f"/api/v1/scans/{scan_id}").raise_for_status().json()

    # No scanner ran: Trivy cannot scan a registry image without reading its manifest, and the registry
    # served no request for this repository since; the scan's jobs are untouched; no scan was added.
    assert registry.manifest_requests(repo) == pulls
    assert registry.blob_requests(repo) == blobs
    assert after["jobs"] == before["jobs"]
    assert after["finished_at"] == before["finished_at"]
    with psycopg.connect(gate.env["RELEASEGATE_DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT id FROM scans WHERE image_ref = %s", (ref,)).fetchall()
    assert [r[0] for r in rows] == [scan_id]
    code, doc = check(gate, ref)
    assert (code, doc["scan_id"]) == (1, scan_id)
    assert elapsed < 5, elapsed  # generous: acceptance asks for under a second, asserted by the above


# ---------------------------------------------------------------- binding a pushed digest to an archive scan


def test_bind_maps_a_pushed_manifest_digest_to_the_archive_scan(
    gate: Gate, registry: LocalRegistry, tmp_path: Path
) -> None:
    image = build(tmp_path, vulnerable=False)
    result = gate.cli(
        "scan",
        "--service",
        unique("bind"),
        "--environment",
        "prod",
        "--image-tar",
        str(image.path),
        "--wait",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    scan_id = cli_json(result)["scan_id"]

    digest = registry.push(image.path, "backend", unique("bound"))
    ref = registry.ref("backend", digest)
    assert digest != image.config_digest
    code, doc = check(gate, ref)
    assert (code, doc["decision"]) == (1, "unknown"), doc  # the push made a digest the gate never saw

    bound = gate.cli("bind", "--scan", scan_id, "--digest", digest)
    assert bound.returncode == 0, bound.stdout + bound.stderr
    assert digest in bound.stdout.split() and image.config_digest in bound.stdout.split()

    code, doc = check(gate, ref)
    assert (code, doc["scan_id"]) == (0, scan_id), doc
    assert doc["decision"] in ("pass", "warn")


# ---------------------------------------------------------------- acceptance 4 (Trivy half): fingerprints


def test_trivy_fingerprints_are_the_same_across_forced_rescans(
    gate: Gate, registry: LocalRegistry, tmp_path: Path
) -> None:
    image = build(tmp_path, vulnerable=True)
    ref = registry.ref("backend", registry.push(image.path, "backend", unique("fp")))
    service = unique("fingerprints")
    with gate.client() as client:
        ids = []
        for _ in range(2):
            resp = submit(client, service, ref, force=True)
            assert resp.status_code == 202, resp.text
            assert resp.json()["reused"] is False
            ids.append(resp.json()["scan_id"])
        assert ids[0] != ids[1]
        for scan_id in ids:
            assert wait_done(client, scan_id)["status"] == "done"
        first, second = (trivy_fingerprints(client, scan_id) for scan_id in ids)

    assert first, "the vulnerable image gave no Trivy findings"
    assert {rule for _, rule, _ in first} >= {CVE, "aws-access-key-id"}
    assert first == second


def test_registry_and_archive_scans_of_one_image_have_the_same_fingerprints(
    gate: Gate, registry: LocalRegistry, tmp_path: Path
) -> None:
    """What `bind` relies on: the archive that was scanned and the image that was pushed are one image,
    so their findings are the same findings."""
    image = build(tmp_path, vulnerable=True)
    ref = registry.ref("backend", registry.push(image.path, "backend", unique("same")))
    service = unique("same-image")
    archive = gate.cli(
        "scan",
        "--service",
        service,
        "--environment",
        "prod",
        "--image-tar",
        str(image.path),
        "--wait",
        "--format",
        "json",
    )
    assert archive.returncode == 1, archive.stdout + archive.stderr
    code, remote = scan_image(gate, service, ref)
    assert code == 1
    with gate.client() as client:
        from_archive = trivy_fingerprints(client, cli_json(archive)["scan_id"])
        from_registry = trivy_fingerprints(client, remote["scan_id"])
    assert from_archive and from_archive == from_registry


# ---------------------------------------------------------------- multi-arch index digests


def _platform_rootfs(*, amd64_vulnerable: bool, arm64_vulnerable: bool) -> dict[Platform, images.Rootfs]:
    nonce = uuid.uuid4().hex
    return {
        AMD64: _rootfs(vulnerable=amd64_vulnerable, nonce=nonce, arch="x86_64"),
        ARM64: _rootfs(vulnerable=arm64_vulnerable, nonce=nonce, arch="aarch64"),
    }


def test_index_digest_is_judged_as_a_whole_and_fails_closed_until_it_is(
    gate: Gate, registry: LocalRegistry, tmp_path: Path
) -> None:
    """Platform images scanned one by one say nothing about an index: checking the index digest
    answers `unknown` (fail closed) until the index itself is scanned, which judges every platform."""
    repo = "multi/backend"
    index = registry.push_index(
        _platform_rootfs(amd64_vulnerable=False, arm64_vulnerable=False), repo, unique("ok"), work=tmp_path
    )
    service = unique("multi-ok")
    for platform in index.platforms:
        code, verdict = scan_image(gate, service, registry.ref(repo, platform.manifest_digest))
        assert code == 0, (platform, verdict)
    code, doc = check(gate, registry.ref(repo, index.digest))
    assert (code, doc["decision"]) == (1, "unknown"), doc

    code, verdict = scan_image(gate, service, registry.ref(repo, index.digest))
    assert code == 0, verdict
    code, doc = check(gate, registry.ref(repo, index.digest))
    assert code == 0 and doc["decision"] in ("pass", "warn"), doc


def test_scanning_an_index_digest_judges_every_platform_image(
    gate: Gate, registry: LocalRegistry, tmp_path: Path
) -> None:
    repo = "multi/backend"
    index = registry.push_index(
        _platform_rootfs(amd64_vulnerable=False, arm64_vulnerable=True), repo, unique("idx"), work=tmp_path
    )
    ref = registry.ref(repo, index.digest)
    arm64 = index.for_platform(ARM64)

    code, verdict = scan_image(gate, unique("multi-scan"), ref)

    assert code == 1 and verdict["decision"] == "fail", verdict
    assert CVE in as_text(verdict)
    for image in (ref, registry.ref(repo, arm64.manifest_digest), arm64.config_digest):
        code, doc = check(gate, image)
        assert (code, doc["decision"]) == (1, "fail"), (image, doc)
