"""Hostile input against a live gate: every input gets a clear 4xx (JSON `{"error": {"code", "message"}}`)
or a clean CLI error, nothing is written outside the scan's folder, and the server stays up.

The gate is private (fresh database, its own Redis database, no worker, caps lowered to 8 MiB per
upload and 64 MiB unpacked) so that a 1 MiB gzip bomb really crosses the cap and nothing accepted by
mistake is ever handed to a scanner. The corpus is generated under pytest's tmp folder. After each
input the test checks the data folder's scans/ and staging/, a canary folder that escaping entries aim
at, /tmp, and /healthz. Figure: "hostile inputs refused N/N".
"""

from __future__ import annotations

import io
import os
import random
import select
import shutil
import socket
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from scanner import archives
from tests.conftest import Gate
from tests.support import figures, seed
from tests.support.hostile import (
    ARCHIVES,
    CANARY,
    HOSTILE_POLICIES,
    PWNED,
    HostileArchive,
    MiB,
    alive,
    build_corpus,
    escaped,
    pax_redos_tar,
    private_gate,
    redis_db,
    tree_state,
)

UPLOAD_CAP = 8 * MiB
UNPACKED_CAP = 64 * MiB
DIGEST = "sha256:" + "ab" * 32
RESULTS: dict[str, bool] = {}  # hostile input -> refused cleanly with nothing written and the server up


@pytest.fixture(scope="module", autouse=True)
def _figure() -> Iterator[None]:
    yield
    if RESULTS:
        refused = sum(RESULTS.values())
        figures.record("hostile inputs refused", f"{refused}/{len(RESULTS)}")
        failed = sorted(name for name, ok in RESULTS.items() if not ok)
        figures.record("hostile inputs not refused", ", ".join(failed) or "none")


@pytest.fixture(scope="module")
def hgate(tmp_path_factory: pytest.TempPathFactory, redis_url: str, trivy_cache: Path) -> Iterator[Gate]:
    tmp = tmp_path_factory.mktemp("hostile-gate")
    canary = tmp / CANARY
    canary.mkdir()
    (canary / "secret.txt").write_text("canary: nothing may change me\n")
    caps = {
        "RELEASEGATE_MAX_UPLOAD_BYTES": str(UPLOAD_CAP),
        "RELEASEGATE_MAX_UNPACKED_BYTES": str(UNPACKED_CAP),
    }
    with private_gate(tmp, broker_url=redis_db(redis_url, 11), trivy_cache=trivy_cache, extra_env=caps) as g:
        yield g


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, hgate: Gate) -> dict[str, HostileArchive]:
    return build_corpus(tmp_path_factory.mktemp("hostile"), canary=hgate.data_dir.parent / CANARY)


@pytest.fixture(scope="module")
def stored_scan(hgate: Gate) -> str:
    """A finished, judged scan in the private gate's database, for policy dry runs."""
    return seed.seed(hgate.env["RELEASEGATE_DATABASE_URL"], data_dir=hgate.data_dir).failing_prod


# ------------------------------------------------------------------------------------------ the harness


def json_refusal(resp: httpx.Response, statuses: range | set[int] = range(400, 500)) -> str | None:
    """None when the response is a clear refusal: a 4xx with a JSON error code and message."""
    if resp.status_code not in statuses:
        return f"HTTP {resp.status_code}: {resp.text[:300]}"
    try:
        err = resp.json()["error"]
        if not (isinstance(err["code"], str) and err["code"] and isinstance(err["message"], str)):
            return f"malformed error body: {resp.text[:300]}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {resp.status_code} without a JSON error: {resp.text[:300]}"
    return None


def attempt(gate: Gate, name: str, action: Callable[[], str | None]) -> list[str]:
    """Run one hostile input; return what went wrong (empty: refused cleanly), and record the outcome."""
    root = gate.data_dir.parent
    scans = gate.data_dir / "scans"
    before_scans, before_canary = tree_state(scans), tree_state(root / CANARY)
    problems: list[str] = []
    try:
        problem = action()
        if problem:
            problems.append(problem)
    except Exception as exc:  # noqa: BLE001 - a timeout or a dropped connection is an outcome to report
        problems.append(f"{type(exc).__name__}: {exc}")
    if tree_state(scans) != before_scans:
        new = sorted(set(tree_state(scans)) - set(before_scans))[:5]
        problems.append(f"the scans folder changed: {new}")
    staging = tree_state(gate.data_dir / "staging")
    if staging:
        problems.append(f"uploads left in staging: {sorted(staging)[:5]}")
    if tree_state(root / CANARY) != before_canary:
        problems.append("the canary folder changed")
    if leaked := escaped(root):
        problems.append(f"written outside the scan's folder: {leaked}")
        for path in leaked:  # clean up, so one escape is not blamed on every later input
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    if not alive(gate):
        problems.append("the server stopped answering /healthz")
    RESULTS[name] = not problems
    return problems


def upload(gate: Gate, field: str, data: bytes | Path, *, timeout: float = 60) -> httpx.Response:
    content = data.read_bytes() if isinstance(data, Path) else data
    with gate.client() as client:
        return client.post(
            "/api/v1/scans",
            data={"service": "hostile", "environment": "dev"},
            files={field: ("upload.tar", content, "application/octet-stream")},
            timeout=timeout,
        )


# ------------------------------------------------------------------------------------------- archives

ARCHIVE_XFAILS: dict[str, str] = {}


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=ARCHIVE_XFAILS[n]))
        if n in ARCHIVE_XFAILS
        else n
        for n in ARCHIVES
    ],
)
def test_hostile_archive_is_refused(hgate: Gate, corpus: dict[str, HostileArchive], name: str) -> None:
    item = corpus[name]
    problems = attempt(hgate, f"archive:{name}", lambda: json_refusal(upload(hgate, item.field, item.path)))
    assert not problems, f"{item.what}: {problems}"


@pytest.mark.slow
def test_an_upload_over_the_cap_is_413(hgate: Gate) -> None:
    def action() -> str | None:
        resp = upload(hgate, "image_tar", os.urandom(UPLOAD_CAP + MiB))
        return json_refusal(resp, {413}) or (
            None if resp.json()["error"]["code"] == "too_large" else resp.text
        )

    assert not attempt(hgate, "upload over the cap", action)


def _raw_request(gate: Gate, head: str) -> socket.socket:
    host, port = gate.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head.encode())
    return sock


def _read_status(sock: socket.socket, timeout: float) -> str:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


@pytest.mark.slow
def test_a_body_declared_too_large_is_refused_before_it_is_read(hgate: Gate) -> None:
    """Content-Length says 100 MiB; only 64 KiB are sent. The 413 must come without the rest."""

    def action() -> str | None:
        boundary = "hostileboundary"
        head = (
            "POST /api/v1/scans HTTP/1.1\r\n"
            f"Host: {hgate.url.removeprefix('http://')}\r\n"
            f"Authorization: Bearer {hgate.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {100 * MiB}\r\n\r\n"
        )
        with _raw_request(hgate, head) as sock:
            sock.sendall(
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="image_tar"; filename="x.tar"\r\n'
                    "Content-Type: application/x-tar\r\n\r\n"
                ).encode()
                + bytes(64 * 1024)
            )
            status = _read_status(sock, timeout=10)
        return None if " 413 " in f"{status} " else f"status line {status!r} instead of a 413"

    assert not attempt(hgate, "declared oversize body", action)


@pytest.mark.slow
def test_a_chunked_upload_past_the_cap_is_cut_off_while_streaming(hgate: Gate) -> None:
    """No Content-Length (chunked): the server must stop reading once the cap is crossed, not spool all
    of it to disk first. Sends up to 5x the cap; the 413 must arrive before 3x has been sent."""
    sent = 0

    def action() -> str | None:
        nonlocal sent
        boundary = "hostileboundary"
        head = (
            "POST /api/v1/scans HTTP/1.1\r\n"
            f"Host: {hgate.url.removeprefix('http://')}\r\n"
            f"Authorization: Bearer {hgate.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        opening = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image_tar"; filename="x.tar"\r\n'
            "Content-Type: application/x-tar\r\n\r\n"
        ).encode()
        block = bytes(256 * 1024)
        with _raw_request(hgate, head) as sock:
            answered = False
            try:
                for piece in [opening] + [block] * (5 * UPLOAD_CAP // len(block)):
                    sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                    sent += len(piece)
                    if select.select([sock], [], [], 0)[0]:
                        answered = True
                        break
                if not answered:
                    tail = f"\r\n--{boundary}--\r\n".encode()
                    sock.sendall(b"%x\r\n" % len(tail) + tail + b"\r\n0\r\n\r\n")
            except OSError:
                answered = True  # the server closed the connection on us: it answered early
            status = _read_status(sock, timeout=30)
        if " 413 " not in f"{status} ":
            return f"status line {status!r} instead of a 413"
        if sent > 3 * UPLOAD_CAP:
            return f"the 413 came only after {sent // MiB} MiB had been sent (cap {UPLOAD_CAP // MiB} MiB)"
        return None

    problems = attempt(hgate, "chunked oversize body", action)
    assert not problems, problems


@pytest.mark.slow
def test_the_gzip_bomb_is_refused_without_expanding_it(
    hgate: Gate, corpus: dict[str, HostileArchive]
) -> None:
    """A 1 MiB bomb declaring 1 GiB is refused from its header: fast, and nothing lands on disk."""
    started = time.monotonic()
    resp = upload(hgate, "source_tar", corpus["gzip-bomb"].path)
    elapsed = time.monotonic() - started
    assert json_refusal(resp) is None, resp.text
    assert elapsed < 10, f"took {elapsed:.1f}s: the bomb was expanded"
    assert corpus["gzip-bomb"].path.stat().st_size < 1.2 * MiB


def test_mutated_archives_only_ever_raise_unsafe_archive(tmp_path: Path) -> None:
    """300 random corruptions each of a tar, tar.gz and tar.xz: unpack_tar either unpacks inside its
    destination or raises UnsafeArchiveError, never anything else (which the API would turn into a 500)."""
    rng = random.Random(7)
    surprises: list[str] = []
    for mode in ("w", "w:gz", "w:xz"):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as tar:
            for i in range(12):
                data = (f"file {i} " * 100).encode() + rng.randbytes(2000)
                info = tarfile.TarInfo(f"app/d{i % 3}/f{i}.txt")
                info.size = len(data)
                info.pax_headers = {"comment": "x" * i}
                tar.addfile(info, io.BytesIO(data))
        original = buf.getvalue()
        for n in range(300):
            data = bytearray(original)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.2:
                data = data[: rng.randrange(len(data))]
            case = tmp_path / f"case-{mode[-2:]}-{n}"
            case.mkdir()
            (case / "a.tar").write_bytes(bytes(data))
            try:
                archives.unpack_tar(case / "a.tar", case / "out", max_bytes=16 * MiB)
                outside = [p for p in case.rglob("*") if p.parent == case and p.name not in ("a.tar", "out")]
                if outside:
                    surprises.append(f"{mode} #{n}: wrote {outside}")
            except archives.UnsafeArchiveError:
                pass
            except Exception as exc:  # noqa: BLE001 - exactly what this test looks for
                surprises.append(f"{mode} #{n}: {type(exc).__name__}: {exc}")
            shutil.rmtree(case)
    RESULTS["archive mutations (900)"] = not surprises
    assert not surprises, surprises[:10]


# ---------------------------------------------------------------------------------- references and names

REFUSED_REFERENCES = {
    "option-injection": "--output=/tmp/x",
    "option-injection-short": "-o/tmp/x",
    "shell-with-spaces": ";rm -rf /",
    "newline": "registry.example/app:1\n--debug",
    "10kB": "registry.example/" + "a" * 10240,
}
# No whitespace, no leading dash: only a check of the reference grammar refuses these.
GRAMMAR_REFERENCES = {
    "shell-semicolon": "registry.example/app;id",
    "command-substitution": "$(touch${IFS}/tmp/" + PWNED + ")",
    "backticks": "registry.example/app`id`",
    "path-traversal": "../../../etc/passwd",
    "file-url": "file:///etc/passwd",
}


def _submit_json(gate: Gate, body: dict[str, object]) -> httpx.Response:
    with gate.client() as client:
        return client.post("/api/v1/scans", json=body)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [*REFUSED_REFERENCES, *GRAMMAR_REFERENCES],
)
def test_a_hostile_image_reference_is_refused(hgate: Gate, name: str) -> None:
    ref = {**REFUSED_REFERENCES, **GRAMMAR_REFERENCES}[name]
    body = {"service": "hostile", "environment": "dev", "image": ref}
    problems = attempt(hgate, f"image:{name}", lambda: json_refusal(_submit_json(hgate, body), {422}))
    assert not problems, problems


HOSTILE_NAMES: dict[str, dict[str, str]] = {
    "service-dotdot": {"service": "../../etc", "environment": "dev"},
    "service-slash": {"service": "a/../../b", "environment": "dev"},
    "environment-dotdot": {"service": "hostile", "environment": "../prod"},
    "environment-nested-dotdot": {"service": "hostile", "environment": "dev/../../../etc"},
    "service-10kB": {"service": "a" * 10240, "environment": "dev"},
    "environment-10kB": {"service": "hostile", "environment": "d" * 10240},
    "service-nul": {"service": "hostile\x00x", "environment": "dev"},
    "service-homoglyph": {"service": "h\u043estile", "environment": "dev"},
    "environment-unknown": {"service": "hostile", "environment": "nowhere"},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE_NAMES))
@pytest.mark.parametrize("encoding", ["json", "multipart"])
def test_a_hostile_service_or_environment_name_is_refused(hgate: Gate, name: str, encoding: str) -> None:
    fields = HOSTILE_NAMES[name]

    def action() -> str | None:
        with hgate.client() as client:
            if encoding == "json":
                resp = client.post(
                    "/api/v1/scans", json={**fields, "image": f"registry.example/app@{DIGEST}"}
                )
            else:
                resp = client.post(
                    "/api/v1/scans",
                    data=fields,
                    files={"source_tar": ("s.tar.gz", _benign_source(), "application/gzip")},
                )
        return json_refusal(resp, {422})

    problems = attempt(hgate, f"name:{name}:{encoding}", action)
    assert not problems, problems


def _benign_source() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("app/main.py")
        info.size = 12
        tar.addfile(info, io.BytesIO(b"print('hi')\n"))
    return buf.getvalue()


HOSTILE_PATHS = {
    "scan-id-dotdot": "/api/v1/scans/..%2F..%2F..%2Fetc%2Fpasswd",
    "scan-id-dotdot-findings": "/api/v1/scans/..%2F..%2Fdata/findings",
    "scan-id-10kB": "/api/v1/scans/" + "a" * 10240,
    "last-good-dotdot": "/api/v1/services/..%2F..%2Fetc/last-good?environment=..%2Fprod",
    "verdict-scan-dotdot": "/api/v1/verdicts?environment=prod&scan=..%2F..%2Fetc",
    "sarif-dotdot": "/api/v1/scans/..%2Fstaging/report.sarif",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HOSTILE_PATHS))
def test_a_hostile_path_is_a_json_4xx(hgate: Gate, name: str) -> None:
    def action() -> str | None:
        with hgate.client() as client:
            return json_refusal(client.get(HOSTILE_PATHS[name]))

    problems = attempt(hgate, f"path:{name}", action)
    assert not problems, problems


@pytest.mark.slow
@pytest.mark.parametrize("name", ["static-dotdot", "static-encoded", "static-absolute"])
def test_a_hostile_dashboard_path_is_a_4xx(hgate: Gate, name: str) -> None:
    path = {
        "static-dotdot": "/ui/static/..%2F..%2Fconfig.py",
        "static-encoded": "/ui/static/%2e%2e%2f%2e%2e%2fapi%2fdeps.py",
        "static-absolute": "/ui/static/%2Fetc%2Fpasswd",
    }[name]

    def action() -> str | None:
        with hgate.client() as client:
            resp = client.get(path)
        if not 400 <= resp.status_code < 500 or "import" in resp.text or "root:" in resp.text:
            return f"HTTP {resp.status_code}: {resp.text[:200]}"
        return None

    problems = attempt(hgate, f"path:{name}", action)
    assert not problems, problems


# ---------------------------------------------------------------------------------------- request bodies

DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "deep-json-scan",
        "deep-json-evaluate",
        "commit-10kB",
        "commit-10kB-multipart",
        "three-files",
        "hundred-fields",
        "unknown-field",
        "json-not-an-object",
        "not-json",
    ],
)
def test_a_hostile_request_body_is_refused(hgate: Gate, name: str) -> None:
    pinned = f"registry.example/app@{DIGEST}"

    def action() -> str | None:
        with hgate.client() as client:
            post = client.post
            if name == "deep-json-scan":
                resp = post("/api/v1/scans", content=DEEP_JSON, headers={"Content-Type": "application/json"})
            elif name == "deep-json-evaluate":
                resp = post(
                    "/api/v1/policies/evaluate",
                    content=DEEP_JSON,
                    headers={"Content-Type": "application/json"},
                )
            elif name == "commit-10kB":
                body = {"service": "hostile", "environment": "dev", "image": pinned, "commit": "c" * 10240}
                resp = post("/api/v1/scans", json=body)
            elif name == "commit-10kB-multipart":
                resp = post(
                    "/api/v1/scans",
                    data={"service": "hostile", "environment": "dev", "commit": "c" * 10240},
                    files={"source_tar": ("s.tar.gz", _benign_source(), "application/gzip")},
                )
            elif name == "three-files":
                files = [
                    (f, ("x.tar", b"x", "application/x-tar")) for f in ("image_tar", "source_tar", "other")
                ]
                resp = post("/api/v1/scans", data={"service": "hostile", "environment": "dev"}, files=files)
            elif name == "hundred-fields":
                data = {f"f{i}": "x" for i in range(100)}
                resp = post(
                    "/api/v1/scans", data=data, files={"source_tar": ("s.tgz", b"x", "application/gzip")}
                )
            elif name == "unknown-field":
                resp = post(
                    "/api/v1/scans",
                    data={"service": "hostile", "environment": "dev", "exec": "id"},
                    files={"source_tar": ("s.tar.gz", _benign_source(), "application/gzip")},
                )
            elif name == "json-not-an-object":
                resp = post("/api/v1/scans", json=["service", "hostile"])
            else:
                resp = post(
                    "/api/v1/scans",
                    content=b"\xff\xfe{not json",
                    headers={"Content-Type": "application/json"},
                )
        return json_refusal(resp)

    problems = attempt(hgate, f"body:{name}", action)
    assert not problems, problems


# ---------------------------------------------------------------------------------------------- policies


def _policy_params() -> list[object]:
    return list(HOSTILE_POLICIES)


@pytest.mark.slow
@pytest.mark.parametrize("name", _policy_params())
def test_a_hostile_policy_is_refused_by_the_dry_run(hgate: Gate, stored_scan: str, name: str) -> None:
    def action() -> str | None:
        started = time.monotonic()
        with hgate.client() as client:
            resp = client.post(
                "/api/v1/policies/evaluate",
                json={"scan_id": stored_scan, "policies": {"prod.yaml": HOSTILE_POLICIES[name]}},
                timeout=30,
            )
        if time.monotonic() - started > 10:
            return f"took {time.monotonic() - started:.1f}s"
        problem = json_refusal(resp, {422})
        if problem is None and resp.json()["error"]["code"] != "invalid_policy":
            return f"code {resp.json()['error']['code']!r}"
        return problem

    problems = attempt(hgate, f"policy-api:{name}", action)
    assert not problems, problems


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["../prod.yaml", "exceptions/../../x.yaml", "/etc/cron.d/x.yaml", "a/b.yaml"]
)
def test_a_hostile_policy_file_name_is_refused(hgate: Gate, stored_scan: str, name: str) -> None:
    body = {"scan_id": stored_scan, "policies": {name: "apiVersion: releasegate/v1\nkind: Policy\nname: x\n"}}

    def action() -> str | None:
        with hgate.client() as client:
            return json_refusal(client.post("/api/v1/policies/evaluate", json=body), {422})

    problems = attempt(hgate, f"policy-name:{name}", action)
    assert not problems, problems


@pytest.mark.slow
@pytest.mark.parametrize("name", _policy_params())
def test_policy_lint_refuses_a_hostile_policy_cleanly(hgate: Gate, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "prod.yaml").write_text(HOSTILE_POLICIES[name])

    def action() -> str | None:
        result = hgate.cli("policy", "lint", str(folder), timeout=30)
        if result.returncode != 1:
            return f"exit {result.returncode}: {result.stderr[-500:]}"
        if "Traceback" in result.stdout + result.stderr:
            return f"crashed: {result.stderr[-500:]}"
        if "prod.yaml" not in result.stdout:
            return f"no file:line problem printed: {result.stdout[-300:]}"
        return None

    problems = attempt(hgate, f"policy-lint:{name}", action)
    assert not problems, problems


# ---------------------------------------------------------------------------------------------------- CLI


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "image-option-injection",
        "image-shell",
        "image-10kB",
        "service-dotdot",
        "environment-dotdot",
        "check-shell",
        "source-symlink-out",
        "image-tar-bomb",
        "image-tar-not-a-tar",
    ],
)
def test_the_cli_refuses_hostile_input_cleanly(
    hgate: Gate, corpus: dict[str, HostileArchive], tmp_path: Path, name: str
) -> None:
    """Exit 2 (usage or server refusal) with a `releasegate:` message on stderr, never a traceback; `check`
    of an unknown image exits 1 (fail closed)."""
    scan = ["scan", "--service", "hostile", "--environment", "dev"]
    source = tmp_path / "src"
    source.mkdir()
    (source / "main.py").write_text("print('hi')\n")
    (source / "passwd").symlink_to("/etc/passwd")
    args = {
        "image-option-injection": [*scan, "--image=--output=/tmp/" + PWNED],
        "image-shell": [*scan, "--image", ";rm -rf /"],
        "image-10kB": [*scan, "--image", "registry.example/" + "a" * 10240],
        "service-dotdot": [
            "scan",
            "--service",
            "../../etc",
            "--environment",
            "dev",
            "--image",
            "a@" + DIGEST,
        ],
        "environment-dotdot": [
            "scan",
            "--service",
            "hostile",
            "--environment",
            "../prod",
            "--image",
            "a@" + DIGEST,
        ],
        "check-shell": ["check", "--image", ";rm -rf /@" + DIGEST, "--environment", "prod", "--retries", "1"],
        "source-symlink-out": [*scan, "--source", str(source)],
        "image-tar-bomb": [*scan, "--image-tar", str(corpus["gzip-bomb-image"].path)],
        "image-tar-not-a-tar": [*scan, "--image-tar", str(corpus["not-a-tar-image"].path)],
    }[name]

    def action() -> str | None:
        result = hgate.cli(*args, timeout=60)
        if "Traceback" in result.stdout + result.stderr:
            return f"crashed: {result.stderr[-500:]}"
        if name == "check-shell":
            # Only the digest after '@' is looked up: an unknown image fails closed with exit 1.
            ok = result.returncode == 1 and result.stdout.startswith("UNKNOWN")
            return None if ok else f"exit {result.returncode}: {result.stdout[-300:]} {result.stderr[-300:]}"
        if result.returncode != 2:
            return f"exit {result.returncode}: {result.stdout[-300:]} {result.stderr[-300:]}"
        if not result.stderr.startswith("releasegate: "):
            return f"unclean error: {result.stderr[-500:]}"
        return None

    problems = attempt(hgate, f"cli:{name}", action)
    assert not problems, problems


# ------------------------------------------------------------ last: this one freezes a vulnerable server


@pytest.mark.slow
def test_a_pax_header_redos_is_refused_quickly(hgate: Gate) -> None:
    """A 100,000-digit pax header (gzip: a few hundred bytes) costs ~10 s of frozen API here, and the cost
    grows with the square of its length; fixed Pythons refuse it in milliseconds."""
    payload = pax_redos_tar(100_000)
    frozen_for = 0.0

    def action() -> str | None:
        nonlocal frozen_for
        try:
            resp = upload(hgate, "source_tar", payload, timeout=2)
        except httpx.TimeoutException:
            started = time.monotonic()
            while not alive(hgate, timeout=1) and time.monotonic() - started < 120:
                pass
            frozen_for = time.monotonic() - started
            return f"no answer within 2 s; /healthz came back {frozen_for:.0f}s later"
        return json_refusal(resp)

    problems = attempt(hgate, "pax-header-redos", action)
    assert len(payload) < 2048
    assert not problems, problems


def test_the_corpus_is_generated_not_committed() -> None:
    repo = Path(__file__).resolve().parent
    assert not (repo / "hostile").exists(), "tests/hostile/ must not be committed: build_corpus writes to tmp"
