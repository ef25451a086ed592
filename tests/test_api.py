"""The HTTP API on the live gate: uploads refused safely, JSON errors, scopes, reuse, fail-closed."""

from __future__ import annotations

import io
import json
import os
import tarfile
import uuid
from pathlib import Path

import pytest

from tests.conftest import Gate, start_gate, stop_gate
from tests.support import images

pytestmark = pytest.mark.slow


def hostile_tar(*members: tarfile.TarInfo, data: bytes = b"pwned\n") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        ok = tarfile.TarInfo("app/ok.py")
        ok.size = 3
        tar.addfile(ok, io.BytesIO(b"x=1"))
        for m in members:
            if m.isfile():
                m.size = len(data)
                tar.addfile(m, io.BytesIO(data))
            else:
                tar.addfile(m)
    return buf.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


HOSTILE = {
    "dotdot": hostile_tar(entry("../../evil")),
    "absolute": hostile_tar(entry("/tmp/releasegate-evil")),
    "link-out": hostile_tar(entry("passwd", tarfile.SYMTYPE, "/etc/passwd")),
    "link-up": hostile_tar(entry("up", tarfile.SYMTYPE, "../../.."), entry("up/evil")),
    "device": hostile_tar(entry("dev/null", tarfile.CHRTYPE)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_source_archive_is_refused_and_writes_nothing(gate: Gate, name: str) -> None:
    scans = gate.data_dir / "scans"
    scans.mkdir(parents=True, exist_ok=True)
    before = snapshot(scans)
    with gate.client() as client:
        resp = client.post(
            "/api/v1/scans",
            data={"service": "backend", "environment": "dev"},
            files={"source_tar": ("src.tar.gz", HOSTILE[name], "application/gzip")},
        )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == "unsafe_archive"
    assert snapshot(scans) == before  # not even the benign member was unpacked
    assert snapshot(gate.data_dir / "staging") == set()  # the upload itself is gone
    assert not any("evil" in p for p in snapshot(gate.data_dir.parent.parent))
    assert not Path("/tmp/releasegate-evil").exists()


def test_hostile_image_archive_is_refused(gate: Gate) -> None:
    with gate.client() as client:
        resp = client.post(
            "/scan",
            data={"service": "backend", "environment": "dev"},
            files={"image_tar": ("img.tar", HOSTILE["dotdot"], "application/x-tar")},
        )
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "unsafe_archive"


def test_an_archive_that_is_not_an_image_is_a_clear_400(gate: Gate) -> None:
    with gate.client() as client:
        resp = client.post(
            "/scan",
            data={"service": "backend", "environment": "dev"},
            files={"image_tar": ("img.tar", hostile_tar(), "application/x-tar")},
        )
    assert resp.status_code == 400
    assert "image" in resp.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"service": "Bad Name", "environment": "prod", "image": "x@sha256:" + "0" * 64}, 422),
        ({"service": "backend", "environment": "nowhere", "image": "x@sha256:" + "0" * 64}, 422),
        ({"service": "backend", "environment": "prod"}, 422),
        ({"service": "backend", "environment": "prod", "image": "--help"}, 422),
        ({"service": "backend", "environment": "prod", "unknown": 1}, 422),
    ],
)
def test_bad_requests_get_json_errors(gate: Gate, body: dict[str, object], status: int) -> None:
    with gate.client() as client:
        resp = client.post("/api/v1/scans", json=body)
    assert resp.status_code == status
    assert set(resp.json()["error"]) == {"code", "message"}


def test_tokens_and_scopes(gate: Gate) -> None:
    writer = gate.token_for("scan:write")
    reader = gate.token_for("verdict:read")
    with gate.client(token="rg_not-a-token") as client:
        assert (
            client.get(
                "/api/v1/verdicts", params={"image": "sha256:" + "1" * 64, "environment": "prod"}
            ).status_code
            == 401
        )
    with gate.client(token=writer) as client:
        resp = client.get("/api/v1/verdicts", params={"image": "sha256:" + "1" * 64, "environment": "prod"})
        assert resp.status_code == 403
        assert resp.json()["error"]["code"] == "forbidden"
    with gate.client(token=reader) as client:
        resp = client.get("/api/v1/verdicts", params={"image": "sha256:" + "1" * 64, "environment": "prod"})
        assert resp.status_code == 200
        assert resp.json()["decision"] == "unknown"
        assert client.post("/api/v1/scans", json={}).status_code == 403
    import psycopg

    with psycopg.connect(gate.env["RELEASEGATE_DATABASE_URL"]) as conn:
        stored = " ".join(r[0] for r in conn.execute("SELECT token_hash FROM api_tokens"))
    assert writer not in stored and reader not in stored and gate.token not in stored


def test_identical_request_is_answered_from_the_stored_scan(gate: Gate, tmp_path: Path) -> None:
    rootfs = images.alpine_rootfs([("musl", "1.1.22-r3", "musl")])
    image = images.build_image(rootfs, tmp_path / "img.tar", tag="reuse:1")
    first = gate.cli(
        "scan",
        "--service",
        "reuse",
        "--environment",
        "dev",
        "--image-tar",
        str(image.path),
        "--wait",
        "--format",
        "json",
    )
    assert first.returncode == 0, first.stderr
    with gate.client() as client:
        with image.path.open("rb") as fh:
            resp = client.post(
                "/scan",
                data={"service": "reuse", "environment": "dev"},
                files={"image_tar": ("img.tar", fh, "application/x-tar")},
            )
    assert resp.status_code == 200, resp.text
    assert resp.json()["reused"] is True
    assert resp.json()["scan_id"] == json.loads(first.stdout)["scan_id"]


def test_a_crashing_scanner_makes_the_verdict_error_and_the_cli_exit_1(
    tmp_path: Path, trivy_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A real fault: Trivy's database is corrupt. The gate runs on its embedded defaults here
    (SQLite, filesystem broker), the configuration `make run` uses."""
    broken = tmp_path / "trivy-broken"
    (broken / "db").mkdir(parents=True)
    (broken / "db" / "metadata.json").write_bytes((trivy_cache / "db" / "metadata.json").read_bytes())
    (broken / "db" / "trivy.db").write_bytes(os.urandom(8192))
    root = tmp_path_factory.mktemp("embedded")
    gate = start_gate(root, database_url="", broker_url="", trivy_cache=broken)
    try:
        image = images.build_image(images.alpine_rootfs([("musl", "1.1.22-r3", "musl")]), tmp_path / "i.tar")
        result = gate.cli(
            "scan",
            "--service",
            "backend",
            "--environment",
            "dev",
            "--image-tar",
            str(image.path),
            "--wait",
            "--timeout",
            "120",
            "--format",
            "json",
        )
        assert result.returncode == 1, result.stdout + result.stderr
        verdict = json.loads(result.stdout)
        assert verdict["decision"] == "error"
        assert "trivy" in verdict["detail"]
        check = gate.cli("check", "--image", image.config_digest, "--environment", "dev")
        assert check.returncode == 1
        assert check.stdout.startswith("ERROR")
    finally:
        stop_gate(gate)


def test_check_fails_closed_when_the_gate_is_unreachable(gate: Gate) -> None:
    result = gate.cli(
        "check",
        "--image",
        "sha256:" + "2" * 64,
        "--environment",
        "prod",
        "--retries",
        "2",
        env={"RELEASEGATE_URL": "http://127.0.0.1:9"},
    )
    assert result.returncode == 2
    assert "failing closed" in result.stderr


def test_failed_authentication_is_rate_limited(
    tmp_path_factory: pytest.TempPathFactory, trivy_cache: Path
) -> None:
    root = tmp_path_factory.mktemp("ratelimit")
    gate = start_gate(
        root,
        database_url="",
        broker_url="",
        trivy_cache=trivy_cache,
        worker=False,
        env={"RELEASEGATE_AUTH_FAILURE_LIMIT": "20"},
    )
    try:
        params = {"image": "sha256:" + "4" * 64, "environment": "prod"}
        valid = gate.token_for("verdict:read")
        with gate.client(token=valid) as client:
            assert client.get("/api/v1/verdicts", params=params).status_code == 200  # cached from now on
        codes = []
        with gate.client(token="rg_guess") as client:
            for _ in range(25):
                codes.append(client.get("/api/v1/verdicts", params=params).status_code)
        assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
        with gate.client(token=valid) as client:  # a token already known is not locked out
            assert client.get("/api/v1/verdicts", params=params).status_code == 200
        fresh = gate.token_for("verdict:read")
        with gate.client(token=fresh) as client:  # but nothing new is tried from that address for a while
            assert client.get("/api/v1/verdicts", params=params).status_code == 429
    finally:
        stop_gate(gate)


def test_the_audit_trail_lists_scans_verdicts_and_tokens(gate: Gate, tmp_path: Path) -> None:
    image = images.build_image(
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl")]), tmp_path / "a.tar", tag="audit:1"
    )
    gate.token_for("read")
    result = gate.cli(
        "scan",
        "--service",
        "audited",
        "--environment",
        "dev",
        "--image-tar",
        str(image.path),
        "--wait",
        "--format",
        "json",
    )
    scan_id = json.loads(result.stdout)["scan_id"]
    events = json.loads(gate.cli("audit", "--limit", "500", "--format", "json").stdout)
    actions = {(e["action"], e["subject"]) for e in events}
    assert ("scan", scan_id) in actions and ("verdict", scan_id) in actions
    assert any(e["action"] == "token-create" and e["detail"]["scopes"] == ["read"] for e in events)
    assert all(gate.token not in json.dumps(e) for e in events)


def test_last_good_prefers_the_digest_a_registry_serves(gate: Gate, tmp_path: Path) -> None:
    service = f"rollback-{uuid.uuid4().hex[:8]}"
    image = images.build_image(
        images.merge_rootfs(
            images.alpine_rootfs([("musl", "1.1.22-r3", "musl")]), images.plant_file("app/id", service)
        ),
        tmp_path / "img.tar",
    )
    scan = gate.cli(
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
    assert scan.returncode == 0, scan.stderr
    scan_id = json.loads(scan.stdout)["scan_id"]
    before = gate.cli("last-good", "--service", service, "--environment", "prod")
    assert before.stdout.strip() == image.config_digest and "no registry digest" in before.stderr
    pushed = "sha256:" + uuid.uuid4().hex * 2
    assert gate.cli("bind", "--scan", scan_id, "--digest", pushed).returncode == 0
    after = gate.cli("last-good", "--service", service, "--environment", "prod")
    assert after.stdout.strip() == pushed and after.stderr == ""
