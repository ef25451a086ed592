"""The Celery application's configuration, shared by the API (which only sends) and the workers."""

from __future__ import annotations

from celery import Celery

from scanner.config import Settings

RUN_JOB = "releasegate.run_job"
JUDGE_SCAN = "releasegate.judge_scan"
REAP = "releasegate.reap"


def make_celery(settings: Settings) -> Celery:
    app = Celery("releasegate", broker=settings.resolved_broker_url)
    time_limit = settings.scanner_timeout_seconds + 120
    conf: dict[str, object] = {
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": time_limit,
        "task_soft_time_limit": time_limit - 30,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        # Redis redelivers an unacknowledged task after the visibility timeout: it must exceed
        # the longest task or a slow scan would run twice.
        "broker_transport_options": {"visibility_timeout": time_limit * 2},
    }
    if settings.resolved_broker_url.startswith("filesystem://"):
        folder = settings.broker_folder
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        conf["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # Without this Kombu keeps its exchange table in ./control of whatever the cwd is.
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    conf["beat_schedule"] = {
        # expires: reap tasks stuck behind a backlog are dropped, not run back to back
        "reap": {
            "task": REAP,
            "schedule": settings.reaper_interval_seconds,
            "options": {"expires": settings.reaper_interval_seconds},
        },
    }
    conf["beat_schedule_filename"] = str((settings.data_dir / "celerybeat-schedule").resolve())
    app.conf.update(conf)
    return app
