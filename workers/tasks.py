"""Thin tasks: take an id, re-fetch, skip finished work, call the pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy.exc import OperationalError

from scanner import pipeline
from scanner.config import get_settings
from scanner.db import session_scope
from scanner.queue import JUDGE_SCAN, REAP, RUN_JOB

from .app import app

log = logging.getLogger(__name__)


def _sessions() -> Callable[[], AbstractContextManager[Any]]:
    return partial(session_scope, get_settings().resolved_database_url)


# Only a lost database or broker connection is worth retrying; a scanner's own failure is already
# recorded as the job's error (the verdict becomes `error`), and retrying would not change it.
RETRYABLE = (OperationalError, KombuOperationalError)


@app.task(name=RUN_JOB, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)  # type: ignore[untyped-decorator]  # celery is untyped
def run_job(scan_id: str, job: str) -> None:
    if pipeline.run_job(get_settings(), _sessions(), scan_id, job) is not None:
        app.send_task(JUDGE_SCAN, args=[scan_id])


@app.task(name=JUDGE_SCAN, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)  # type: ignore[untyped-decorator]  # as above
def judge_scan(scan_id: str) -> None:
    pipeline.judge_scan(get_settings(), _sessions(), scan_id)


@app.task(name=REAP, acks_late=True, autoretry_for=RETRYABLE, max_retries=0)  # type: ignore[untyped-decorator]  # as above
def reap() -> None:
    jobs, judge = pipeline.reap(get_settings(), _sessions())
    for scan_id, job in jobs:
        log.warning("reaper: re-enqueueing %s of scan %s", job, scan_id)
        app.send_task(RUN_JOB, args=[scan_id, job])
    for scan_id in judge:
        log.warning("reaper: judging scan %s", scan_id)
        app.send_task(JUDGE_SCAN, args=[scan_id])
