"""One Settings class, read from RELEASEGATE_* environment variables (and a .env file)."""

from __future__ import annotations

import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    # The scanners are installed into the project's virtualenv by `make`; prefer that copy over
    # whatever else is on PATH so tests and `make run` use the pinned versions.
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name) or name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELEASEGATE_", env_file=".env", extra="ignore")

    # clients (CLI, hook)
    url: str = "http://127.0.0.1:8000"
    token: str = ""

    # server
    data_dir: Path = Path(".data")
    database_url: str = ""
    broker_url: str = ""
    policy_dir: Path = PROJECT_ROOT / "policies"
    semgrep_rules: str = Field(default="", description="extra Semgrep rule folders, os.pathsep separated")
    trivy_cache_dir: Path | None = None
    trivy_db_repository: str = ""
    trivy_skip_db_update: bool = True
    # A vulnerability database older than this (by its UpdatedAt) makes verdicts `error` unless the
    # environment's policy sets allow_stale_db; 0 turns the check off (the offline test database).
    trivy_db_max_age_hours: float = 0
    trivy_bin: str = Field(default_factory=lambda: _tool("trivy"))
    semgrep_bin: str = Field(default_factory=lambda: _tool("semgrep"))
    registry_username: str = ""
    registry_password: str = ""
    registry_insecure: bool = False
    # `source: {git_url: "file://..."}` reads repositories on the gate's own disk: tests and demos only
    git_allow_local: bool = False

    scanner_timeout_seconds: int = 900
    # address-space cap per scanner process (Semgrep needs about 3 GiB of address space to start)
    scanner_memory_mb: int = 6144
    max_upload_bytes: int = 2 * 1024**3
    max_unpacked_bytes: int = 4 * 1024**3
    worker_concurrency: int = 4
    # The reaper re-enqueues work that a dead worker or a lost broker queue left behind.
    # failed authentications per client address per minute before it gets 429
    auth_failure_limit: int = 20
    reaper_interval_seconds: float = 30.0
    reaper_queued_after_seconds: float = 120.0
    # a job still `running` this long after its scanner's time limit belongs to a dead worker
    reaper_running_grace_seconds: float = 120.0

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'releasegate.db').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        # With no broker configured, use Kombu's filesystem transport: it needs no server,
        # which is what `make run` on a fresh machine wants.
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return (self.data_dir / "broker").resolve()

    @property
    def resolved_trivy_cache_dir(self) -> Path:
        return (self.trivy_cache_dir or self.data_dir / "trivy-cache").resolve()

    @property
    def scans_dir(self) -> Path:
        return (self.data_dir / "scans").resolve()

    @property
    def builtin_semgrep_rules(self) -> Path:
        return self.policy_dir / "semgrep"

    @property
    def semgrep_rule_dirs(self) -> list[Path]:
        extra = [Path(p) for p in self.semgrep_rules.split(os.pathsep) if p]
        return [p.resolve() for p in (self.builtin_semgrep_rules, *extra)]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
