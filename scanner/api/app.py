"""create_app: routes, error handlers (JSON everywhere), shared state."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanner import archives, intake, store
from scanner.api.deps import AuthError
from scanner.api.routes import dashboard, health, policies, scans, verdicts
from scanner.config import Settings, get_settings
from scanner.policy.loader import PolicyNotFoundError, PolicySetError
from scanner.queue import make_celery

log = logging.getLogger(__name__)


def error(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class BodyLimit:
    """Counts request body bytes as they arrive: an upload past the cap is refused (413) while it is
    being sent, whether or not it declared a Content-Length (chunked uploads do not)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise intake.TooLargeError(f"request body exceeds {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="releasegate", version="0.1.0", description="The security gate of a GitOps pipeline.")
    app.state.settings = settings
    # two uploads of at most max_upload_bytes each, plus the form's fields
    app.add_middleware(BodyLimit, limit=2 * settings.max_upload_bytes + 1024 * 1024)
    app.state.celery = make_celery(settings)
    for module in (health, scans, verdicts, policies):
        app.include_router(module.router)
    app.include_router(dashboard.router)

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 429: "rate_limited"}.get(exc.status, "forbidden")
        response = error(exc.status, code, exc.message)
        if exc.status == 429:
            response.headers["Retry-After"] = "60"
        return response

    @app.exception_handler(intake.BadRequestError)
    async def _bad(_: Request, exc: intake.BadRequestError) -> JSONResponse:
        return error(exc.status, exc.code, str(exc))

    @app.exception_handler(archives.UnsafeArchiveError)
    async def _unsafe(_: Request, exc: archives.UnsafeArchiveError) -> JSONResponse:
        return error(400, "unsafe_archive", str(exc))

    @app.exception_handler(store.NotFoundError)
    async def _missing(_: Request, exc: store.NotFoundError) -> JSONResponse:
        return error(404, "not_found", str(exc))

    @app.exception_handler(PolicyNotFoundError)
    async def _no_policy(_: Request, exc: PolicyNotFoundError) -> JSONResponse:
        return error(422, "invalid", str(exc))

    @app.exception_handler(PolicySetError)
    async def _bad_policies(_: Request, exc: PolicySetError) -> JSONResponse:
        return error(503, "policies_invalid", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return error(422, "invalid", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        # a value the database refuses (too long, out of range) is the client's error, not an outage
        return error(422, "invalid", "a value is too long or out of range")

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        # A database that is down or restarting is a temporary outage, not a bug: 503 tells clients
        # (and the hook, which retries) to come back; nothing was half-written (transactions roll back).
        log.error("database error: %s", exc.__class__.__name__)
        return error(503, "unavailable", "the database is unavailable; retry later")

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error(500, "internal", "internal error")

    return app
