"""The Celery app the `releasegate worker` command runs."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init

from scanner.config import get_settings
from scanner.db import get_engine
from scanner.queue import make_celery

app = make_celery(get_settings())
app.conf.imports = ("workers.tasks",)


@worker_process_init.connect  # type: ignore[untyped-decorator]  # celery ships no type hints
def _fresh_connections(**_: Any) -> None:
    # Prefork children inherit the parent's pooled connections (opened by the migrations); sharing
    # a socket between processes corrupts it, so each child drops them and opens its own.
    get_engine(get_settings().resolved_database_url).dispose(close=False)
