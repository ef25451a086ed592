"""Run a scanner as a subprocess: an argument list, never a shell; a timeout; bounded output."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
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
    memory_mb: int = 0,
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
            preexec_fn=_memory_cap(memory_mb) if memory_mb > 0 else None,
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


def _memory_cap(memory_mb: int) -> Callable[[], None]:
    # An address-space limit, set in the child before exec: a scanner that runs away on a hostile
    # input fails (and the verdict becomes `error`) instead of taking the worker's memory.
    limit = memory_mb * 1024 * 1024

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
