"""A scan through the gate against running Trivy and Semgrep directly, in parallel, on the same inputs.

Prints both wall times (median of runs) and the gate's overhead (target: within 10%). The gate runs
on real parts: uvicorn API, a Celery worker (3 slots) on a private Redis, PostgreSQL storage. Each
gate scan is forced (no reuse); a repeat scan answered from stored results is timed separately.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanner.adapters import semgrep, trivy  # noqa: E402
from tests.conftest import BIN, free_port, start_gate, stop_gate, wait_for  # noqa: E402
from tests.support import images  # noqa: E402

RUNS = 3
PG_ADMIN = os.environ.get("RELEASEGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def inputs(tmp: Path) -> tuple[Path, Path]:
    rootfs = images.merge_rootfs(
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl"), ("openssl", "1.1.1c-r0", "openssl")]),
        images.python_dist_info("werkzeug", "0.14.1"),
    )
    image = images.build_image(rootfs, tmp / "image.tar", tag="bench:1").path
    source = tmp / "source"
    shutil.copytree(ROOT / "scanner", source / "scanner")
    shutil.copytree(ROOT / "examples", source / "examples")
    return image, source


def direct(image: Path, source: Path, tmp: Path, cache: Path) -> float:
    """The three scanner runs the gate makes, started together, with the gate's own command lines."""
    t_opts = trivy.TrivyOptions(binary=str(BIN / "trivy"), cache_dir=cache)
    s_opts = semgrep.SemgrepOptions(
        binary=str(BIN / "semgrep"), rule_dirs=[ROOT / "policies" / "semgrep"], home=tmp / "semgrep-home"
    )
    s_opts.home.mkdir(exist_ok=True)
    commands = [
        (trivy.image_command(t_opts, archive=image), t_opts.env()),
        (trivy.fs_command(t_opts, source), t_opts.env()),
        (semgrep.scan_command(s_opts, source), s_opts.env()),
    ]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            c, env={**os.environ, **e}, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for c, e in commands
    ]
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - start
    assert codes == [0, 0, 0], codes
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        image, source = inputs(tmp)
        cache = ROOT / ".cache" / "trivy"
        if not (cache / "db" / "trivy.db").exists():
            subprocess.run([sys.executable, "-m", "tests.support.trivydb", str(cache)], cwd=ROOT, check=True)
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(
            lambda: (
                subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0
            ),
            10,
            "redis",
        )
        db = f"rg_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}"')
        gate = start_gate(
            tmp / "gate",
            database_url=f"{PG_ADMIN.rsplit('/', 1)[0]}/{db}",
            broker_url=f"redis://127.0.0.1:{port}/0",
            trivy_cache=cache,
        )
        try:
            args = [
                "scan",
                "--service",
                "bench",
                "--environment",
                "prod",
                "--image-tar",
                str(image),
                "--source",
                str(source),
                "--wait",
                "--format",
                "json",
            ]
            gate.cli(*args)  # warm-up: worker imports, Trivy's layer cache, Semgrep's rule parsing
            direct(image, source, tmp, cache)
            direct_times, gate_times = [], []
            for _ in range(RUNS):
                direct_times.append(direct(image, source, tmp, cache))
                start = time.perf_counter()
                result = gate.cli(*args, "--force")
                gate_times.append(time.perf_counter() - start)
                assert result.returncode in (0, 1), result.stderr
            start = time.perf_counter()
            repeat = gate.cli(*args)
            repeat_time = time.perf_counter() - start
            d, g = statistics.median(direct_times), statistics.median(gate_times)
            print(
                f"scan_overhead: direct parallel Trivy+Semgrep {d:.2f} s, through the gate {g:.2f} s, "
                f"overhead {100 * (g - d) / d:+.1f}% (target within 10%), median of {RUNS}"
            )
            print(
                f"scan_overhead: repeat scan of the unchanged digest answered in {repeat_time * 1000:.0f} ms "
                f"(whole CLI run, from stored results; exit {repeat.returncode})"
            )
        finally:
            stop_gate(gate)
            redis.terminate()
            from scanner.db import get_engine

            get_engine.cache_clear()
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main()
