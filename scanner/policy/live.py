"""The live policy set: reloaded when its files change; a broken set never replaces a valid one."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from scanner.metrics import POLICY_RELOAD_FAILURES, POLICY_SET_VALID

from .loader import PolicySet, PolicySetError, load_policy_set

log = logging.getLogger(__name__)


class LivePolicies:
    def __init__(self, directory: Path, *, check_interval: float = 1.0) -> None:
        self.directory = directory
        self.check_interval = check_interval
        self._lock = threading.Lock()
        self._current: PolicySet | None = None
        self._stamp: tuple[tuple[str, float, int], ...] | None = None
        self._checked = 0.0
        self.loaded_at: datetime | None = None  # when the set now serving was loaded
        self.last_error: PolicySetError | None = None
        self.last_error_at: datetime | None = None
        self.reload_failures = 0

    def _fingerprint(self) -> tuple[tuple[str, float, int], ...]:
        paths = [*self.directory.glob("*.y*ml"), *self.directory.glob("exceptions/*.y*ml")]
        stats = []
        for p in sorted(paths):
            try:
                st = p.stat()
            except OSError:
                continue
            stats.append((str(p), st.st_mtime, st.st_size))
        return tuple(stats)

    def get(self) -> PolicySet:
        now = time.monotonic()
        if self._current is not None and now - self._checked < self.check_interval:
            return self._current
        with self._lock:
            self._checked = now
            stamp = self._fingerprint()
            if self._current is None or stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._current = load_policy_set(self.directory)
                    self.loaded_at = datetime.now(UTC)
                    self.last_error = None
                    self.last_error_at = None
                    POLICY_SET_VALID.set(1)
                except PolicySetError as exc:
                    self.last_error = exc
                    self.last_error_at = datetime.now(UTC)
                    self.reload_failures += 1
                    POLICY_RELOAD_FAILURES.inc()
                    POLICY_SET_VALID.set(0)
                    if self._current is None:
                        raise
                    log.error("policy reload rejected, keeping %s: %s", self._current.digest, exc)
            return self._current
