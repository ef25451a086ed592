"""Registry manifests: is a reference a multi-arch index, and which platform images does it hold?

Trivy scans one platform of an index (the host's); a gate that judged an index by that one image
would let the others through unseen. So an index is resolved here, and each platform image is
scanned by its own digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from ._process import ScannerError

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
ACCEPT = ", ".join(
    [
        *sorted(INDEX_TYPES),
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


@dataclass(frozen=True, slots=True)
class Reference:
    registry: str
    repository: str
    reference: str  # a digest or a tag

    def with_digest(self, digest: str) -> str:
        return f"{self.registry}/{self.repository}@{digest}"


@dataclass(frozen=True, slots=True)
class PlatformImage:
    platform: str
    digest: str


def parse_reference(ref: str) -> Reference:
    name, digest = (ref.split("@", 1) + [""])[:2]
    tag = ""
    if not digest:
        last = name.rsplit("/", 1)[-1]
        if ":" in last:
            name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    # Docker's rule: the first part names a registry when it has a dot or a port, or is localhost.
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = "registry-1.docker.io", name if rest else f"library/{name}"
    return Reference(registry, repository, digest or tag or "latest")


def platforms_of(index: dict[str, Any]) -> list[PlatformImage]:
    """The runnable images of an index, without attestation manifests (platform unknown/unknown)."""
    out = []
    for entry in index.get("manifests") or []:
        platform = entry.get("platform") or {}
        os_name, arch = platform.get("os", "unknown"), platform.get("architecture", "unknown")
        annotations = entry.get("annotations") or {}
        if os_name == "unknown" or arch == "unknown" or "vnd.docker.reference.type" in annotations:
            continue
        variant = platform.get("variant")
        label = f"{os_name}/{arch}" + (f"/{variant}" if variant else "")
        out.append(PlatformImage(label, str(entry["digest"])))
    return out


_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def fetch_manifest(
    ref: Reference, *, username: str = "", password: str = "", insecure: bool = False, timeout: float = 30
) -> tuple[str, dict[str, Any]]:
    """The manifest's media type and body. https first; plain http only for loopback or `insecure`."""
    schemes = ["https"]
    host = ref.registry.split(":")[0]
    if insecure or host in ("127.0.0.1", "localhost", "::1"):
        schemes.append("http")
    last: Exception | None = None
    for scheme in schemes:
        url = f"{scheme}://{ref.registry}/v2/{ref.repository}/manifests/{ref.reference}"
        try:
            with httpx.Client(timeout=timeout, verify=not insecure, follow_redirects=True) as client:
                resp = client.get(url, headers={"Accept": ACCEPT})
                if resp.status_code == 401:
                    resp = _authenticated(client, resp, url, username, password)
                if resp.status_code != 200:
                    raise ScannerError(
                        f"registry answered {resp.status_code} for {ref.repository}:{ref.reference}"
                    )
                media_type = resp.headers.get("content-type", "").split(";")[0].strip()
                body: dict[str, Any] = resp.json()
                return body.get("mediaType") or media_type, body
        except httpx.HTTPError as exc:
            last = exc
    raise ScannerError(f"cannot reach registry {ref.registry}: {last}")


def _authenticated(
    client: httpx.Client, challenge: httpx.Response, url: str, username: str, password: str
) -> httpx.Response:
    header = challenge.headers.get("www-authenticate", "")
    basic = (username, password) if username else None
    if header.lower().startswith("basic"):
        return client.get(url, headers={"Accept": ACCEPT}, auth=basic) if basic else challenge
    params = dict(_CHALLENGE.findall(header))
    realm = params.pop("realm", "")
    if not realm:
        return challenge
    token_resp = client.get(realm, params=params, auth=basic) if basic else client.get(realm, params=params)
    if token_resp.status_code != 200:
        return challenge
    token = token_resp.json().get("token") or token_resp.json().get("access_token")
    return client.get(url, headers={"Accept": ACCEPT, "Authorization": f"Bearer {token}"})


def resolve(
    ref: str, *, username: str = "", password: str = "", insecure: bool = False
) -> tuple[Reference, list[PlatformImage]]:
    """The platform images behind a reference: several for an index, none for a plain image."""
    parsed = parse_reference(ref)
    media_type, body = fetch_manifest(parsed, username=username, password=password, insecure=insecure)
    if media_type in INDEX_TYPES or (body.get("manifests") and not body.get("layers")):
        images = platforms_of(body)
        if not images:
            raise ScannerError(f"{ref} is an index with no runnable platform image")
        return parsed, images
    return parsed, []
