"""Container image archives built in pure Python, so tests need neither Docker nor a registry.

Two layouts, both byte-for-byte deterministic (fixed mtimes, sorted entries, uid/gid 0, canonical JSON),
so the same input always gives the same image ID:

- `build_image`: a docker-archive as `docker save` wrote it before Docker 25 (`manifest.json`,
  `<config hex>.json`, `<layer id>/layer.tar`).
- `build_oci_archive`: an OCI image layout tar (`oci-layout`, `index.json`, `blobs/sha256/...`) that
  also carries a docker-style `manifest.json`, as `docker save` 25+ writes it: Trivy reads an OCI tar
  only through that file.

Root filesystems are given as a directory or as a mapping of relative path to content; the helpers
below produce the usual content (an Alpine package database, Python dist-info, a planted secret).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

# 2019-08-20, around Alpine 3.10.2's release: a fixed time keeps layer and config digests stable.
FIXED_EPOCH: Final = 1_566_332_395
FIXED_CREATED: Final = "2019-08-20T20:19:55Z"

# Shaped like real AWS credentials so Trivy's rules fire. Not AWS's documented example keys
# (AKIAIOSFODNN7EXAMPLE, wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY): Trivy allow-lists those.
FAKE_AWS_ACCESS_KEY_ID: Final = "AKIA2E0A8F3B244C9986"
FAKE_AWS_SECRET_ACCESS_KEY: Final = "tNPeLVk6ez6SrXTbcVl2NOmSrKJsWQ4Ts3mKCsIH"

MEDIA_TYPE_OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_OCI_CONFIG: Final = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_OCI_LAYER: Final = "application/vnd.oci.image.layer.v1.tar"
MEDIA_TYPE_OCI_LAYER_GZIP: Final = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Symlink:
    """A symlink entry in a rootfs mapping (most real images have a few, e.g. /bin/sh -> busybox)."""

    target: str


@dataclass(frozen=True)
class Executable:
    """A file entry with mode 0755 instead of the default 0644."""

    content: bytes | str


Content = bytes | str | Symlink | Executable
Rootfs = Path | Mapping[str, Content]


@dataclass(frozen=True)
class ImageInfo:
    path: Path
    config_digest: str  # the image ID, as Trivy reports it in Metadata.ImageID
    diff_ids: tuple[str, ...]  # sha256 of each uncompressed layer tar, bottom layer first
    tag: str
    manifest_digest: str | None = None  # only for OCI layouts, which address the manifest by digest


# --- rootfs content -------------------------------------------------------------------------------------


def alpine_rootfs(
    packages: Sequence[tuple[str, str, str] | tuple[str, str, str, str]],
    release: str = "3.10.2",
    *,
    arch: str = "x86_64",
) -> dict[str, Content]:
    """An Alpine base: release files and `lib/apk/db/installed` listing (name, version, origin[, license]).

    Trivy takes the OS from etc/alpine-release and matches advisories on the origin (`o:`), so a
    package whose origin differs from its name (libcrypto1.1 from openssl) is reported under both.
    """
    major_minor = ".".join(release.split(".")[:2])
    os_release = (
        'NAME="Alpine Linux"\n'
        "ID=alpine\n"
        f"VERSION_ID={release}\n"
        f'PRETTY_NAME="Alpine Linux v{major_minor}"\n'
        'HOME_URL="https://alpinelinux.org/"\n'
        'BUG_REPORT_URL="https://bugs.alpinelinux.org/"\n'
    )
    stanzas = [_apk_stanza(package, arch) for package in packages]
    return {
        "etc/alpine-release": f"{release}\n",
        "etc/os-release": os_release,
        "lib/apk/db/installed": "".join(stanzas),
    }


def _apk_stanza(package: tuple[str, ...], arch: str) -> str:
    name, version, origin = package[:3]
    license_ = package[3] if len(package) > 3 else "MIT"
    # apk's C: is "Q1" + base64(sha1(control data)); any stable value of that shape will do.
    checksum = base64.b64encode(hashlib.sha1(f"{name}-{version}".encode()).digest()).decode()
    commit = hashlib.sha1(f"{origin}-{version}".encode()).hexdigest()
    fields = [
        f"C:Q1{checksum}",
        f"P:{name}",
        f"V:{version}",
        f"A:{arch}",
        "S:1024",
        "I:4096",
        f"T:{name} (releasegate test package)",
        f"U:https://pkgs.alpinelinux.org/package/{name}",
        f"L:{license_}",
        f"o:{origin}",
        "m:Releasegate Tests <tests@example.invalid>",
        f"t:{FIXED_EPOCH}",
        f"c:{commit}",
        "F:usr/share/doc",
        f"R:{name}.txt",
    ]
    # Stanzas are separated by a blank line, and apk ends the file with one too.
    return "\n".join(fields) + "\n\n"


def python_dist_info(
    name: str,
    version: str,
    *,
    site_packages: str = "usr/lib/python3.9/site-packages",
    license_: str = "BSD-3-Clause",
) -> dict[str, Content]:
    """An installed Python distribution, as pip leaves it: Trivy reads `*.dist-info/METADATA` in images."""
    # PEP 427 escapes "-" in the directory name; the Name: field keeps the project's own spelling.
    directory = f"{site_packages}/{name.replace('-', '_')}-{version}.dist-info"
    metadata = (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {version}\n"
        f"Summary: {name} (releasegate test distribution)\n"
        f"License: {license_}\n"
        "\n"
    )
    return {f"{directory}/METADATA": metadata, f"{directory}/INSTALLER": "pip\n"}


def plant_file(path: str, content: Content) -> dict[str, Content]:
    return {path.lstrip("/"): content}


def aws_credentials_file(path: str = "app/config.py") -> dict[str, Content]:
    """A source file leaking an AWS key pair in the assignments Trivy's aws rules look for."""
    source = (
        '"""Application settings."""\n'
        "\n"
        f'AWS_ACCESS_KEY_ID = "{FAKE_AWS_ACCESS_KEY_ID}"\n'
        f'aws_secret_access_key = "{FAKE_AWS_SECRET_ACCESS_KEY}"\n'
        'REGION = "eu-west-1"\n'
    )
    return plant_file(path, source)


def merge_rootfs(*parts: Mapping[str, Content]) -> dict[str, Content]:
    """Union of rootfs mappings; two parts giving different content for one path is a test bug."""
    merged: dict[str, Content] = {}
    for part in parts:
        for path, content in part.items():
            if path in merged and merged[path] != content:
                raise ValueError(f"rootfs parts disagree on {path!r}")
            merged[path] = content
    return merged


# --- layers ---------------------------------------------------------------------------------------------


def layer_tar(rootfs: Rootfs) -> bytes:
    """An uncompressed layer tar: parent directories explicit, entries sorted, owner root, fixed mtime."""
    entries = _entries_from_dir(rootfs) if isinstance(rootfs, Path) else _entries_from_mapping(rootfs)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            info, data = entries[name]
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


_Entry = tuple[tarfile.TarInfo, bytes | None]


def _tarinfo(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = FIXED_EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _entry_for(name: str, content: Content) -> _Entry:
    if isinstance(content, Symlink):
        info = _tarinfo(name, tarfile.SYMTYPE, 0o777)
        info.linkname = content.target
        return info, None
    mode = 0o755 if isinstance(content, Executable) else 0o644
    raw = content.content if isinstance(content, Executable) else content
    data = raw.encode() if isinstance(raw, str) else raw
    info = _tarinfo(name, tarfile.REGTYPE, mode)
    info.size = len(data)
    return info, data


def _entries_from_mapping(rootfs: Mapping[str, Content]) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for raw_name, content in rootfs.items():
        name = raw_name.strip("/")
        entries[name] = _entry_for(name, content)
        parent = name.rpartition("/")[0]
        while parent and parent not in entries:
            entries[parent] = (_tarinfo(parent, tarfile.DIRTYPE, 0o755), None)
            parent = parent.rpartition("/")[0]
    return entries


def _entries_from_dir(root: Path) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            entries[name] = _entry_for(name, Symlink(os.readlink(path)))
        elif path.is_dir():
            entries[name] = (_tarinfo(name, tarfile.DIRTYPE, 0o755), None)
        else:
            content = path.read_bytes()
            entries[name] = _entry_for(name, Executable(content) if os.access(path, os.X_OK) else content)
    return entries


# --- image archives -------------------------------------------------------------------------------------


def build_image(
    rootfs: Rootfs,
    out: Path,
    *,
    tag: str = "releasegate-test:latest",
    layers: Sequence[Rootfs] | None = None,
) -> ImageInfo:
    """Write a docker-archive to `out` whose bottom layer is `rootfs` and whose upper layers are `layers`."""
    layer_blobs = [layer_tar(part) for part in [rootfs, *(layers or [])]]
    diff_ids = tuple(_digest(blob) for blob in layer_blobs)
    config = _canonical_json(_image_config(diff_ids))
    config_hex = _hex(config)

    files: list[tuple[str, bytes]] = []
    layer_paths: list[str] = []
    parent = ""
    for blob, diff_id in zip(layer_blobs, diff_ids, strict=True):
        # Like Docker's v1 layer IDs: derived from the chain below, so a layer reused on top of a
        # different base gets a different directory.
        layer_id = _hex(f"{parent} {diff_id}".encode())
        legacy_json: dict[str, Any] = {"id": layer_id, "created": FIXED_CREATED, "os": "linux"}
        if parent:
            legacy_json["parent"] = parent
        files += [
            (f"{layer_id}/VERSION", b"1.0"),
            (f"{layer_id}/json", _canonical_json(legacy_json)),
            (f"{layer_id}/layer.tar", blob),
        ]
        layer_paths.append(f"{layer_id}/layer.tar")
        parent = layer_id
    repository, tag_name = _split_tag(tag)
    files += [
        (f"{config_hex}.json", config),
        (
            "manifest.json",
            _canonical_json([{"Config": f"{config_hex}.json", "RepoTags": [tag], "Layers": layer_paths}]),
        ),
        ("repositories", _canonical_json({repository: {tag_name: parent}})),
    ]
    _write_archive(out, files)
    return ImageInfo(path=out, config_digest=f"sha256:{config_hex}", diff_ids=diff_ids, tag=tag)


def build_oci_archive(
    rootfs: Rootfs,
    out: Path,
    *,
    tag: str = "releasegate-test:latest",
    layers: Sequence[Rootfs] | None = None,
    docker_manifest: bool = True,
    gzip_layers: bool = False,
) -> ImageInfo:
    """Write an OCI image layout tar; `docker_manifest=False` leaves out the docker-style manifest.json."""
    layer_tars = [layer_tar(part) for part in [rootfs, *(layers or [])]]
    diff_ids = tuple(_digest(blob) for blob in layer_tars)
    # Registries serve gzip layers; then the blob digest differs from the diff_id of the tar inside.
    layer_blobs = [_gzip(blob) for blob in layer_tars] if gzip_layers else layer_tars
    layer_media_type = MEDIA_TYPE_OCI_LAYER_GZIP if gzip_layers else MEDIA_TYPE_OCI_LAYER
    config = _canonical_json(_image_config(diff_ids))
    manifest = _canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_OCI_MANIFEST,
            "config": _descriptor(MEDIA_TYPE_OCI_CONFIG, config),
            "layers": [_descriptor(layer_media_type, blob) for blob in layer_blobs],
        }
    )
    repository, tag_name = _split_tag(tag)
    index = _canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_OCI_INDEX,
            "manifests": [
                {
                    **_descriptor(MEDIA_TYPE_OCI_MANIFEST, manifest),
                    "annotations": {
                        "io.containerd.image.name": f"{repository}:{tag_name}",
                        "org.opencontainers.image.ref.name": tag_name,
                    },
                }
            ],
        }
    )
    blobs = {_hex(blob): blob for blob in [config, manifest, *layer_blobs]}
    files = [(f"blobs/sha256/{hex_digest}", blob) for hex_digest, blob in sorted(blobs.items())]
    files += [("oci-layout", _canonical_json({"imageLayoutVersion": "1.0.0"})), ("index.json", index)]
    if docker_manifest:
        docker_entry = {
            "Config": f"blobs/sha256/{_hex(config)}",
            "RepoTags": [tag],
            "Layers": [f"blobs/sha256/{_hex(blob)}" for blob in layer_blobs],
        }
        files.append(("manifest.json", _canonical_json([docker_entry])))
    _write_archive(out, files)
    return ImageInfo(
        path=out,
        config_digest=_digest(config),
        diff_ids=diff_ids,
        tag=tag,
        manifest_digest=_digest(manifest),
    )


def _image_config(diff_ids: Sequence[str]) -> dict[str, Any]:
    return {
        "architecture": "amd64",
        "os": "linux",
        "created": FIXED_CREATED,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "WorkingDir": "/",
        },
        "history": [
            {"created": FIXED_CREATED, "created_by": f"releasegate test layer {number}"}
            for number in range(1, len(diff_ids) + 1)
        ],
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }


def _descriptor(media_type: str, blob: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _digest(blob), "size": len(blob)}


def _split_tag(tag: str) -> tuple[str, str]:
    repository, colon, tag_name = tag.rpartition(":")
    if not colon or "/" in tag_name:  # "registry:5000/repo" has a port, not a tag
        return tag, "latest"
    return repository, tag_name


def _write_archive(out: Path, files: Sequence[tuple[str, bytes]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        directories: set[str] = set()
        for name, data in files:
            parent = name.rpartition("/")[0]
            missing: list[str] = []
            while parent and parent not in directories:
                missing.append(parent)
                parent = parent.rpartition("/")[0]
            for directory in reversed(missing):
                directories.add(directory)
                tar.addfile(_tarinfo(directory, tarfile.DIRTYPE, 0o755))
            info = _tarinfo(name, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _gzip(data: bytes) -> bytes:
    # mtime=0 and no file name in the header: otherwise the blob digest changes with every run.
    return gzip.compress(data, compresslevel=6, mtime=0)


def _hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(data: bytes) -> str:
    return f"sha256:{_hex(data)}"
