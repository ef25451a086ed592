"""The Celery app the `releasegate worker` command runs."""

from __future__ import annotations

from scanner.config import get_settings
from scanner.queue import make_celery

app = make_celery(get_settings())
app.conf.imports = ("workers.tasks",)
