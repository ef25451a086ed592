"""scanner.archives: hostile uploads are refused before anything is written; benign ones unpack."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from scanner.archives import (
    NotAnImageArchiveError,
    UnsafeArchiveError,
    image_config_digest,
    safe_join,
    sha256_file,
    unpack_tar,
)
from tests.support.images import alpine_rootfs, build_image, build_oci_archive, merge_rootfs, plant_file

MiB = 1024 * 1024


@dataclass(frozen=True)
class Entry:
    name: str
    kind: bytes = tarfile.REGTYPE
    data: bytes = b""
    linkname: str = ""
    mode: int = 0o644
    size: int | None = None  # a header may declare a size; defaults to len(data)


def File(name: str, data: bytes = b"data\n", mode: int = 0o644) -> Entry:  # noqa: N802 - reads as a type
    return Entry(name, data=data, mode=mode)


def Dir(name: str) -> Entry:  # noqa: N802 - reads as a type
    return Entry(name, kind=tarfile.DIRTYPE, mode=0o755)


def Symlink(name: str, target: str) -> Entry:  # noqa: N802 - reads as a type
    return Entry(name, kind=tarfile.SYMTYPE, linkname=target, mode=0o777)


def Hardlink(name: str, target: str) -> Entry:  # noqa: N802 - reads as a type
    return Entry(name, kind=tarfile.LNKTYPE, linkname=target)


def write_tar(path: Path, entries: Sequence[Entry], *, compression: str = "") -> Path:
    """Write entries verbatim: tarfile's addfile keeps hostile names that TarFile.add would clean."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") if compression == "gz" else tarfile.open(path, "w") as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = entry.kind
            info.mode = entry.mode
            info.linkname = entry.linkname
            info.mtime = 1_566_332_395
            if entry.kind == tarfile.CHRTYPE:
                info.devmajor, info.devminor = 1, 3
            if entry.kind == tarfile.REGTYPE:
                info.size = len(entry.data) if entry.size is None else entry.size
                tar.addfile(info, io.BytesIO(entry.data))
            else:
                tar.addfile(info)
    return path


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """(uploads folder, scan folder): dest is <tmp>/scan/dest, so `../../x` would land in <tmp>."""
    return tmp_path / "uploads", tmp_path / "scan" / "dest"


def assert_nothing_written(tmp_path: Path, dest: Path) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]
    assert not dest.exists()


HOSTILE: dict[str, tuple[list[Entry], str]] = {
    "dotdot": ([File("ok.txt"), File("../../evil")], "'..' climbs out"),
    "dotdot-after-dir": ([Dir("a"), File("a/../../../evil")], "'..' climbs out"),
    "absolute": ([File("ok.txt"), File("/ABSOLUTE/evil")], "absolute paths are refused"),
    "symlink-absolute": ([Symlink("passwd", "/etc/passwd")], "absolute symlink target '/etc/passwd'"),
    "symlink-climbs": ([Dir("a"), Symlink("a/up", "../../..")], "resolves outside the destination"),
    "symlink-top-dotdot-then-write": ([Symlink("a", ".."), File("a/x")], "goes through the symlink 'a'"),
    # `d/a -> ..` stays inside, but writing `d/a/x` would follow it: refused on the path alone.
    "write-through-symlink": (
        [Dir("d"), Symlink("d/a", ".."), File("d/a/x")],
        "goes through the symlink 'd/a'",
    ),
    "write-through-symlink-declared-later": (
        [Dir("d"), File("d/a/x"), Symlink("d/a", "..")],
        "goes through the symlink 'd/a'",
    ),
    "overwrite-symlink-with-file": (
        [Symlink("link", "target"), File("link")],
        "already declared as a symlink",
    ),
    # Lexically `b/..` from x/ is x/, but b is itself `..`: x/b/.. is the destination's parent.
    "symlink-through-symlink": ([Dir("x"), Symlink("x/b", ".."), Symlink("x/c", "b/..")], "outside"),
    # Inside once x/b exists, but while x/c is unpacked x/b is still missing: x/b/../../.. climbs out.
    "symlink-safe-only-when-complete": (
        [Dir("x/sub/deep"), Symlink("x/c", "b/../../.."), Symlink("x/b", "sub/deep")],
        "outside",
    ),
    "symlink-loop": ([Symlink("a", "b/x"), Symlink("b", "a")], "loops"),
    "hardlink-out": (
        [File("ok.txt"), Hardlink("h", "../../etc/passwd")],
        "hardlink target '../../etc/passwd'",
    ),
    "hardlink-absolute": ([Hardlink("h", "/etc/passwd")], "absolute hardlink target"),
    "hardlink-to-symlink": (
        [Symlink("s", "ok.txt"), File("ok.txt"), Hardlink("h", "s")],
        "not a regular file",
    ),
    "hardlink-forward": ([Hardlink("h", "later.txt"), File("later.txt")], "not a regular file earlier"),
    "char-device": ([File("ok.txt"), Entry("dev/null", kind=tarfile.CHRTYPE)], "character device"),
    "fifo": ([Entry("pipe", kind=tarfile.FIFOTYPE)], "FIFO"),
    "replaces-dest": ([File("./")], "replace the destination"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_member_is_refused_before_anything_is_written(
    case: str, tmp_path: Path, layout: tuple[Path, Path]
) -> None:
    uploads, dest = layout
    entries, reason = HOSTILE[case]
    archive = write_tar(uploads / "upload.tar", entries)

    with pytest.raises(UnsafeArchiveError, match=reason) as caught:
        unpack_tar(archive, dest, max_bytes=MiB)

    assert caught.value.member is not None
    assert caught.value.member in str(caught.value)
    assert_nothing_written(tmp_path, dest)


def test_error_names_the_offending_member(layout: tuple[Path, Path]) -> None:
    uploads, dest = layout
    archive = write_tar(uploads / "upload.tar", [File("fine.txt"), File("../../evil")])

    with pytest.raises(UnsafeArchiveError) as caught:
        unpack_tar(archive, dest, max_bytes=MiB)

    assert caught.value.member == "../../evil"
    assert str(caught.value) == "archive member '../../evil': '..' climbs out of the destination"


def test_oversize_archive_is_refused_on_declared_sizes(tmp_path: Path, layout: tuple[Path, Path]) -> None:
    uploads, dest = layout
    archive = write_tar(uploads / "upload.tar", [File("a", b"x" * 600), File("b", b"x" * 600)])

    with pytest.raises(UnsafeArchiveError, match="exceed the limit of 1000 bytes") as caught:
        unpack_tar(archive, dest, max_bytes=1000)

    assert caught.value.member == "b"
    assert_nothing_written(tmp_path, dest)


def test_gzip_bomb_is_refused_without_unpacking(tmp_path: Path, layout: tuple[Path, Path]) -> None:
    uploads, dest = layout
    archive = write_tar(uploads / "bomb.tgz", [File("zeros", bytes(20 * MiB))], compression="gz")
    assert archive.stat().st_size < 100_000

    with pytest.raises(UnsafeArchiveError, match="exceed the limit"):
        unpack_tar(archive, dest, max_bytes=MiB)

    assert_nothing_written(tmp_path, dest)


def test_too_many_members_is_refused(tmp_path: Path, layout: tuple[Path, Path]) -> None:
    uploads, dest = layout
    archive = write_tar(uploads / "upload.tar", [File(f"f{i}") for i in range(5)])

    with pytest.raises(UnsafeArchiveError, match="more than 4 members") as caught:
        unpack_tar(archive, dest, max_bytes=MiB, max_members=4)

    assert caught.value.member == "f4"
    assert_nothing_written(tmp_path, dest)


def test_corrupt_archive_is_refused_as_a_whole(tmp_path: Path, layout: tuple[Path, Path]) -> None:
    uploads, dest = layout
    uploads.mkdir()
    archive = uploads / "upload.tgz"
    archive.write_bytes(b"\x1f\x8b\x08\x00" + os.urandom(2000))

    with pytest.raises(UnsafeArchiveError, match="not a readable tar archive") as caught:
        unpack_tar(archive, dest, max_bytes=MiB)

    assert caught.value.member is None
    assert_nothing_written(tmp_path, dest)


def test_non_empty_destination_is_refused(layout: tuple[Path, Path]) -> None:
    uploads, dest = layout
    archive = write_tar(uploads / "upload.tar", [File("a")])
    dest.mkdir(parents=True)
    (dest / "already-here").write_text("x")

    with pytest.raises(ValueError, match="must be missing or an empty directory"):
        unpack_tar(archive, dest, max_bytes=MiB)


@pytest.mark.parametrize("compression", ["", "gz"])
def test_benign_archive_unpacks_with_nested_dirs_and_internal_links(
    compression: str, tmp_path: Path, layout: tuple[Path, Path]
) -> None:
    uploads, dest = layout
    entries = [
        Dir("./"),
        Dir("src"),
        Dir("src/pkg"),
        File("src/pkg/__init__.py", b""),
        File("src/pkg/readme.md", b"# pkg\n"),
        File("./src/pkg/tool.sh", b"#!/bin/sh\n", mode=0o4777),  # setuid and world-writable
        Dir("docs/latest/../guide"),  # `..` that stays inside is fine
        Symlink("docs/readme.md", "../src/pkg/readme.md"),
        Symlink("src/pkg/self", "."),
        Hardlink("docs/guide/copy.md", "src/pkg/readme.md"),
    ]
    suffix = ".tgz" if compression else ".tar"
    archive = write_tar(uploads / f"upload{suffix}", entries, compression=compression)

    unpacked = unpack_tar(archive, dest, max_bytes=MiB)

    assert unpacked == [
        "src",
        "src/pkg",
        "src/pkg/__init__.py",
        "src/pkg/readme.md",
        "src/pkg/tool.sh",
        "docs/guide",
        "docs/readme.md",
        "src/pkg/self",
        "docs/guide/copy.md",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan", "uploads"]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["dest"]
    assert os.readlink(dest / "docs/readme.md") == "../src/pkg/readme.md"
    assert (dest / "docs/readme.md").read_bytes() == b"# pkg\n"
    assert (dest / "docs/guide/copy.md").read_bytes() == b"# pkg\n"
    assert (dest / "docs/guide/copy.md").stat().st_ino == (dest / "src/pkg/readme.md").stat().st_ino
    assert (dest / "src/pkg/self/readme.md").read_bytes() == b"# pkg\n"
    assert stat.S_IMODE((dest / "src/pkg/tool.sh").stat().st_mode) == 0o755


def test_safe_join_keeps_names_inside_base(tmp_path: Path) -> None:
    assert safe_join(tmp_path, "a/./b//c") == tmp_path / "a" / "b" / "c"
    assert safe_join(tmp_path, "a/../b") == tmp_path / "b"
    assert safe_join(tmp_path, "./") == tmp_path


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "a\x00b"])
def test_safe_join_refuses_escapes(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeArchiveError):
        safe_join(tmp_path, name)


def test_sha256_file_streams_large_files(tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)

    assert sha256_file(path) == "sha256:" + hashlib.sha256(data).hexdigest()


# --- image_config_digest ------------------------------------------------------------------------------

ROOTFS = merge_rootfs(alpine_rootfs([("musl", "1.1.22-r2", "musl")]), plant_file("app/main.py", "print(1)\n"))


def test_image_config_digest_of_docker_archive(tmp_path: Path) -> None:
    image = build_image(ROOTFS, tmp_path / "image.tar", layers=[{"app/extra.py": "x = 1\n"}])

    assert image_config_digest(image.path) == image.config_digest


@pytest.mark.parametrize("docker_manifest", [True, False])
def test_image_config_digest_of_oci_layout(tmp_path: Path, docker_manifest: bool) -> None:
    image = build_oci_archive(ROOTFS, tmp_path / "oci.tar", docker_manifest=docker_manifest, gzip_layers=True)

    assert image_config_digest(image.path) == image.config_digest


def test_image_config_digest_reads_a_gzipped_archive(tmp_path: Path) -> None:
    image = build_image(ROOTFS, tmp_path / "image.tar")
    gzipped = tmp_path / "image.tar.gz"
    gzipped.write_bytes(gzip.compress(image.path.read_bytes()))

    assert image_config_digest(gzipped) == image.config_digest


def test_image_config_digest_refuses_a_source_tarball(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "src.tar", [Dir("src"), File("src/app.py")])

    with pytest.raises(NotAnImageArchiveError, match="neither manifest.json nor index.json"):
        image_config_digest(archive)


def test_image_config_digest_refuses_a_config_that_does_not_match_its_name(tmp_path: Path) -> None:
    image = build_image(ROOTFS, tmp_path / "image.tar")
    config_name = image.config_digest.removeprefix("sha256:") + ".json"
    manifest = [{"Config": config_name, "RepoTags": [], "Layers": []}]
    tampered = write_tar(
        tmp_path / "tampered.tar",
        [File(config_name, b'{"os": "linux"}'), File("manifest.json", json.dumps(manifest).encode())],
    )

    with pytest.raises(NotAnImageArchiveError, match="does not match its own digest"):
        image_config_digest(tampered)


def test_image_config_digest_refuses_an_archive_of_several_images(tmp_path: Path) -> None:
    entry = {"Config": "c.json", "RepoTags": [], "Layers": []}
    archive = write_tar(
        tmp_path / "two.tar",
        [File("c.json", b"{}"), File("manifest.json", json.dumps([entry, entry]).encode())],
    )

    with pytest.raises(NotAnImageArchiveError, match="exactly one image; it describes 2"):
        image_config_digest(archive)


def test_image_config_digest_does_not_follow_names_out_of_the_archive(tmp_path: Path) -> None:
    manifest = [{"Config": "../../../etc/passwd", "RepoTags": [], "Layers": []}]
    archive = write_tar(tmp_path / "evil.tar", [File("manifest.json", json.dumps(manifest).encode())])

    with pytest.raises(NotAnImageArchiveError, match="no member '../../../etc/passwd'"):
        image_config_digest(archive)
