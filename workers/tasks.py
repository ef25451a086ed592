"""Thin tasks: take an id, re-fetch, skip finished work, call the pipeline."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

from scanner import pipeline
from scanner.config import get_settings
from scanner.db import session_scope
from scanner.queue import JUDGE_SCAN, RUN_JOB

from .app import app


def _sessions() -> Callable[[], AbstractContextManager[Any]]:
    return partial(session_scope, get_settings().resolved_database_url)


@app.task(name=RUN_JOB, acks_late=True)  # type: ignore[untyped-decorator]  # celery is untyped
def run_job(job_id: int) -> None:
    scan_id = pipeline.run_job(get_settings(), _sessions(), job_id)
    if scan_id is not None:
        app.send_task(JUDGE_SCAN, args=[scan_id])


@app.task(name=JUDGE_SCAN, acks_late=True)  # type: ignore[untyped-decorator]  # as above
def judge_scan(scan_id: str) -> None:
    pipeline.judge_scan(get_settings(), _sessions(), scan_id)
