"""The verdict endpoint against a bare FastAPI endpoint, both served by uvicorn the same way.

Prints requests per second for each and their ratio (target: the verdict endpoint at least half as
fast as the bare one). Storage is a seeded SQLite file; set RELEASEGATE_BENCH_DATABASE_URL for another.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanner import store  # noqa: E402
from scanner.db import migrate, session_scope  # noqa: E402
from scanner.models import Scan, utcnow  # noqa: E402

REQUESTS = 3000
THREADS = 8

BARE_APP = textwrap.dedent(
    """
    from fastapi import FastAPI
    app = FastAPI()

    @app.get("/bare")
    def bare() -> dict[str, str]:
        return {"decision": "pass"}
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(url: str) -> tuple[str, str]:
    migrate(url)
    digest = "sha256:" + uuid.uuid4().hex * 2
    with session_scope(url) as session:
        token = store.create_token(session=session, scopes=["verdict:read"], name="bench")
        scan = Scan(id=uuid.uuid4().hex, service="backend", environment="prod", request_key="k",
                    policy_digest="d", image_digest=digest, status="done")  # fmt: skip
        store.create_scan(session=session, scan=scan, jobs=[])
        store.save_verdict(session=session, scan=scan, evaluated_at=utcnow(),
                           document={"decision": "pass", "policy_digest": "d", "reasons": []})  # fmt: skip
    return token, digest


def serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def load(url: str, headers: dict[str, str], params: dict[str, str]) -> float:
    per_thread = REQUESTS // THREADS
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(headers=headers, timeout=10) as client:
            for _ in range(per_thread):
                r = client.get(url, params=params)
                if r.status_code != 200:
                    errors.append(r.text)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[0])
    return per_thread * THREADS / elapsed


def wrk(url: str, headers: dict[str, str], params: dict[str, str]) -> float:
    """Requests per second measured by wrk (a C load generator), when it is installed."""
    full = str(httpx.URL(url, params=params))
    args = ["wrk", "-t2", "-c16", "-d5s", full]
    for key, value in headers.items():
        args[1:1] = ["-H", f"{key}: {value}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("Requests/sec:"))
    if "Non-2xx" in out:
        raise RuntimeError(out)
    return float(line.split()[1])


PG_ADMIN = os.environ.get("RELEASEGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def main() -> None:
    run_one("sqlite", None)
    import psycopg

    name = f"rg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        run_one("postgresql", f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_one(label: str, url: str | None) -> None:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        db_url = url or f"sqlite:///{tmp}/bench.db"
        token, digest = seed(db_url)
        (Path(tmp) / "bare_app.py").write_text(BARE_APP)
        env = {**os.environ, "RELEASEGATE_DATABASE_URL": db_url, "RELEASEGATE_DATA_DIR": tmp,
               "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}"}  # fmt: skip
        uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
        p1, p2 = free_port(), free_port()
        gate = serve([*uvicorn, "--factory", "scanner.api.app:create_app", "--port", str(p1)], env, p1)
        bare = serve([*uvicorn, "bare_app:app", "--port", str(p2)], {**env, "PWD": tmp}, p2)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            params = {"image": f"registry/backend@{digest}", "environment": "prod"}
            verdict_url = f"http://127.0.0.1:{p1}/api/v1/verdicts"
            assert httpx.get(verdict_url, params=params, headers=headers).json()["decision"] == "pass"
            measure = wrk if shutil.which("wrk") else load
            runs_v, runs_b = [], []
            for _ in range(3):
                runs_b.append(measure(f"http://127.0.0.1:{p2}/bare", {}, {}))
                runs_v.append(measure(verdict_url, headers, params))
            v, b = statistics.median(runs_v), statistics.median(runs_b)
            print(
                f"verdict_endpoint[{label}]: bare FastAPI {b:,.0f} req/s, verdict {v:,.0f} req/s, "
                f"ratio {v / b:.2f} (target >= 0.50); 3 runs each, load from {measure.__name__}"
            )
        finally:
            gate.terminate()
            bare.terminate()
            gate.wait(10)
            bare.wait(10)


if __name__ == "__main__":
    main()
