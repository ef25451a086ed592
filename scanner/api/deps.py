"""FastAPI dependencies as Annotated aliases: settings, a database session, scoped authentication."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlmodel import Session

from scanner import store
from scanner.config import Settings
from scanner.db import get_engine


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers: {"error": {"code", "message"}}."""

    error: ErrorDetail


_ERRORS = {
    400: "bad request (e.g. an unsafe archive)",
    401: "missing, invalid or revoked token",
    403: "the token lacks the scope",
    404: "not found",
    413: "too large",
    422: "invalid request",
    429: "too many failed authentications",
    503: "the database is unavailable",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in _ERRORS.items()
}


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


# Dependencies are async where they do no blocking I/O: FastAPI runs every sync dependency in the
# thread pool, and those hops cost more than the verdict look-up itself.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(settings: SettingsDep) -> AsyncIterator[Session]:
    # A Session opens no connection until its first query, which runs in the thread pool.
    session = Session(get_engine(settings.resolved_database_url), expire_on_commit=False)
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]

# `read` covers verdicts too; `admin` covers everything.
IMPLIED = {"admin": {"scan:write", "verdict:read", "read", "admin"}, "read": {"read", "verdict:read"}}


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get("releasegate_session")
    return cookie or None


# Valid tokens are remembered briefly so the hook's hot path skips a query; a revoked token stops
# working within TOKEN_CACHE_SECONDS. Invalid tokens are never cached.
TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[float, frozenset[str]]] = {}


def cached_scopes(raw: str) -> set[str] | None:
    hit = _token_cache.get(store.hash_token(raw))
    if hit is not None and hit[0] > time.monotonic():
        return set(hit[1])
    return None


def scopes_of(session: Session, raw: str) -> set[str] | None:
    key = store.hash_token(raw)
    now = time.monotonic()
    hit = _token_cache.get(key)
    if hit is not None and hit[0] > now:
        return set(hit[1])
    scopes = store.token_scopes(session=session, raw=raw)
    if scopes is None:
        _token_cache.pop(key, None)
        return None
    granted: set[str] = set()
    for scope in scopes:
        granted |= IMPLIED.get(scope, {scope})
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[key] = (now + TOKEN_CACHE_SECONDS, frozenset(granted))
    return granted


# Failed authentication is rate limited per client address: guessing tokens costs a minute per
# `auth_failure_limit` attempts. Valid tokens already in the cache are not slowed down.
FAILED_AUTH_WINDOW = 60.0
_failures: dict[str, deque[float]] = defaultdict(deque)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def auth_blocked(request: Request) -> bool:
    window = _failures.get(_client(request))
    if not window:
        return False
    cutoff = time.monotonic() - FAILED_AUTH_WINDOW
    while window and window[0] < cutoff:
        window.popleft()
    settings: Settings = request.app.state.settings
    return len(window) >= settings.auth_failure_limit


def note_auth_failure(request: Request) -> None:
    if len(_failures) > 10_000:
        _failures.clear()
    _failures[_client(request)].append(time.monotonic())


def checked_scopes(request: Request, session: Session, raw: str) -> set[str] | None:
    """scopes_of with the failed-authentication limit (sync callers: the dashboard's login and pages)."""
    scopes = cached_scopes(raw)
    if scopes is not None:
        return scopes
    if auth_blocked(request):
        raise AuthError(429, "too many failed authentication attempts; retry in a minute")
    scopes = scopes_of(session, raw)
    if scopes is None:
        note_auth_failure(request)
    return scopes


async def authorize(request: Request, scope: str, session: Session | None = None) -> set[str]:
    """The caller's scopes, or AuthError (401 no/invalid token, 403 lacking `scope`, 429 too many
    failed attempts)."""
    raw = bearer_token(request)
    if raw is None:
        raise AuthError(401, "missing bearer token")
    scopes = cached_scopes(raw)
    if scopes is None:
        if auth_blocked(request):
            raise AuthError(429, "too many failed authentication attempts; retry in a minute")
        scopes = await run_in_threadpool(_lookup_scopes, request, session, raw)
    if scopes is None:
        note_auth_failure(request)
        raise AuthError(401, "invalid or revoked token")
    if scope not in scopes:
        raise AuthError(403, f"token lacks scope {scope!r}")
    return scopes


def _lookup_scopes(request: Request, session: Session | None, raw: str) -> set[str] | None:
    if session is not None:
        return scopes_of(session, raw)
    settings: Settings = request.app.state.settings
    with Session(get_engine(settings.resolved_database_url)) as own:
        return scopes_of(own, raw)


def require(scope: str) -> Callable[[Request, Session], Awaitable[set[str]]]:
    async def check(request: Request, session: SessionDep) -> set[str]:
        return await authorize(request, scope, session)

    return check


ScanWrite = Annotated[set[str], Depends(require("scan:write"))]
Read = Annotated[set[str], Depends(require("read"))]
VerdictRead = Annotated[set[str], Depends(require("verdict:read"))]
