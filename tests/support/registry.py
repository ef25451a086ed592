"""A real container registry on loopback for the tests: Debian's `docker-registry` (distribution 2.8)
with filesystem storage in a temporary folder, plain http, no auth; images are pushed with Debian's
`skopeo`.

    with LocalRegistry(tmp_path) as registry:
        digest = registry.push(image.path, "backend", "v1")       # the manifest digest
        ref = registry.ref("backend", digest)                     # 127.0.0.1:PORT/backend@sha256:...

`push_index` builds a multi-arch OCI image index (one image per platform) and pushes it with
`skopeo copy --all`. The registry's access log is kept, so a test can prove that nobody (Trivy)
fetched an image: `manifest_requests(repo)` lists the manifest GET/HEAD requests it served.

Install the two tools with `apt-get install -y docker-registry skopeo`.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import httpx

from tests.support import images

REGISTRY_BIN: Final = "/usr/bin/docker-registry"
SKOPEO_BIN: Final = "/usr/bin/skopeo"
INSTALL_HINT: Final = "apt-get install -y docker-registry skopeo"

MEDIA_TYPE_DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_TYPE_DOCKER_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_ACCEPT: Final = ", ".join(
    [
        images.MEDIA_TYPE_OCI_INDEX,
        images.MEDIA_TYPE_OCI_MANIFEST,
        MEDIA_TYPE_DOCKER_LIST,
        MEDIA_TYPE_DOCKER_MANIFEST,
    ]
)

# A combined-log-format access line: ... "GET /v2/backend/manifests/sha256:... HTTP/1.1" 200 ...
_ACCESS_RE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>/v2/\S*) HTTP/[0-9.]+" (?P<status>\d{3})')


class RegistryError(RuntimeError):
    """The registry or skopeo did not do what was asked."""


def missing_tools() -> list[str]:
    """The binaries this module needs that are not installed."""
    return [path for path in (REGISTRY_BIN, SKOPEO_BIN) if not Path(path).exists()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def descriptor(self) -> dict[str, str]:
        out = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            out["variant"] = self.variant
        return out


AMD64: Final = Platform("linux", "amd64")
ARM64: Final = Platform("linux", "arm64", "v8")


@dataclass(frozen=True)
class PlatformImage:
    platform: Platform
    manifest_digest: str  # as the registry serves it (what `repo@sha256:...` of this platform names)
    config_digest: str  # the image ID, Trivy's Metadata.ImageID


@dataclass(frozen=True)
class PushedIndex:
    digest: str  # the index's own digest, as the registry serves it
    platforms: tuple[PlatformImage, ...]

    def for_platform(self, platform: Platform) -> PlatformImage:
        for image in self.platforms:
            if image.platform == platform:
                return image
        raise KeyError(str(platform))


class LocalRegistry:
    """`docker-registry serve` on a free loopback port; a context manager (start on enter, stop on exit)."""

    def __init__(self, folder: Path | None = None, *, start_timeout: float = 15.0) -> None:
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="registry-"))
        self.start_timeout = start_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.folder / "registry.log"

    # ---------------------------------------------------------------- lifecycle

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the registry part of a reference."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def ref(self, repo: str, digest_or_tag: str) -> str:
        """`127.0.0.1:PORT/repo@sha256:...` for a digest, `127.0.0.1:PORT/repo:tag` for a tag."""
        sep = "@" if digest_or_tag.startswith("sha256:") else ":"
        return f"{self.host}/{repo}{sep}{digest_or_tag}"

    def start(self) -> LocalRegistry:
        missing = missing_tools()
        if missing:
            raise RegistryError(f"not installed: {', '.join(missing)} ({INSTALL_HINT})")
        if self._proc is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        last = ""
        for _ in range(3):  # the free port can be taken between choosing it and the bind
            self.port = _free_port()
            config = self.folder / "config.yml"
            config.write_text(self._config())
            log = self.log_path.open("ab")
            try:
                self._proc = subprocess.Popen(
                    [REGISTRY_BIN, "serve", str(config)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            finally:
                log.close()
            if self._wait_ready():
                return self
            last = self.log_path.read_text(errors="replace")[-2000:]
            self._kill()
        raise RegistryError(f"docker-registry did not come up on loopback: {last}")

    def _config(self) -> str:
        # JSON is YAML: no dependency on a YAML writer. No auth, no TLS: loopback only.
        config = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.folder / "storage")},
                "delete": {"enabled": True},
                "cache": {"blobdescriptor": "inmemory"},
            },
            "http": {"addr": self.host, "headers": {"X-Content-Type-Options": ["nosniff"]}},
        }
        return json.dumps(config, indent=2) + "\n"

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/v2/", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self._kill()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- pushing

    def _skopeo(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        # --insecure-policy: no /etc/containers/policy.json needed; http and no TLS for our loopback host.
        cmd = [SKOPEO_BIN, "--insecure-policy", *args]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RegistryError(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()}")
        return result

    def push(self, archive: Path, repo: str, tag: str) -> str:
        """Push a docker-archive (or an OCI layout tar, by its `.oci.tar` name) as repo:tag; returns the
        manifest digest the registry serves it under (skopeo gzips the layers, so it is only known now)."""
        transport = "oci-archive" if archive.name.endswith(".oci.tar") else "docker-archive"
        return self._copy(f"{transport}:{archive}", repo, tag)

    def push_layout(self, layout: Path, repo: str, tag: str, *, ref_name: str | None = None) -> str:
        """Push an OCI image layout directory (all of an index's images: `--all`); returns the top digest."""
        source = f"oci:{layout}" + (f":{ref_name}" if ref_name else "")
        return self._copy(source, repo, tag, "--all")

    def _copy(self, source: str, repo: str, tag: str, *extra: str) -> str:
        with tempfile.TemporaryDirectory(prefix="skopeo-") as scratch:
            digest_file = Path(scratch) / "digest"
            self._skopeo(
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                "--digestfile",
                str(digest_file),
                *extra,
                source,
                f"docker://{self.host}/{repo}:{tag}",
            )
            digest = digest_file.read_text().strip()
        if digest != self.manifest_digest(repo, tag):
            raise RegistryError(f"skopeo reported {digest}, the registry serves another digest")
        return digest

    def push_index(
        self,
        platforms: Mapping[Platform, images.Rootfs],
        repo: str,
        tag: str,
        *,
        work: Path | None = None,
    ) -> PushedIndex:
        """Build a multi-arch OCI index with one single-layer image per platform, push it with every
        platform image, and return the index digest and each platform's manifest and config digest."""
        with tempfile.TemporaryDirectory(prefix="oci-index-") as scratch:
            layout = (work or Path(scratch)) / f"{repo.replace('/', '_')}-{tag}"
            write_oci_index_layout(layout, platforms, ref_name=tag)
            digest = self.push_layout(layout, repo, tag, ref_name=tag)
        index = self.manifest(repo, digest)
        if index.get("mediaType") not in (images.MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_LIST):
            raise RegistryError(f"{repo}@{digest} is not an index: {index.get('mediaType')}")
        pushed = []
        for entry in index["manifests"]:
            p = entry.get("platform") or {}
            platform = Platform(p.get("os", ""), p.get("architecture", ""), p.get("variant"))
            manifest = self.manifest(repo, entry["digest"])
            pushed.append(PlatformImage(platform, entry["digest"], manifest["config"]["digest"]))
        return PushedIndex(digest, tuple(pushed))

    # ---------------------------------------------------------------- reading back

    def _get_manifest(self, repo: str, reference: str) -> httpx.Response:
        resp = httpx.get(
            f"{self.url}/v2/{repo}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}, timeout=10
        )
        if resp.status_code != 200:
            raise RegistryError(f"GET {repo} manifest {reference}: HTTP {resp.status_code} {resp.text[:300]}")
        return resp

    def manifest_digest(self, repo: str, reference: str) -> str:
        """The digest of the manifest (or index) the registry serves for a tag or digest."""
        resp = self._get_manifest(repo, reference)
        computed = "sha256:" + hashlib.sha256(resp.content).hexdigest()
        served = resp.headers.get("Docker-Content-Digest", computed)
        if served != computed:
            raise RegistryError(f"the registry says {served} but its bytes hash to {computed}")
        return computed

    def manifest(self, repo: str, reference: str) -> dict[str, Any]:
        data: dict[str, Any] = self._get_manifest(repo, reference).json()
        return data

    def config_digest(self, repo: str, reference: str) -> str:
        """The image ID of a single-platform image (its manifest's config descriptor)."""
        return str(self.manifest(repo, reference)["config"]["digest"])

    def access_log(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every registry API request served so far."""
        if not self.log_path.exists():
            return []
        return [
            (m["method"], m["path"], int(m["status"]))
            for m in _ACCESS_RE.finditer(self.log_path.read_text(errors="replace"))
        ]

    def manifest_requests(self, repo: str) -> list[tuple[str, str, int]]:
        """The manifest reads (GET/HEAD) of one repository: what any image pull or scan starts with."""
        prefix = f"/v2/{repo}/manifests/"
        return [r for r in self.access_log() if r[0] in ("GET", "HEAD") and r[1].startswith(prefix)]

    def blob_requests(self, repo: str) -> list[tuple[str, str, int]]:
        prefix = f"/v2/{repo}/blobs/"
        return [r for r in self.access_log() if r[0] in ("GET", "HEAD") and r[1].startswith(prefix)]


# ---------------------------------------------------------------- multi-arch OCI layouts


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _blob(blobs: Path, data: bytes) -> dict[str, Any]:
    hex_digest = hashlib.sha256(data).hexdigest()
    (blobs / hex_digest).write_bytes(data)
    return {"digest": f"sha256:{hex_digest}", "size": len(data)}


def _platform_config(platform: Platform, diff_id: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "architecture": platform.architecture,
        "os": platform.os,
        "created": images.FIXED_CREATED,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "WorkingDir": "/",
        },
        "history": [{"created": images.FIXED_CREATED, "created_by": f"releasegate test layer ({platform})"}],
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    if platform.variant:
        config["variant"] = platform.variant
    return config


def write_oci_index_layout(
    layout: Path, platforms: Mapping[Platform, images.Rootfs], *, ref_name: str = "latest"
) -> dict[Platform, tuple[str, str]]:
    """An OCI image layout directory whose index.json names one image index (ref `ref_name`) listing a
    single-layer image per platform, as `docker buildx` writes multi-arch images. Returns, per platform,
    the (manifest digest, config digest) in the layout; skopeo may rewrite manifests when pushing."""
    if not platforms:
        raise ValueError("an index needs at least one platform")
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    out: dict[Platform, tuple[str, str]] = {}
    entries: list[dict[str, Any]] = []
    for platform, rootfs in platforms.items():
        layer = images.layer_tar(rootfs)
        layer_desc = _blob(blobs, layer)  # uncompressed: its digest is the diff_id
        config_desc = _blob(blobs, _canonical(_platform_config(platform, layer_desc["digest"])))
        manifest = {
            "schemaVersion": 2,
            "mediaType": images.MEDIA_TYPE_OCI_MANIFEST,
            "config": {"mediaType": images.MEDIA_TYPE_OCI_CONFIG, **config_desc},
            "layers": [{"mediaType": images.MEDIA_TYPE_OCI_LAYER, **layer_desc}],
        }
        manifest_desc = _blob(blobs, _canonical(manifest))
        entries.append(
            {
                "mediaType": images.MEDIA_TYPE_OCI_MANIFEST,
                **manifest_desc,
                "platform": platform.descriptor(),
            }
        )
        out[platform] = (manifest_desc["digest"], config_desc["digest"])
    index = {"schemaVersion": 2, "mediaType": images.MEDIA_TYPE_OCI_INDEX, "manifests": entries}
    index_desc = _blob(blobs, _canonical(index))
    top = {
        "schemaVersion": 2,
        "mediaType": images.MEDIA_TYPE_OCI_INDEX,
        "manifests": [
            {
                "mediaType": images.MEDIA_TYPE_OCI_INDEX,
                **index_desc,
                "annotations": {"org.opencontainers.image.ref.name": ref_name},
            }
        ],
    }
    (layout / "index.json").write_bytes(_canonical(top))
    (layout / "oci-layout").write_bytes(_canonical({"imageLayoutVersion": "1.0.0"}))
    return out
