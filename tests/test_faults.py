"""Faults on real processes: a worker SIGKILLed while Trivy runs, Redis restarted with scans queued,
PostgreSQL stopped under load, scanners that hang, crash or print garbage. Each test starts its own
gate (API + Celery worker as subprocesses) on its own Redis and database, and records a figure in
tests/artifacts/figures.txt."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis

from tests.conftest import BIN, PG_ADMIN_URL, Gate, free_port, start_gate, stop_gate, wait_for
from tests.support import figures, images

pytestmark = pytest.mark.slow

REAL_TRIVY = BIN / "trivy"
SERVICE = "faults"
FINISHED = ("done", "error")


# ---------------------------------------------------------------- throwaway services


class PrivateRedis:
    """A redis-server without persistence on a fixed port, so it can be killed and replaced."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self.client().ping(), 10, "redis")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)


@contextmanager
def private_redis(folder: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A database of its own on the shared server: no other gate's reaper sees these scans."""
    name = f"rg_fault_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_version() -> str:
    versions = sorted((p.name for p in Path("/etc/postgresql").iterdir() if p.name.isdigit()), key=int)
    assert versions, "no PostgreSQL cluster version under /etc/postgresql"
    return versions[-1]


class Cluster:
    """A throwaway PostgreSQL cluster (pg_createcluster), so the test may stop the server itself."""

    def __init__(self) -> None:
        self.version = _pg_version()
        self.name = f"rgfault{uuid.uuid4().hex[:8]}"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        result = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{' '.join(args)}: {result.stdout}{result.stderr}"

    def create(self) -> None:
        self._run("pg_createcluster", self.version, self.name, "-p", str(self.port), "--", "--auth=trust")

    def start(self) -> None:
        self._run("pg_ctlcluster", self.version, self.name, "start")
        wait_for(lambda: psycopg.connect(self.url, connect_timeout=1).close() is None, 30, "PostgreSQL")

    def stop(self) -> None:
        self._run("pg_ctlcluster", self.version, self.name, "stop", "-m", "fast")

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name], capture_output=True, timeout=120
        )


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        cluster.drop()


# ---------------------------------------------------------------- processes


def beat_worker(gate: Gate, logs: Path) -> subprocess.Popen[bytes]:
    """`releasegate worker --concurrency 3 --beat` in a session of its own (its own process group)."""
    logs.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [str(BIN / "releasegate"), "worker", "--concurrency", "3", "--beat"],
        env=gate.env,
        stdout=(logs / "worker.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # the command name may hold spaces and parentheses: the fields start after the last ")"
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped by init counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and alive(int(entry.name)):
            members.append(int(entry.name))
    return members


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def hard_kill(proc: subprocess.Popen[bytes]) -> dict[int, str]:
    """SIGKILL the worker's process group and everything it started (the scanners run in sessions of
    their own), as a crashed node or an OOM-killed container would. Returns the killed pids and their
    command lines."""
    victims = {pid: cmdline(pid) for pid in descendants(proc.pid)}
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)
    return {proc.pid: "worker", **victims}


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        for pid in descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])
    except OSError:
        return f"({path} missing)"


# ---------------------------------------------------------------- scanners


def slow_trivy(folder: Path, delay: float) -> tuple[Path, Path]:
    """The real Trivy after a pause, so a fault lands while the scanner runs; logs every scan run."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = folder / "runs.log"
    script = folder / "trivy"
    script.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" --version "*) exec {REAL_TRIVY} "$@";; esac\n'
        f"echo $$ >> {runs}\n"
        f"sleep {delay}\n"
        f'exec {REAL_TRIVY} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script, runs


def faulty_trivy(folder: Path) -> tuple[Path, Path]:
    """A Trivy that answers `--version` truthfully and misbehaves for scans as the mode file says."""
    folder.mkdir(parents=True, exist_ok=True)
    mode = folder / "mode"
    script = folder / "trivy"
    script.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" --version "*) exec {REAL_TRIVY} "$@";; esac\n'
        f'case "$(cat {mode})" in\n'
        f"  hang) echo $$ > {folder}/hang.pid; sleep 600 & echo $! > {folder}/sleep.pid; wait; exit 0;;\n"
        '  exit3) echo "fake-trivy: FATAL simulated scanner crash" >&2; exit 3;;\n'
        '  badjson) echo \'{"SchemaVersion": 2, "Results": [ truncated\'; exit 0;;\n'
        f'  *) exec {REAL_TRIVY} "$@";;\n'
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script, mode


# ---------------------------------------------------------------- images and scans


def vulnerable_image(folder: Path, marker: str) -> images.ImageInfo:
    """A small Alpine image with werkzeug 0.14.1 (CVE-2019-14806); the marker makes its digest unique."""
    rootfs = images.merge_rootfs(
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl")]),
        images.python_dist_info("werkzeug", "0.14.1"),
        images.plant_file("etc/releasegate-fault-marker", f"{marker}\n"),
    )
    return images.build_image(rootfs, folder / f"{marker}.tar", tag=f"faults:{marker}")


def submit(gate: Gate, image: images.ImageInfo) -> str:
    result = gate.cli("scan", "--service", SERVICE, "--environment", "dev", "--image-tar", str(image.path))
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.match(r"scan ([0-9a-f]{32}) (\w+)", result.stdout)
    assert found and found.group(2) == "queued" and "reused" not in result.stdout, result.stdout
    return found.group(1)


def submit_all(gate: Gate, imgs: list[images.ImageInfo]) -> list[str]:
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda image: submit(gate, image), imgs))


def summaries(client: httpx.Client, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The scans' current state; one that cannot be read right now (a database outage) is left out."""
    seen: dict[str, dict[str, Any]] = {}
    for scan_id in ids:
        try:
            resp = client.get(f"/api/v1/scans/{scan_id}")
        except httpx.HTTPError:
            continue
        if resp.status_code == 200:
            seen[scan_id] = resp.json()
    return seen


def completed(body: dict[str, Any]) -> bool:
    return body["status"] in FINISHED and body.get("verdict") is not None


def wait_until_finished(gate: Gate, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Poll until every scan has a verdict or the time is up; returns the last state of each."""
    last: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    with gate.client() as client:
        while True:
            pending = [i for i in ids if i not in last or not completed(last[i])]
            last.update(summaries(client, pending))
            if all(i in last and completed(last[i]) for i in ids) or time.monotonic() > deadline:
                return last
            time.sleep(0.5)


def wait_for_running(
    gate: Gate, ids: list[str], timeout: float, *, since: float = 0.0
) -> list[tuple[str, str]]:
    """Poll until some job of these scans is `running` (started after `since`, a Unix time)."""
    deadline = time.monotonic() + timeout
    with gate.client() as client:
        while time.monotonic() < deadline:
            running = [
                (scan_id, job["name"])
                for scan_id, body in summaries(client, ids).items()
                for job in body["jobs"]
                if job["status"] == "running" and _unix(job["started_at"]) >= since
            ]
            if running:
                return running
            time.sleep(0.1)
    raise TimeoutError(f"no job was running within {timeout}s")


def _unix(iso: str | None) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else 0.0


def findings(client: httpx.Client, scan_id: str) -> list[dict[str, Any]]:
    resp = client.get(f"/api/v1/scans/{scan_id}/findings", params={"limit": 1000})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["next"] is None
    return list(body["findings"])


def finding_keys(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """What each finding is, independent of the scan that found it (a fingerprint is stable across scans
    of the same content); duplicates stay in the list."""
    return sorted(
        (
            r["fingerprint"],
            r["scanner"],
            r["kind"],
            r["rule_id"],
            r["package"] or "",
            r["installed_version"] or "",
            r["severity"],
        )
        for r in rows
    )


def assert_same_findings(client: httpx.Client, body: dict[str, Any], expected: list[tuple[str, ...]]) -> None:
    rows = findings(client, body["scan_id"])
    fingerprints = [r["fingerprint"] for r in rows]
    assert len(fingerprints) == len(set(fingerprints)), f"duplicate findings in {body['scan_id']}"
    assert finding_keys(rows) == expected, body["scan_id"]
    assert sum(j["findings"] or 0 for j in body["jobs"]) == len(rows), body["jobs"]


def fault_env(**extra: str) -> dict[str, str]:
    return {f"RELEASEGATE_{k.upper()}": v for k, v in extra.items()}


@contextmanager
def running_gate(tmp: Path, **kwargs: Any) -> Iterator[Gate]:
    gate = start_gate(tmp, **kwargs)
    try:
        yield gate
    finally:
        stop_gate(gate)


def _cleanup(stack: ExitStack, proc: subprocess.Popen[bytes]) -> Callable[[], None]:
    def stop() -> None:
        stop_worker(proc)

    stack.callback(stop)
    return stop


# ---------------------------------------------------------------- 1. worker SIGKILL mid-Trivy

WORKER_KILL_SCANS = 20
WORKER_KILLS = 2


@pytest.mark.timeout(240)
def test_scans_survive_worker_sigkill_mid_trivy(tmp_path: Path, trivy_cache: Path) -> None:
    trivy, runs = slow_trivy(tmp_path / "bin", delay=3)
    env = fault_env(
        scanner_timeout_seconds="20",
        reaper_interval_seconds="2",
        reaper_queued_after_seconds="15",
        reaper_running_grace_seconds="5",
        trivy_bin=str(trivy),
    )
    logs = tmp_path / "logs"
    with ExitStack() as stack:
        broker = stack.enter_context(private_redis(tmp_path / "redis"))
        database = stack.enter_context(fresh_database())
        gate = stack.enter_context(
            running_gate(
                tmp_path,
                database_url=database,
                broker_url=broker.url,
                trivy_cache=trivy_cache,
                worker=False,
                env=env,
            )
        )
        worker = beat_worker(gate, logs)
        stop = _cleanup(stack, worker)

        # the undisturbed run: what every scan must find
        baseline_image = vulnerable_image(tmp_path / "images", "baseline")
        baseline = gate.cli(
            "scan",
            "--service",
            SERVICE,
            "--environment",
            "dev",
            "--image-tar",
            str(baseline_image.path),
            "--wait",
            "--timeout",
            "60",
            "--format",
            "json",
        )
        assert baseline.returncode in (0, 1), baseline.stdout + baseline.stderr + tail(logs / "worker.log")
        baseline_id = json.loads(baseline.stdout)["scan_id"]
        with gate.client() as client:
            expected = finding_keys(findings(client, baseline_id))
        assert any(k[3] == "CVE-2019-14806" and k[4] == "werkzeug" for k in expected), expected

        imgs = [vulnerable_image(tmp_path / "images", f"kill-{n:02d}") for n in range(WORKER_KILL_SCANS)]
        ids = submit_all(gate, imgs)
        assert len(set(ids)) == WORKER_KILL_SCANS

        killed_jobs: list[tuple[str, str]] = []
        killed_scans: set[str] = set()  # scans whose scanner process died in a kill
        since = 0.0
        for _ in range(WORKER_KILLS):
            running = wait_for_running(gate, ids, 60, since=since)
            killed = hard_kill(worker)
            killed_jobs += running
            hit = {
                m for line in killed.values() for m in re.findall(r"/scans/([0-9a-f]{32})/image\.tar", line)
            }
            assert hit, f"no scanner was running under the killed worker: {killed}"
            killed_scans |= hit
            time.sleep(0.5)
            assert not [pid for pid in killed if alive(pid)], "a killed process survived"
            since = time.time()
            worker = beat_worker(gate, logs)
            stop = _cleanup(stack, worker)

        last = wait_until_finished(gate, ids, 150)
        done = [i for i in ids if i in last and last[i]["status"] == "done" and last[i]["verdict"]]
        figures.record("completed scans under worker kills", f"{len(done)}/{WORKER_KILL_SCANS}")
        log_tail = tail(logs / "worker.log")
        assert len(done) == WORKER_KILL_SCANS, (
            {i: (b["status"], [(j["name"], j["status"]) for j in b["jobs"]]) for i, b in last.items()},
            log_tail,
        )
        with gate.client() as client:
            for scan_id in ids:
                assert_same_findings(client, last[scan_id], expected)
                verdicts = client.get("/api/v1/verdicts", params={"scan": scan_id, "environment": "dev"})
                assert verdicts.status_code == 200 and verdicts.json()["decision"] in ("pass", "warn", "fail")
        # a job whose scanner died with its worker came back through the reaper (its message is held
        # unacknowledged by the dead worker until Redis's visibility timeout, far beyond this test)
        log = (logs / "worker.log").read_text("utf-8", "replace")
        for scan_id in killed_scans:
            assert f"re-enqueueing trivy-image of scan {scan_id}" in log, (scan_id, log_tail)
        scanner_runs = len(runs.read_text().splitlines())
        print(
            f"\n{WORKER_KILLS} kills, {len(killed_jobs)} jobs running, {len(killed_scans)} scanners killed, "
            f"{scanner_runs} scanner runs for {WORKER_KILL_SCANS + 1} scans, "
            f"{log.count('reaper: re-enqueueing')} re-enqueued by the reaper"
        )
        stop()


# ---------------------------------------------------------------- 2. Redis restart with scans queued

REDIS_SCANS = 10


@pytest.mark.timeout(180)
def test_scans_queued_in_a_lost_redis_complete_via_the_reaper(tmp_path: Path, trivy_cache: Path) -> None:
    env = fault_env(
        reaper_interval_seconds="1",
        reaper_queued_after_seconds="5",
        reaper_running_grace_seconds="5",
    )
    logs = tmp_path / "logs"
    with ExitStack() as stack:
        broker = stack.enter_context(private_redis(tmp_path / "redis"))
        database = stack.enter_context(fresh_database())
        gate = stack.enter_context(
            running_gate(
                tmp_path,
                database_url=database,
                broker_url=broker.url,
                trivy_cache=trivy_cache,
                worker=False,
                env=env,
            )
        )
        imgs = [vulnerable_image(tmp_path / "images", f"redis-{n:02d}") for n in range(REDIS_SCANS + 1)]
        ids = submit_all(gate, imgs[:REDIS_SCANS])
        assert broker.client().llen("celery") == REDIS_SCANS  # nobody consumes: all are queued

        broker.kill()
        # a scan sent while the broker is down is still accepted: it is stored, the reaper enqueues it
        started = time.monotonic()
        during = submit(gate, imgs[REDIS_SCANS])
        accept_seconds = time.monotonic() - started
        broker.start()
        assert broker.client().dbsize() == 0  # the queue is gone

        worker = beat_worker(gate, logs)
        stop = _cleanup(stack, worker)
        last = wait_until_finished(gate, [*ids, during], 120)
        done = [i for i in ids if i in last and last[i]["status"] == "done"]
        figures.record("completed scans under Redis restart", f"{len(done)}/{REDIS_SCANS}")
        log_tail = tail(logs / "worker.log")
        assert len(done) == REDIS_SCANS, log_tail
        assert last[during]["status"] == "done", log_tail
        assert accept_seconds < 30, f"accepting a scan with the broker down took {accept_seconds:.1f}s"
        print(f"\naccepted a scan with Redis down in {accept_seconds:.1f}s")
        with gate.client() as client:
            expected = finding_keys(findings(client, ids[0]))
            assert any(k[3] == "CVE-2019-14806" for k in expected)
            for scan_id in [*ids, during]:
                assert_same_findings(client, last[scan_id], expected)
        assert "reaper: re-enqueueing" in (logs / "worker.log").read_text("utf-8", "replace")
        stop()


# ---------------------------------------------------------------- 3. PostgreSQL outage


def assert_unavailable(resp: httpx.Response) -> None:
    assert resp.status_code == 503, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    assert resp.json()["error"]["code"] == "unavailable", resp.text


@pytest.mark.timeout(240)
def test_postgres_outage_answers_503_and_loses_nothing(tmp_path: Path, trivy_cache: Path) -> None:
    trivy, _ = slow_trivy(tmp_path / "bin", delay=3)
    env = fault_env(
        scanner_timeout_seconds="20",
        reaper_interval_seconds="2",
        reaper_queued_after_seconds="15",
        reaper_running_grace_seconds="5",
        trivy_bin=str(trivy),
    )
    logs = tmp_path / "logs"
    with ExitStack() as stack:
        cluster = stack.enter_context(throwaway_cluster())
        broker = stack.enter_context(private_redis(tmp_path / "redis"))
        gate = stack.enter_context(
            running_gate(
                tmp_path,
                database_url=cluster.url,
                broker_url=broker.url,
                trivy_cache=trivy_cache,
                worker=False,
                env=env,
            )
        )
        worker = beat_worker(gate, logs)
        stop = _cleanup(stack, worker)
        imgs = [vulnerable_image(tmp_path / "images", f"pg-{n}") for n in range(4)]

        before = submit_all(gate, imgs[:3])
        wait_for_running(gate, before, 60)  # the outage hits work in flight
        cluster.stop()
        try:
            with gate.client() as client:
                assert_unavailable(client.get(f"/api/v1/scans/{before[0]}"))
                assert_unavailable(
                    client.post(
                        "/api/v1/scans",
                        json={
                            "service": SERVICE,
                            "environment": "dev",
                            "image": f"registry.example/faults@{imgs[3].config_digest}",
                        },
                    )
                )
                assert_unavailable(
                    client.get(
                        "/api/v1/verdicts", params={"image": imgs[0].config_digest, "environment": "dev"}
                    )
                )
                ready = client.get("/readyz")
                assert ready.status_code == 503, ready.text
                assert ready.json()["checks"]["database"].startswith("error"), ready.text
            check = gate.cli(
                "check", "--image", imgs[0].config_digest, "--environment", "dev", "--retries", "2"
            )
            assert check.returncode == 2, check.stdout + check.stderr
            assert "failing closed" in check.stderr and "503" in check.stderr, check.stderr
            assert gate.procs["api"].poll() is None  # the API is still up
            time.sleep(3)  # let the scanners in flight finish into the outage
        finally:
            cluster.start()

        wait_for(lambda: httpx.get(f"{gate.url}/readyz", timeout=2).status_code == 200, 30, "readiness")
        last = wait_until_finished(gate, before, 120)
        after = gate.cli(
            "scan",
            "--service",
            SERVICE,
            "--environment",
            "dev",
            "--image-tar",
            str(imgs[3].path),
            "--wait",
            "--timeout",
            "90",
            "--format",
            "json",
        )
        assert after.returncode in (0, 1), after.stdout + after.stderr
        after_id = json.loads(after.stdout)["scan_id"]
        last.update(wait_until_finished(gate, [after_id], 10))
        ids = [*before, after_id]
        done = [i for i in ids if i in last and last[i]["status"] == "done" and last[i]["verdict"]]
        figures.record("completed scans under PostgreSQL outage", f"{len(done)}/{len(ids)}")
        assert len(done) == len(ids), (
            {
                i: (b["status"], b["error"], [(j["name"], j["status"]) for j in b["jobs"]])
                for i, b in last.items()
            },
            tail(logs / "worker.log"),
        )
        with gate.client() as client:
            expected = finding_keys(findings(client, after_id))
            assert any(k[3] == "CVE-2019-14806" for k in expected)
            for scan_id in before:
                assert_same_findings(client, last[scan_id], expected)
        assert json.loads(after.stdout)["decision"] == last[before[0]]["verdict"]["decision"]
        log = (logs / "worker.log").read_text("utf-8", "replace")
        retries, reaped = log.count("Retry in"), log.count("reaper: re-enqueueing")
        print(f"\nworker: {retries} task retries, {reaped} jobs re-enqueued by the reaper")
        stop()


# ---------------------------------------------------------------- 4. scanner faults

SCANNER_FAULTS = {
    "hang": "trivy timed out after 5s",
    "exit3": "trivy exited 3",
    "badjson": "trivy printed no JSON report",
}


@pytest.mark.timeout(180)
def test_faulty_scanners_make_the_verdict_error(tmp_path: Path, trivy_cache: Path) -> None:
    trivy, mode = faulty_trivy(tmp_path / "bin")
    mode.write_text("real\n")
    env = fault_env(scanner_timeout_seconds="5", trivy_bin=str(trivy))
    with ExitStack() as stack:
        broker = stack.enter_context(private_redis(tmp_path / "redis"))
        database = stack.enter_context(fresh_database())
        gate = stack.enter_context(
            running_gate(
                tmp_path, database_url=database, broker_url=broker.url, trivy_cache=trivy_cache, env=env
            )
        )
        errors = 0
        for fault, cause in SCANNER_FAULTS.items():
            mode.write_text(f"{fault}\n")
            image = vulnerable_image(tmp_path / "images", f"scanner-{fault}")
            started = time.monotonic()
            result = gate.cli(
                "scan",
                "--service",
                SERVICE,
                "--environment",
                "dev",
                "--image-tar",
                str(image.path),
                "--wait",
                "--timeout",
                "60",
                timeout=90,
            )
            seconds = time.monotonic() - started
            output = result.stdout + result.stderr
            assert result.returncode == 1, (fault, output, tail(tmp_path / "logs" / "worker.log"))
            assert result.stdout.startswith("ERROR"), (fault, output)
            assert cause in result.stdout, (fault, output)
            if fault == "exit3":
                assert "FATAL simulated scanner crash" in result.stdout, output  # the scanner's own words
            check = gate.cli("check", "--image", image.config_digest, "--environment", "dev")
            assert check.returncode == 1, (fault, check.stdout + check.stderr)
            assert check.stdout.startswith("ERROR"), (fault, check.stdout)
            if fault == "hang":
                assert 5 <= seconds < 60, seconds
                scanner_pid = int((tmp_path / "bin" / "hang.pid").read_text())
                sleep_pid = int((tmp_path / "bin" / "sleep.pid").read_text())
                pids = (scanner_pid, sleep_pid)
                wait_for(lambda pids=pids: not any(map(alive, pids)), 5, "the hung scanner's end")
                assert group_members(scanner_pid) == []  # nothing of its process group is left
            errors += 1
        figures.record("scanner faults judged error", f"{errors}/{len(SCANNER_FAULTS)}")
