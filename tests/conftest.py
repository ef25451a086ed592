"""Real services for the tests: PostgreSQL (a fresh database per run), a throwaway Redis, the Trivy
test database built from the shared fixtures, and a live API + Celery worker as subprocesses."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support import trivydb

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("RELEASEGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except Exception:  # noqa: BLE001 - a service that is still starting raises anything
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


@pytest.fixture(scope="session")
def trivy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = REPO / ".cache" / "trivy"
    if (built / "db" / "trivy.db").exists():
        return built
    cache = tmp_path_factory.mktemp("trivy-cache")
    trivydb.build(trivydb.DEFAULT_FIXTURES, cache)
    return cache


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server, so tests can restart or flush it without touching anyone else's."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for(lambda: socket.create_connection(("127.0.0.1", port), 0.2).close() is None, 10, "redis")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    name = f"rg_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Gate:
    url: str
    token: str
    env: dict[str, str]
    data_dir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token or self.token}"}, timeout=60
        )

    def cli(
        self, *args: str, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "releasegate"), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def token_for(self, *scopes: str) -> str:
        args = ["token", "create"]
        for s in scopes:
            args += ["--scope", s]
        result = self.cli(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def service_env(
    *, data_dir: Path, database_url: str, broker_url: str, trivy_cache: Path, url: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    env.update(
        RELEASEGATE_DATA_DIR=str(data_dir),
        RELEASEGATE_DATABASE_URL=database_url,
        RELEASEGATE_BROKER_URL=broker_url,
        RELEASEGATE_TRIVY_CACHE_DIR=str(trivy_cache),
        RELEASEGATE_POLICY_DIR=str(REPO / "policies"),
        RELEASEGATE_URL=url,
        # many tests present wrong tokens on purpose; the limit itself is tested with its default
        RELEASEGATE_AUTH_FAILURE_LIMIT="100000",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def start_gate(
    tmp: Path,
    *,
    database_url: str,
    broker_url: str,
    trivy_cache: Path,
    worker: bool = True,
    policy_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> Gate:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    extra = env or {}
    env = service_env(
        data_dir=tmp / "data",
        database_url=database_url,
        broker_url=broker_url,
        trivy_cache=trivy_cache,
        url=url,
    )
    if policy_dir is not None:
        env["RELEASEGATE_POLICY_DIR"] = str(policy_dir)
    env.update(extra)
    gate = Gate(url=url, token="", env=env, data_dir=tmp / "data")
    gate.token = gate.token_for("admin")  # also runs the migrations
    gate.env["RELEASEGATE_TOKEN"] = gate.token
    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    gate.procs["api"] = subprocess.Popen(
        [str(BIN / "releasegate"), "serve", "--port", str(port)],
        env=env,
        stdout=(logs / "api.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    if worker:
        gate.procs["worker"] = start_worker(gate, logs)
    wait_for(lambda: httpx.get(f"{url}/readyz", timeout=1).status_code == 200, 30, "the API")
    return gate


def start_worker(gate: Gate, logs: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "releasegate"), "worker", "--concurrency", "3"],
        env=gate.env,
        stdout=(logs / "worker.log").open("ab"),
        stderr=subprocess.STDOUT,
    )


def stop_gate(gate: Gate) -> None:
    for proc in gate.procs.values():
        proc.terminate()
    for proc in gate.procs.values():
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def gate(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str, redis_url: str, trivy_cache: Path
) -> Iterator[Gate]:
    """The whole service on real parts: uvicorn API, Celery worker on Redis, PostgreSQL storage."""
    tmp = tmp_path_factory.mktemp("gate")
    g = start_gate(tmp, database_url=pg_url, broker_url=redis_url, trivy_cache=trivy_cache)
    yield g
    stop_gate(g)
    if os.environ.get("RELEASEGATE_KEEP_LOGS"):
        shutil.copytree(tmp / "logs", REPO / "tests" / "artifacts" / "logs", dirs_exist_ok=True)
