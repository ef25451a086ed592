"""FastAPI dependencies as Annotated aliases: settings, a database session, scoped authentication."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from scanner import store
from scanner.config import Settings
from scanner.db import get_engine


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with Session(get_engine(settings.resolved_database_url), expire_on_commit=False) as session:
        yield session


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


def scopes_of(session: Session, raw: str) -> set[str] | None:
    scopes = store.token_scopes(session=session, raw=raw)
    if scopes is None:
        return None
    granted: set[str] = set()
    for scope in scopes:
        granted |= IMPLIED.get(scope, {scope})
    return granted


def require(scope: str) -> Callable[[Request, Session], set[str]]:
    def check(request: Request, session: SessionDep) -> set[str]:
        raw = bearer_token(request)
        if raw is None:
            raise AuthError(401, "missing bearer token")
        scopes = scopes_of(session, raw)
        if scopes is None:
            raise AuthError(401, "invalid or revoked token")
        if scope not in scopes:
            raise AuthError(403, f"token lacks scope {scope!r}")
        return scopes

    return check


ScanWrite = Annotated[set[str], Depends(require("scan:write"))]
Read = Annotated[set[str], Depends(require("read"))]
VerdictRead = Annotated[set[str], Depends(require("verdict:read"))]
