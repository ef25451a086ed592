"""Database engine and sessions: SQLite by default, PostgreSQL when the URL says so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


def normalize_url(url: str) -> str:
    # psycopg 3 is the driver we install; plain postgresql:// would ask SQLAlchemy for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pool as large as the thread pool's concurrency: a connection opened beyond the pool is
        # closed again after one request, and opening one (with its PRAGMAs) costs more than the query.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=40, max_overflow=20
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping (a round trip per checkout, which doubles the verdict look-up): a connection that
    # died with the server fails once, SQLAlchemy then invalidates the pool, and callers retry
    # (Celery tasks retry OperationalError; the hook's `check` retries its request).
    # connect_timeout bounds how long a look-up can wait for an unreachable server.
    return create_engine(
        url, pool_size=20, max_overflow=20, pool_recycle=1800, connect_args={"connect_timeout": 5}
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # API and worker are separate processes writing one file: WAL lets readers go on while a
    # worker writes findings, and the busy timeout waits for a lock instead of failing.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    here = Path(__file__).parent / "migrations"
    cfg = Config()
    cfg.set_main_option("script_location", str(here))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    cfg.attributes["engine"] = get_engine(url)
    command.upgrade(cfg, "head")
