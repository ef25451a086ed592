"""Reference parsing and index platforms (pure)."""

from __future__ import annotations

import pytest

from scanner.adapters.registry import parse_reference, platforms_of

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (f"127.0.0.1:5000/backend@{D}", ("127.0.0.1:5000", "backend", D)),
        (f"registry.example/team/api@{D}", ("registry.example", "team/api", D)),
        ("registry.example/team/api:1.2", ("registry.example", "team/api", "1.2")),
        ("localhost/app", ("localhost", "app", "latest")),
        ("alpine:3.19", ("registry-1.docker.io", "library/alpine", "3.19")),
        (f"bitnami/redis@{D}", ("registry-1.docker.io", "bitnami/redis", D)),
        ("127.0.0.1:5000/a/b:tag", ("127.0.0.1:5000", "a/b", "tag")),
    ],
)
def test_references_name_registry_repository_and_reference(ref: str, expected: tuple[str, str, str]) -> None:
    parsed = parse_reference(ref)
    assert (parsed.registry, parsed.repository, parsed.reference) == expected


def test_index_platforms_skip_attestations_and_keep_variants() -> None:
    index = {
        "manifests": [
            {"digest": "sha256:1", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:2", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {
                "digest": "sha256:3",
                "platform": {"os": "unknown", "architecture": "unknown"},
                "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
            },
        ]
    }
    assert [(p.platform, p.digest) for p in platforms_of(index)] == [
        ("linux/amd64", "sha256:1"),
        ("linux/arm64/v8", "sha256:2"),
    ]
