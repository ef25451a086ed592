"""Safe unpacking of uploaded archives, and reading an image archive's identity without unpacking it.

Uploads are hostile until proven otherwise. `unpack_tar` therefore reads every member header first and
decides on the whole archive before it writes a single byte: a refused archive leaves nothing behind,
not even half a tree. The checks are our own, written against the archive alone, so they hold on every
Python 3.11 patch release; tarfile's "data" filter is applied on top where it exists (3.11.4+), as a
second, independent line of defence at extraction time.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import lzma
import os
import re
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

_CHUNK_BYTES: Final = 1024 * 1024
# Linux gives up after 40 nested symlinks (ELOOP); a chain longer than that is refused, not followed.
_MAX_SYMLINK_HOPS: Final = 40
# manifest.json, index.json, image manifests and configs are a few KiB; anything bigger is not metadata.
_MAX_METADATA_BYTES: Final = 16 * 1024 * 1024
# An image archive holds a handful of entries per layer; more than this is not an image.
_MAX_IMAGE_MEMBERS: Final = 100_000
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")

_DIR: Final = "directory"
_FILE: Final = "file"
_SYMLINK: Final = "symlink"
_HARDLINK: Final = "hardlink"

Parts = tuple[str, ...]
# path -> (original member name, link target, position in the archive)
_Symlinks = dict[Parts, tuple[str, str, int]]


class UnsafeArchiveError(ValueError):
    """An archive was refused. `member` is the offending entry, or None when the archive as a whole is."""

    def __init__(self, member: str | None, reason: str) -> None:
        self.member = member
        self.reason = reason
        where = f"archive member {member!r}" if member is not None else "archive"
        super().__init__(f"{where}: {reason}")


class NotAnImageArchiveError(ValueError):
    """A readable tar that is not a docker-archive or an OCI layout of exactly one image."""


def sha256_file(path: Path) -> str:
    """Return "sha256:<hex>" of a file, read in 1 MiB chunks so that large uploads never sit in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def safe_join(base: Path, member: str) -> Path:
    """Join an archive-relative name to `base`, refusing absolute names and `..` that climbs out of `base`.

    Purely lexical: it does not look at the disk, so it cannot see symlinks already there. `unpack_tar`
    makes that safe by refusing archives whose own symlinks could lead out.
    """
    return base.joinpath(*_member_parts(member))


def unpack_tar(archive: Path, dest: Path, *, max_bytes: int, max_members: int = 100_000) -> list[str]:
    """Unpack a tar, tar.gz/tgz, tar.bz2 or tar.xz into `dest` after validating every member.

    `max_bytes` bounds the sum of the regular files' sizes as their headers declare them, which is what
    extraction writes. `dest` must be missing or an empty directory: the checks reason about the archive
    alone, and a symlink already sitting in `dest` would void them. Returns the normalized names that
    were unpacked, in archive order. Raises UnsafeArchiveError before anything is written when any
    member is refused.
    """
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise ValueError(f"unpack destination {dest} must be missing or an empty directory")
    with _open_tar(archive) as tar:
        plan = _validate_members(tar, max_bytes=max_bytes, max_members=max_members)
        dest.mkdir(parents=True, exist_ok=True)
        members = [member for _, member in plan]
        try:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, members=members, filter="data")
            else:  # pragma: no cover - Python 3.11.0 to 3.11.3 have no extraction filters
                tar.extractall(dest, members=members)
        except tarfile.FilterError as exc:  # pragma: no cover - our own checks refuse all of these first
            # Too late to leave nothing behind, but still the caller's one exception for a refused upload.
            raise UnsafeArchiveError(exc.tarinfo.name, f"refused at extraction: {exc}") from exc
    return [name for name, _ in plan]


def check_tar(archive: Path, *, max_bytes: int, max_members: int = 100_000) -> int:
    """Validate every member of an archive that is read in place (an image tar Trivy opens itself).

    The same rules as `unpack_tar`, without extracting; returns the number of members accepted.
    """
    with _open_tar(archive) as tar:
        return len(_validate_members(tar, max_bytes=max_bytes, max_members=max_members))


def image_config_digest(archive: Path) -> str:
    """Return the image ID ("sha256:<hex>" of the config blob) of a docker-archive or OCI layout tar.

    Reads every header but the contents of the metadata members only. A docker-style manifest.json
    wins over index.json when both are present, because that is the file Trivy reads for image tars.
    The config blob is hashed, never trusted by name, and must match the name or descriptor that
    points at it.
    """
    with _open_tar(archive) as tar:
        index = _index_members(tar)
        if "manifest.json" in index:
            return _docker_archive_config_digest(tar, index)
        if "index.json" in index:
            return _oci_layout_config_digest(tar, index)
    raise NotAnImageArchiveError(
        f"{archive.name} is not an image archive: it has neither manifest.json nor index.json at its root"
    )


# --- member validation: decided on TarInfo headers alone, never by looking at the disk ---------------


def _member_parts(name: str) -> Parts:
    """Normalize a member name to its path components, refusing what cannot stay inside the destination."""
    if "\x00" in name:
        raise UnsafeArchiveError(name, "the name contains a NUL byte")
    if name.startswith("/"):
        raise UnsafeArchiveError(name, "absolute paths are refused")
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise UnsafeArchiveError(name, "'..' climbs out of the destination")
            parts.pop()
        else:
            parts.append(part)
    return tuple(parts)


def _kind(member: tarfile.TarInfo) -> str:
    if member.isreg():
        return _FILE
    if member.isdir():
        return _DIR
    if member.issym():
        return _SYMLINK
    if member.islnk():
        return _HARDLINK
    if member.ischr():
        what = "character device"
    elif member.isblk():
        what = "block device"
    elif member.isfifo():
        what = "FIFO"
    else:
        what = f"entry of tar type {member.type!r}"
    raise UnsafeArchiveError(member.name, f"a {what} is refused: only files, directories and links unpack")


def _validate_members(
    tar: tarfile.TarFile, *, max_bytes: int, max_members: int
) -> list[tuple[str, tarfile.TarInfo]]:
    """Decide on every member, then return (normalized name, sanitized copy) pairs ready to extract."""
    kinds: dict[Parts, str] = {}
    symlinks: _Symlinks = {}
    plan: list[tuple[Parts, tarfile.TarInfo]] = []
    total_bytes = 0
    count = 0
    for member in _iter_members(tar):
        count += 1
        if count > max_members:
            raise UnsafeArchiveError(member.name, f"the archive has more than {max_members} members")
        kind = _kind(member)
        parts = _member_parts(member.name)
        if not parts:
            if kind != _DIR:
                raise UnsafeArchiveError(member.name, "the entry would replace the destination itself")
            continue  # "./" entries would only chmod the destination: nothing to unpack
        if kind == _FILE:
            total_bytes += member.size
            if total_bytes > max_bytes:
                raise UnsafeArchiveError(
                    member.name, f"the unpacked size would exceed the limit of {max_bytes} bytes"
                )
        previous = kinds.get(parts)
        if previous is not None and not (previous == _DIR and kind == _DIR):
            # A second entry at a path would write through whatever the first one left there.
            raise UnsafeArchiveError(member.name, f"the path was already declared as a {previous}")
        if kind == _SYMLINK:
            if member.linkname.startswith("/"):
                raise UnsafeArchiveError(
                    member.name, f"absolute symlink target {member.linkname!r} is refused"
                )
            if not member.linkname or "\x00" in member.linkname:
                raise UnsafeArchiveError(member.name, f"symlink target {member.linkname!r} is not a path")
            symlinks[parts] = (member.name, member.linkname, len(plan))
        elif kind == _HARDLINK:
            _check_hardlink(member, kinds)
        kinds[parts] = kind
        plan.append((parts, member))

    # Order-independent: once unpacked, a symlink anywhere in a path redirects it, whatever came first.
    for parts, member in plan:
        for depth in range(1, len(parts)):
            prefix_kind = kinds.get(parts[:depth])
            if prefix_kind not in (None, _DIR):
                prefix = "/".join(parts[:depth])
                raise UnsafeArchiveError(member.name, f"the path goes through the {prefix_kind} {prefix!r}")
    for parts, (name, target, position) in symlinks.items():
        # Once unpacked, every symlink counts. While unpacking, only the earlier ones exist, and
        # tarfile's data filter resolves against that partial tree: an archive that is safe only in
        # its final state would be refused halfway through, after writing.
        _check_symlink_stays_inside(name, parts, target, symlinks, before=len(plan))
        _check_symlink_stays_inside(name, parts, target, symlinks, before=position)

    _check_trailer(tar)
    return [("/".join(parts), _sanitized(member, parts)) for parts, member in plan]


def _check_hardlink(member: tarfile.TarInfo, kinds: Mapping[Parts, str]) -> None:
    if member.linkname.startswith("/"):
        raise UnsafeArchiveError(member.name, f"absolute hardlink target {member.linkname!r} is refused")
    try:
        target = _member_parts(member.linkname)
    except UnsafeArchiveError as exc:
        raise UnsafeArchiveError(member.name, f"hardlink target {member.linkname!r}: {exc.reason}") from exc
    # Hardlink targets must be files unpacked earlier: tarfile links to what is on disk at that moment,
    # and os.link would follow a symlink to wherever it points.
    if kinds.get(target) not in (_FILE, _HARDLINK):
        raise UnsafeArchiveError(
            member.name, f"hardlink target {member.linkname!r} is not a regular file earlier in the archive"
        )


def _check_symlink_stays_inside(
    name: str, parts: Parts, target: str, symlinks: _Symlinks, *, before: int
) -> None:
    """Resolve a symlink's target through the archive's symlinks at positions below `before`, as the kernel
    would with those on disk.

    Lexical normalization is not enough: with `x/b -> ..`, the target `b/..` of `x/c` reads as `x` but
    resolves to the destination's parent.
    """
    stack = list(parts[:-1])
    pending = target.split("/")
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                raise UnsafeArchiveError(name, f"symlink target {target!r} resolves outside the destination")
            stack.pop()
            continue
        stack.append(part)
        link = symlinks.get(tuple(stack))
        if link is None or link[2] >= before:
            continue
        hops += 1
        if hops > _MAX_SYMLINK_HOPS:
            raise UnsafeArchiveError(name, f"symlink target {target!r} loops through other symlinks")
        if link[1].startswith("/"):  # pragma: no cover - absolute targets are refused before this runs
            raise UnsafeArchiveError(name, f"symlink target {target!r} goes through an absolute symlink")
        stack.pop()
        pending = link[1].split("/") + pending


def _sanitized(member: tarfile.TarInfo, parts: Parts) -> tarfile.TarInfo:
    """A copy to extract: normalized names, ordinary permissions, owned by whoever runs the unpacking."""
    clean = copy.copy(member)
    clean.name = "/".join(parts)
    if member.islnk():
        clean.linkname = "/".join(_member_parts(member.linkname))
    if member.isdir():
        clean.mode = 0o755
    else:
        # Setuid/setgid bits and group/world write have no place in a tree that is only read by scanners.
        clean.mode = 0o755 if member.mode & 0o111 else 0o644
    # Only relevant without the data filter, which already drops ownership: as root, tarfile would
    # otherwise chown every entry to the archive's uid/gid.
    clean.uid, clean.gid = os.getuid(), os.getgid()
    clean.uname, clean.gname = "", ""
    return clean


# --- reading tar archives -----------------------------------------------------------------------------


@contextmanager
def _open_tar(archive: Path) -> Iterator[tarfile.TarFile]:
    """Open with compression autodetected, turning corrupt input into UnsafeArchiveError.

    Headers are read lazily, so corruption can surface anywhere in the body, not only at open. A
    corrupt bzip2 stream is reported by the bz2 module as an OSError without an errno; a real I/O
    error carries one and is left alone.
    """
    try:
        with tarfile.open(archive, "r:*", tarinfo=_BoundedTarInfo) as tar:
            yield tar
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as exc:
        raise UnsafeArchiveError(None, f"not a readable tar archive: {exc}") from exc
    except OSError as exc:
        if exc.errno is not None:
            raise
        raise UnsafeArchiveError(None, f"not a readable tar archive: {exc}") from exc


MAX_PAX_HEADER = 64 * 1024


class _BoundedTarInfo(tarfile.TarInfo):
    """Refuses oversized pax headers before tarfile parses them: Python before 3.11.10 parses them in
    quadratic time holding the GIL (CVE-2024-6232), which would freeze the API on one small upload."""

    def _proc_pax(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.size > MAX_PAX_HEADER:
            raise UnsafeArchiveError(self.name, f"a pax header of {self.size} bytes is refused")
        return super()._proc_pax(tarfile_)  # type: ignore[misc,no-any-return]  # private tarfile hook


def _check_trailer(tar: tarfile.TarFile) -> None:
    """Read on past the end-of-archive marker to the end of the stream.

    tarfile stops at the first block it takes for the end, so a garbled header would silently drop
    every member after it; and the gzip/bzip2/xz checksums are only verified once the stream is read to
    its end. Padding after the end is zeros; anything else means a corrupt or doctored archive.
    """
    fileobj = tar.fileobj
    if fileobj is None:
        return
    while chunk := fileobj.read(1024 * 1024):
        if chunk.strip(b"\0"):
            raise UnsafeArchiveError(None, "data after the end of the archive: it is corrupt or truncated")


def _iter_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    # tar.next() reads one header at a time, so limits can stop a hostile archive before its end.
    while (member := tar.next()) is not None:
        yield member


def _lexical(name: str) -> str | None:
    try:
        return "/".join(_member_parts(name.lstrip("/")))
    except UnsafeArchiveError:
        return None


def _index_members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    index: dict[str, tarfile.TarInfo] = {}
    for count, member in enumerate(_iter_members(tar), start=1):
        if count > _MAX_IMAGE_MEMBERS:
            raise NotAnImageArchiveError(f"more than {_MAX_IMAGE_MEMBERS} members: not an image archive")
        name = _lexical(member.name)
        if name:
            index[name] = member
    return index


def _read_member(tar: tarfile.TarFile, index: Mapping[str, tarfile.TarInfo], name: str) -> bytes:
    """Read a small member by archive path, following links only within the archive."""
    wanted = _lexical(name)
    for _ in range(_MAX_SYMLINK_HOPS):
        member = index.get(wanted) if wanted else None
        if member is None:
            raise NotAnImageArchiveError(f"the archive has no member {name!r}")
        if member.issym():
            parent = wanted.rpartition("/")[0] if wanted else ""
            wanted = _lexical(f"{parent}/{member.linkname}" if parent else member.linkname)
            continue
        if member.islnk():
            wanted = _lexical(member.linkname)
            continue
        if not member.isreg():
            raise NotAnImageArchiveError(f"archive member {name!r} is not a file")
        if member.size > _MAX_METADATA_BYTES:
            raise NotAnImageArchiveError(f"archive member {name!r} is too large to be image metadata")
        stream = tar.extractfile(member)
        if stream is None:  # pragma: no cover - extractfile returns a stream for every regular file
            raise NotAnImageArchiveError(f"archive member {name!r} cannot be read")
        with stream:
            return stream.read()
    raise NotAnImageArchiveError(f"archive member {name!r} is a symlink loop")


def _read_json(tar: tarfile.TarFile, index: Mapping[str, tarfile.TarInfo], name: str) -> Any:
    try:
        return json.loads(_read_member(tar, index, name))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotAnImageArchiveError(f"archive member {name!r} is not valid JSON: {exc}") from exc


def _docker_archive_config_digest(tar: tarfile.TarFile, index: Mapping[str, tarfile.TarInfo]) -> str:
    manifest = _read_json(tar, index, "manifest.json")
    if not isinstance(manifest, list) or len(manifest) != 1 or not isinstance(manifest[0], dict):
        count = len(manifest) if isinstance(manifest, list) else "no"
        raise NotAnImageArchiveError(f"manifest.json must describe exactly one image; it describes {count}")
    config_name = manifest[0].get("Config")
    if not isinstance(config_name, str) or not config_name:
        raise NotAnImageArchiveError("manifest.json has no Config entry")
    digest = _sha256_of(_read_member(tar, index, config_name))
    # docker save names the config after its digest ("<hex>.json", or "blobs/sha256/<hex>" since 25).
    stem = config_name.rpartition("/")[2].removesuffix(".json")
    if _SHA256_HEX.fullmatch(stem) and f"sha256:{stem}" != digest:
        raise NotAnImageArchiveError(f"config {config_name!r} does not match its own digest ({digest})")
    return digest


def _oci_layout_config_digest(tar: tarfile.TarFile, index: Mapping[str, tarfile.TarInfo]) -> str:
    document = _read_json(tar, index, "index.json")
    # An index may point at a nested index (one per platform); follow it while it names a single child.
    for _ in range(4):
        if not isinstance(document, dict):
            raise NotAnImageArchiveError("an OCI index or manifest is not a JSON object")
        if "config" in document:
            return _verified_digest(tar, index, document["config"], "config")
        manifests = document.get("manifests")
        if not isinstance(manifests, list) or len(manifests) != 1:
            count = len(manifests) if isinstance(manifests, list) else "no"
            raise NotAnImageArchiveError(f"the OCI index must name exactly one manifest; it names {count}")
        _verified_digest(tar, index, manifests[0], "manifest")
        document = _read_json(tar, index, f"blobs/sha256/{manifests[0]['digest'][7:]}")
    raise NotAnImageArchiveError("OCI indexes nest too deeply")


def _verified_digest(
    tar: tarfile.TarFile, index: Mapping[str, tarfile.TarInfo], descriptor: object, what: str
) -> str:
    """Return the descriptor's digest once the blob it names is found and hashes to it."""
    digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
    if (
        not isinstance(digest, str)
        or not digest.startswith("sha256:")
        or not _SHA256_HEX.fullmatch(digest[7:])
    ):
        raise NotAnImageArchiveError(f"the {what} descriptor has no sha256 digest: {descriptor!r}")
    if _sha256_of(_read_member(tar, index, f"blobs/sha256/{digest[7:]}")) != digest:
        raise NotAnImageArchiveError(f"the {what} blob does not match its digest {digest}")
    return digest


def _sha256_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"
