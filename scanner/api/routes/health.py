"""Liveness, readiness (database, broker, policies) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from scanner import pipeline
from scanner.api.deps import SettingsDep
from scanner.db import get_engine

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, settings: SettingsDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    ok = True
    try:
        with get_engine(settings.resolved_database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports any failure instead of raising it
        ok, checks["database"] = False, f"error: {type(exc).__name__}"
    try:
        with request.app.state.celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as exc:  # as above
        ok, checks["broker"] = False, f"error: {type(exc).__name__}"
    live = pipeline.live_policies(settings)
    try:
        current = live.get()
        checks["policies"] = {"digest": current.digest, "status": "ok"}
        if live.last_error is not None:
            checks["policies"] = {
                "digest": current.digest,
                "status": "reload rejected, serving last valid set",
                "errors": [str(p) for p in live.last_error.problems][:20],
            }
    except Exception as exc:  # no valid policy set at all
        ok, checks["policies"] = False, f"error: {exc}"
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"description": "Prometheus metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}
    },
)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
