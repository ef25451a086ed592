"""Run a scanner as a subprocess: an argument list, never a shell; a timeout; bounded output."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class ScannerError(RuntimeError):
    """A scanner could not run or did not finish properly: the scan's verdict becomes `error`."""


@dataclass(frozen=True, slots=True)
class ProcessResult:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float

    def stderr_tail(self, limit: int = 2000) -> str:
        return self.stderr[-limit:].decode("utf-8", "replace")


def run(
    args: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ProcessResult:
    full_env = {**os.environ, **(env or {})}
    started = time.monotonic()
    try:
        # A new session so that a timeout kills the scanner's whole process group (Semgrep
        # forks its OCaml core; killing only the Python wrapper would leave it running).
        proc = subprocess.Popen(
            list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        raise ScannerError(f"cannot start {args[0]}: {exc}") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise ScannerError(f"{Path(args[0]).name} timed out after {timeout:.0f}s") from None
    except BaseException:
        _kill_group(proc)
        raise
    return ProcessResult(tuple(args), proc.returncode, stdout, stderr, time.monotonic() - started)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
