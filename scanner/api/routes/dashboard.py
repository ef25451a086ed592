"""The dashboard: server-rendered pages under /ui (Jinja2, autoescaped, no scripts at all).

Access needs a token with the `read` scope, given once to the login form and kept in an HttpOnly,
SameSite=Strict cookie that the API's own authentication (`deps.bearer_token`) also accepts. Every
response under /ui carries a strict Content-Security-Policy, whatever its status.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup
from sqlalchemy import case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException

from scanner import pipeline, store
from scanner.api import deps
from scanner.api.deps import SessionDep, SettingsDep
from scanner.api.routes.verdicts import verdict_for
from scanner.config import Settings
from scanner.findings import Kind, Severity
from scanner.models import FindingRow, Scan, Verdict
from scanner.policy.loader import PolicySetError
from scanner.policy.result import Decision
from scanner.policy.schema import PolicyException, When
from scanner.reports import trend_svg

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

COOKIE = "releasegate_session"
SESSION_SECONDS = 8 * 3600
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
ENVIRONMENT_ORDER = ("dev", "uat", "prod")
SEVERITIES = tuple(s.name for s in sorted(Severity, reverse=True))  # CRITICAL first
KINDS = tuple(k.value for k in Kind)
EXPIRING_DAYS = 14
PAGE_SIZES = (25, 50, 100, 200)
SEARCH_LIMIT = 1000
_IN_CHUNK = 1000
TREND_DAYS = 30  # the trend pages' default period
TREND_PERIODS = (7, 30, 90)  # offered as links; any whole number of days up to TREND_MAX_DAYS is accepted
TREND_MAX_DAYS = 365
TREND_POINTS = 200  # the newest scans per environment that a service's trend chart draws
SPARK_POINTS = 12  # the newest scans per cell that an overview sparkline draws
_STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*\.(css|svg)$")
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


# ---------------------------------------------------------------- rendering


def _aware(value: datetime | None) -> datetime | None:
    # SQLite (and naive PostgreSQL columns) hand back naive datetimes; everything stored is UTC.
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ago(value: datetime | str | None) -> str:
    when = _parse_time(value)
    if when is None:
        return ""
    seconds = int((datetime.now(UTC) - when).total_seconds())
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _parse_time(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return _aware(value)


def _time(value: datetime | str | None) -> str:
    when = _parse_time(value)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else ""


def _iso(value: datetime | str | None) -> str:
    when = _parse_time(value)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z") if when else ""


def _short_digest(value: str | None) -> str:
    if not value:
        return ""
    algo, _, hexpart = value.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else value[:19]


def _severity_name(value: int | str) -> str:
    if isinstance(value, str):
        return value
    try:
        return Severity(value).name
    except ValueError:
        return "UNKNOWN"


def _duration(start: datetime | None, end: datetime | None) -> str:
    start, end = _aware(start), _aware(end)
    if start is None or end is None:
        return ""
    return f"{(end - start).total_seconds():.1f} s"


def _web_link(value: str | None) -> str | None:
    # Scanner output chooses these strings: only plain web links become hrefs, never javascript: etc.
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # every template, whatever its name: findings text is attacker-controlled
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        ago=_ago,
        time=_time,
        iso=_iso,
        short_digest=_short_digest,
        severity_name=_severity_name,
        web_link=_web_link,
    )
    env.globals.update(SEVERITIES=SEVERITIES, KINDS=KINDS)
    return env


TEMPLATES = _templates()


def render(
    request: Request, template: str, *, status: int = 200, signed_in: bool = True, **context: Any
) -> HTMLResponse:
    context.setdefault("q", "")
    context.setdefault("section", "")
    html = TEMPLATES.get_template(template).render(request=request, signed_in=signed_in, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    # A 403 means the token in the cookie cannot read: offer the login form, not the navigation.
    signed_in = status not in (401, 403)
    return render(request, "error.html", status=status, signed_in=signed_in, title=title, message=message)


# ---------------------------------------------------------------- access


class LoginRequired(Exception):
    """No token, or one that is unknown or revoked: the browser is sent to the login form."""


class Forbidden(Exception):
    """A valid token without the `read` scope."""


def dashboard_reader(request: Request, session: SessionDep) -> set[str]:
    raw = deps.bearer_token(request)
    scopes = deps.checked_scopes(request, session, raw) if raw else None
    if scopes is None:
        raise LoginRequired
    if "read" not in scopes:
        raise Forbidden("This token does not have the read scope the dashboard needs.")
    return scopes


Reader = Annotated[set[str], Depends(dashboard_reader)]


def _safe_next(value: str | None) -> str:
    # Only a path of the dashboard itself: never another host (`//evil`, `/\evil`, `https://...`).
    if value and value.startswith("/ui/") and "//" not in value and "\\" not in value:
        return value
    return "/ui/"


def _login_url(request: Request) -> str:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if target in ("/ui", "/ui/"):
        return "/ui/login"
    return "/ui/login?" + urlencode({"next": _safe_next(target)})


def _same_origin(request: Request) -> bool:
    """Refuse login CSRF. Browsers say where a request comes from in Sec-Fetch-Site; under our own
    `Referrer-Policy: no-referrer` Chromium sends `Origin: null` even for same-origin forms, so Origin is
    only compared when it names a host. Non-browser clients send neither and are let through."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


class DashboardRoute(APIRoute):
    """Turns the dashboard's access and lookup errors into pages and adds the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                response = RedirectResponse(_login_url(request), status_code=303)
            except Forbidden as exc:
                response = error_page(request, 403, "Forbidden", str(exc))
            except store.NotFoundError as exc:
                response = error_page(request, 404, "Not found", str(exc))
            except PolicySetError as exc:
                response = error_page(request, 503, "Policies invalid", f"No valid policy set: {exc}")
            except RequestValidationError:
                response = error_page(request, 400, "Bad request", "The request's parameters are invalid.")
            except StarletteHTTPException as exc:
                response = error_page(request, exc.status_code, "Error", str(exc.detail))
            response.headers.update(SECURITY_HEADERS)
            return response

        return handle


router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


# ---------------------------------------------------------------- queries


@dataclass
class Cell:
    """One service in one environment: its newest finished scan and that scan's current decision."""

    service: str
    environment: str
    scan_id: str | None = None
    status: str = ""
    created_at: datetime | None = None
    image: str | None = None
    by_severity: dict[str, int] = field(default_factory=dict)
    recorded: str = Decision.UNKNOWN.value  # the stored decision
    decision: str = Decision.UNKNOWN.value  # what the hook would see now (stale when too old)
    evaluated_at: datetime | None = None
    running_scan_id: str | None = None  # a newer scan that has not finished


def latest_cells(*, session: Session, settings: Settings, service: str | None = None) -> list[Cell]:
    """Every (service, environment) with its newest finished scan and newest unfinished one, and the
    finished scan's latest verdict: one query, whatever the number of scans. `service` keeps one."""
    finished = case((col(Scan.status).in_(store.FINISHED), 1), else_=0)
    ranking = sa_select(
        col(Scan.id).label("id"),
        finished.label("finished"),
        func.row_number()
        .over(
            partition_by=(col(Scan.service), col(Scan.environment), finished),
            order_by=(col(Scan.created_at).desc(), col(Scan.id).desc()),
        )
        .label("rank"),
    )
    if service is not None:
        ranking = ranking.where(col(Scan.service) == service)
    ranked = ranking.cte("ranked")
    picked = select(ranked.c.id, ranked.c.finished).where(ranked.c.rank == 1).cte("picked")
    verdicts = (
        select(
            col(Verdict.scan_id).label("scan_id"),
            col(Verdict.decision).label("decision"),
            col(Verdict.evaluated_at).label("evaluated_at"),
            func.row_number()
            .over(
                partition_by=col(Verdict.scan_id),
                order_by=(col(Verdict.evaluated_at).desc(), col(Verdict.id).desc()),
            )
            .label("rank"),
        ).where(col(Verdict.scan_id).in_(select(picked.c.id).where(picked.c.finished == 1)))
    ).cte("latest_verdicts")
    query = (
        sa_select(
            col(Scan.id),
            col(Scan.service),
            col(Scan.environment),
            col(Scan.status),
            col(Scan.created_at),
            col(Scan.image_digest),
            col(Scan.image_ref),
            col(Scan.counts),
            picked.c.finished,
            verdicts.c.decision,
            verdicts.c.evaluated_at,
        )
        .join(picked, picked.c.id == col(Scan.id))
        .outerjoin(verdicts, (verdicts.c.scan_id == col(Scan.id)) & (verdicts.c.rank == 1))
    )
    cells: dict[tuple[str, str], Cell] = {}
    unfinished: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    for row in session.execute(query):
        key = (row.service, row.environment)
        if not row.finished:
            unfinished[key] = (row.id, _aware(row.created_at))
            continue
        cell = Cell(
            service=row.service,
            environment=row.environment,
            scan_id=row.id,
            status=row.status,
            created_at=_aware(row.created_at),
            image=row.image_digest or row.image_ref,
            by_severity=dict((row.counts or {}).get("by_severity") or {}),
        )
        if row.decision is None:  # finished but not judged yet
            cell.recorded = cell.decision = Decision.PENDING.value
        else:
            cell.recorded = cell.decision = row.decision
            cell.evaluated_at = _aware(row.evaluated_at)
        cells[key] = cell
    for key, (scan_id, created) in unfinished.items():
        finished_cell = cells.get(key)
        if finished_cell is None:
            cells[key] = Cell(
                service=key[0],
                environment=key[1],
                scan_id=scan_id,
                status="running",
                created_at=created,
                recorded=Decision.PENDING.value,
                decision=Decision.PENDING.value,
            )
        elif created and finished_cell.created_at and created > finished_cell.created_at:
            finished_cell.running_scan_id = scan_id
    _mark_stale(cells.values(), settings)
    return sorted(cells.values(), key=lambda c: (c.service, _environment_key(c.environment)))


def _mark_stale(cells: Iterable[Cell], settings: Settings) -> None:
    # The same rule as the verdict endpoint (`verdict_for`): older than the policy's freshness is stale.
    freshness: dict[str, timedelta | None] = {}
    now = datetime.now(UTC)
    for cell in cells:
        if cell.evaluated_at is None:
            continue
        if cell.environment not in freshness:
            try:
                freshness[cell.environment] = pipeline.freshness_of(settings, cell.environment)
            except PolicySetError:  # no valid policy set at all: show decisions as stored
                freshness[cell.environment] = None
        limit = freshness[cell.environment]
        if limit is not None and now - cell.evaluated_at > limit:
            cell.decision = Decision.STALE.value


def _environment_key(name: str) -> tuple[int, str]:
    return (ENVIRONMENT_ORDER.index(name) if name in ENVIRONMENT_ORDER else len(ENVIRONMENT_ORDER), name)


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class FindingFilters:
    severities: tuple[str, ...] = ()
    kind: str = ""
    rule_id: str = ""
    new: bool | None = None
    fixable: bool | None = None
    sort: str = "severity"
    descending: bool = True
    page: int = 1
    per_page: int = 50
    problems: tuple[str, ...] = ()

    @classmethod
    def parse(cls, params: QueryParams) -> FindingFilters:
        problems: list[str] = []
        severities: list[str] = []
        for raw in params.getlist("severity"):
            for part in raw.split(","):
                name = part.strip().upper()
                if not name:
                    continue
                if name in SEVERITIES:
                    severities.append(name)
                else:
                    problems.append(f"unknown severity {part.strip()!r} ignored")
        kind = params.get("kind", "").strip()
        if kind and kind not in KINDS:
            problems.append(f"unknown kind {kind!r} ignored")
            kind = ""
        sort = params.get("sort", "severity")
        if sort not in SORTABLE:
            problems.append(f"cannot sort by {sort!r}")
            sort = "severity"
        per_page = _int(params.get("per_page"), 50)
        return cls(
            severities=tuple(s for s in SEVERITIES if s in severities),
            kind=kind,
            rule_id=params.get("rule_id", "").strip()[:300],
            new=_tristate(params.get("new")),
            fixable=_tristate(params.get("fixable")),
            sort=sort,
            descending=params.get("order", "desc") != "asc",
            page=max(1, _int(params.get("page"), 1)),
            per_page=per_page if per_page in PAGE_SIZES else 50,
            problems=tuple(problems),
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "severity": list(self.severities),
            "kind": self.kind,
            "rule_id": self.rule_id,
            "new": "" if self.new is None else str(self.new).lower(),
            "fixable": "" if self.fixable is None else str(self.fixable).lower(),
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "per_page": self.per_page,
            "page": self.page,
        }
        values.update(changes)
        defaults = {"sort": "severity", "order": "desc", "per_page": 50, "page": 1}
        return {k: v for k, v in values.items() if v not in ("", [], None) and defaults.get(k) != v}

    def url(self, path: str, **changes: Any) -> str:
        query = urlencode(self.params(**changes), doseq=True)
        return f"{path}?{query}" if query else path

    @property
    def active(self) -> bool:
        return bool(
            self.severities or self.kind or self.rule_id or self.new is not None or self.fixable is not None
        )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _tristate(value: str | None) -> bool | None:
    lowered = (value or "").strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    return None


SORTABLE: dict[str, Any] = {
    "severity": FindingRow.severity,
    "kind": FindingRow.kind,
    "rule_id": FindingRow.rule_id,
    "package": FindingRow.package,
    "path": FindingRow.path,
    "first_seen": FindingRow.first_seen,
}


def findings_page(*, session: Session, scan_id: str, filters: FindingFilters) -> tuple[int, list[FindingRow]]:
    query = select(FindingRow).where(FindingRow.scan_id == scan_id)
    if filters.severities:
        query = query.where(col(FindingRow.severity).in_([int(Severity[s]) for s in filters.severities]))
    if filters.kind:
        query = query.where(FindingRow.kind == filters.kind)
    if filters.rule_id:
        query = query.where(FindingRow.rule_id == filters.rule_id)
    if filters.new is not None:
        query = query.where(FindingRow.is_new == filters.new)
    if filters.fixable is True:
        query = query.where(col(FindingRow.fixed_version).is_not(None), col(FindingRow.fixed_version) != "")
    elif filters.fixable is False:
        query = query.where(or_(col(FindingRow.fixed_version).is_(None), col(FindingRow.fixed_version) == ""))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    column = col(SORTABLE[filters.sort])
    ordered = column.desc() if filters.descending else column.asc()
    tiebreak = col(FindingRow.severity).desc() if filters.sort != "severity" else col(FindingRow.rule_id)
    rows = session.exec(
        query.order_by(ordered, tiebreak, col(FindingRow.id))
        .offset((filters.page - 1) * filters.per_page)
        .limit(filters.per_page)
    )
    return int(total), list(rows)


@dataclass
class SearchHit:
    cell: Cell
    findings: list[Any] = field(default_factory=list)


def search_latest(*, session: Session, cells: Sequence[Cell], term: str) -> list[SearchHit]:
    """Findings whose rule id (a CVE, GHSA or check id) or package is `term`, in each service's newest
    finished scan per environment. Exact matches on the indexed columns; CVE ids in any case."""
    by_scan = {c.scan_id: c for c in cells if c.scan_id and c.status in store.FINISHED}
    rule_ids = sorted({term, term.upper()})
    packages = sorted({term, term.lower()})
    hits: dict[str, SearchHit] = {}
    for chunk in _chunks(sorted(by_scan)):
        rows = session.execute(
            sa_select(
                col(FindingRow.scan_id),
                col(FindingRow.rule_id),
                col(FindingRow.package),
                col(FindingRow.installed_version),
                col(FindingRow.fixed_version),
                col(FindingRow.severity),
                col(FindingRow.kind),
                col(FindingRow.title),
                col(FindingRow.path),
                col(FindingRow.line),
                col(FindingRow.target),
            )
            .where(
                col(FindingRow.scan_id).in_(list(chunk)),
                or_(col(FindingRow.rule_id).in_(rule_ids), col(FindingRow.package).in_(packages)),
            )
            .order_by(col(FindingRow.severity).desc(), col(FindingRow.rule_id))
            .limit(SEARCH_LIMIT)
        )
        for row in rows:
            hit = hits.setdefault(row.scan_id, SearchHit(cell=by_scan[row.scan_id]))
            hit.findings.append(row)
    return sorted(hits.values(), key=lambda h: (h.cell.service, _environment_key(h.cell.environment)))


def exceptions_in_use(*, session: Session, cells: Sequence[Cell]) -> dict[str, list[tuple[Cell, int]]]:
    """Exception id -> the (service, environment) cells whose latest verdict applied it, with counts."""
    by_scan = {c.scan_id: c for c in cells if c.scan_id and c.evaluated_at is not None}
    applied_column = Verdict.__table__.c.document["exceptions_applied"]  # type: ignore[attr-defined]
    newest: dict[str, tuple[datetime, list[dict[str, Any]]]] = {}
    for chunk in _chunks(sorted(by_scan)):
        rows = session.execute(
            sa_select(col(Verdict.scan_id), col(Verdict.evaluated_at), applied_column).where(
                col(Verdict.scan_id).in_(list(chunk))
            )
        )
        for scan_id, evaluated_at, applied in rows:
            when = _aware(evaluated_at) or datetime.min.replace(tzinfo=UTC)
            if scan_id not in newest or newest[scan_id][0] < when:
                newest[scan_id] = (when, list(applied or []))
    usage: dict[str, list[tuple[Cell, int]]] = {}
    for scan_id, (_, applied) in newest.items():
        for item in applied:
            if isinstance(item, dict) and item.get("id"):
                usage.setdefault(str(item["id"]), []).append((by_scan[scan_id], int(item.get("count") or 0)))
    return usage


@dataclass
class TrendScan:
    """One finished scan on a trend: its counts by severity name (from `scans.counts`)."""

    scan_id: str
    service: str
    environment: str
    status: str
    created_at: datetime
    by_severity: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())


def _recent_scans(*, since: datetime, per_cell: int, service: str | None, columns: Sequence[str]) -> Any:
    """The query behind the trends: per (service, environment), its finished scans created since `since`,
    at most the newest `per_cell`, oldest first, with `columns` of the scan and its `by_severity` counts.
    One query over `scans` alone: the counts are stored with each scan, so no finding is read."""
    ranking = sa_select(
        *(getattr(Scan.__table__.c, name).label(name) for name in columns),  # type: ignore[attr-defined]
        Scan.__table__.c.counts["by_severity"].label("by_severity"),  # type: ignore[attr-defined]
        func.row_number()
        .over(
            partition_by=(col(Scan.service), col(Scan.environment)),
            order_by=(col(Scan.created_at).desc(), col(Scan.id).desc()),
        )
        .label("rank"),
    ).where(col(Scan.status).in_(store.FINISHED), col(Scan.created_at) >= since)
    if service is not None:
        ranking = ranking.where(col(Scan.service) == service)
    ranked = ranking.subquery("ranked")
    return (
        sa_select(*(ranked.c[name] for name in columns), ranked.c.by_severity)
        .where(ranked.c.rank <= per_cell)
        .order_by(ranked.c.service, ranked.c.environment, ranked.c.rank.desc())
    )


def _severity_counts(value: Any) -> dict[str, int]:
    # as the engine's counts() wrote it: severity name -> int; anything else in the JSON is ignored
    return {k: v for k, v in value.items() if type(v) is int} if isinstance(value, dict) else {}


def trend_history(
    *, session: Session, since: datetime, per_cell: int, service: str | None = None
) -> dict[tuple[str, str], list[TrendScan]]:
    """(service, environment) -> its finished scans created since `since`, oldest first, at most the
    newest `per_cell` of them: one query, whatever the number of services and scans."""
    query = _recent_scans(
        since=since,
        per_cell=per_cell,
        service=service,
        columns=("id", "service", "environment", "status", "created_at"),
    )
    history: dict[tuple[str, str], list[TrendScan]] = {}
    for row in session.execute(query):
        history.setdefault((row.service, row.environment), []).append(
            TrendScan(
                scan_id=row.id,
                service=row.service,
                environment=row.environment,
                status=row.status,
                created_at=_aware(row.created_at) or since,
                by_severity=_severity_counts(row.by_severity),
            )
        )
    return history


def sparkline_totals(*, session: Session, since: datetime, per_cell: int) -> dict[tuple[str, str], list[int]]:
    """(service, environment) -> the total findings of its newest `per_cell` finished scans since
    `since`, oldest first: the overview's sparklines, in one query with no more columns than they need."""
    query = _recent_scans(since=since, per_cell=per_cell, service=None, columns=("service", "environment"))
    totals: dict[tuple[str, str], list[int]] = {}
    for service, environment, by_severity in session.execute(query):
        totals.setdefault((service, environment), []).append(sum(_severity_counts(by_severity).values()))
    return totals


def _trend_days(value: str | None) -> int:
    return min(max(_int(value, TREND_DAYS), 1), TREND_MAX_DAYS)


def trend_points(scans: Sequence[TrendScan]) -> list[trend_svg.TrendPoint]:
    return [
        trend_svg.TrendPoint(
            at=t.created_at,
            counts=t.by_severity,
            label=f"scan {t.scan_id[:12]}" + (" (scanner error)" if t.status == "error" else ""),
            href=f"/ui/scans/{t.scan_id}",
            partial=t.status == "error",
        )
        for t in scans
    ]


def sparkline_for(cell: Cell, totals: Sequence[int], days: int) -> Markup:
    if not totals:
        return Markup("")
    label = (
        f"{cell.service} in {cell.environment}: findings in the last {len(totals)} scan(s) "
        f"of {days} days, {totals[0]} to {totals[-1]}"
    )
    return Markup(trend_svg.sparkline(totals, label=label))  # the builder escapes its text


# ---------------------------------------------------------------- presentation helpers


def describe_when(when: When) -> list[tuple[str, str]]:
    parts = []
    for key, value in when.model_dump(mode="json", exclude_none=True).items():
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        parts.append((key, text))
    return parts


@dataclass
class ExceptionView:
    exception: PolicyException
    when: list[tuple[str, str]]
    days_left: int
    state: str  # active | expiring | expired
    covers: list[tuple[Cell, int]]

    @property
    def rule_id(self) -> str | None:
        """The one rule id the exception names, if it names exactly one: its findings can be listed."""
        ids = self.exception.when.rule_id
        return ids[0] if ids and len(ids) == 1 else None


def exception_state(expires: date, today: date) -> tuple[int, str]:
    # `expires` is the last day an exception holds (the engine's rule): it is expired the day after.
    days_left = (expires - today).days
    if days_left < 0:
        return days_left, "expired"
    if days_left <= EXPIRING_DAYS:
        return days_left, "expiring"
    return days_left, "active"


def _environments(cells: Iterable[Cell], settings: Settings) -> list[str]:
    names = {c.environment for c in cells}
    try:
        names |= set(pipeline.live_policies(settings).get().environments())
    except PolicySetError:
        pass  # the grid still shows what was scanned; the policies page explains the error
    return sorted(names, key=_environment_key)


def _api_paths(request: Request) -> set[str]:
    # The API's own description of itself (generated once, then cached by FastAPI): newer FastAPI versions
    # nest included routers in `app.routes`, so their paths are not listed there any more.
    return set(request.app.openapi().get("paths", {}))


# ---------------------------------------------------------------- pages


@router.get("/ui")
def dashboard_root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


@router.get("/ui/static/{name}")
def static_file(name: str) -> Response:
    path = STATIC_DIR / name
    if not _STATIC_NAME.match(name) or not path.is_file():
        raise StarletteHTTPException(404, "no such file")
    return FileResponse(
        path, media_type=_STATIC_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/ui/login")
def login_form(request: Request, next: str = "/ui/") -> HTMLResponse:
    return render(request, "login.html", signed_in=False, next=_safe_next(next), error="")


@router.post("/ui/login")
def login(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/ui/",
) -> Response:
    target = _safe_next(next)
    if not _same_origin(request):
        return render(
            request, "login.html", status=403, signed_in=False, next=target, error="Cross-site login refused."
        )
    token = token.strip()
    scopes = deps.checked_scopes(request, session, token) if token else None
    if scopes is None:
        return render(
            request,
            "login.html",
            status=401,
            signed_in=False,
            next=target,
            error="That token is unknown or revoked.",
        )
    if "read" not in scopes:
        return render(
            request,
            "login.html",
            status=403,
            signed_in=False,
            next=target,
            error="That token does not have the read scope (read or admin) that the dashboard needs.",
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/ui/logout")
def logout_form(request: Request) -> HTMLResponse:
    # Logging out changes state, so it is a POST; this page only offers the button.
    return render(request, "logout.html", signed_in=False)


@router.post("/ui/logout")
def logout(request: Request) -> RedirectResponse:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.get("/ui/")
def overview(
    request: Request, session: SessionDep, settings: SettingsDep, _: Reader, service: str = ""
) -> HTMLResponse:
    cells = latest_cells(session=session, settings=settings)
    environments = _environments(cells, settings)
    needle = service.strip().lower()
    if needle:
        cells = [c for c in cells if needle in c.service]
    grid: dict[str, dict[str, Cell]] = {}
    for cell in cells:
        grid.setdefault(cell.service, {})[cell.environment] = cell
    blocked = [
        c
        for c in cells
        if c.environment == "prod" and c.recorded in (Decision.FAIL.value, Decision.ERROR.value)
    ]
    since = datetime.now(UTC) - timedelta(days=TREND_DAYS)
    totals = sparkline_totals(session=session, since=since, per_cell=SPARK_POINTS)
    sparklines = {
        (c.service, c.environment): sparkline_for(c, totals.get((c.service, c.environment), []), TREND_DAYS)
        for c in cells
    }
    return render(
        request,
        "overview.html",
        section="overview",
        grid=grid,
        services=sorted(grid),
        environments=environments,
        blocked=blocked,
        service_filter=service.strip(),
        sparklines=sparklines,
        trend_days=TREND_DAYS,
    )


@dataclass
class EnvironmentTrend:
    environment: str
    cell: Cell
    scans: list[TrendScan]
    chart: Markup


@router.get("/ui/services/{service}")
def service_trends(
    service: str, request: Request, session: SessionDep, settings: SettingsDep, _: Reader
) -> HTMLResponse:
    cells = latest_cells(session=session, settings=settings, service=service)
    if not cells:
        raise store.NotFoundError(f"no scans of service {service!r}")
    days = _trend_days(request.query_params.get("days"))
    end = datetime.now(UTC)
    start = end - timedelta(days=days)
    history = trend_history(session=session, since=start, per_cell=TREND_POINTS, service=service)
    trends = []
    for cell in sorted(cells, key=lambda c: _environment_key(c.environment)):
        scans = history.get((service, cell.environment), [])
        chart = trend_svg.trend_chart(
            trend_points(scans),
            title=f"Findings by severity in {service} · {cell.environment}, last {days} days",
            chart_id=f"trend-{cell.environment}",
            start=start,
            end=end,
        )
        trends.append(
            EnvironmentTrend(
                environment=cell.environment,
                cell=cell,
                scans=scans,
                chart=Markup(chart),  # the builder escapes every text it is given
            )
        )
    return render(
        request,
        "service.html",
        section="overview",
        service=service,
        trends=trends,
        days=days,
        periods=TREND_PERIODS,
        max_points=TREND_POINTS,
        series=trend_svg.SERIES,
    )


@router.get("/ui/scans/{scan_id}")
def scan_page(
    scan_id: str, request: Request, session: SessionDep, settings: SettingsDep, _: Reader
) -> HTMLResponse:
    scan = store.get_scan(session=session, scan_id=scan_id)
    jobs = store.jobs_of(session=session, scan_id=scan.id)
    digests = sorted({d.digest for d in store.digests_of(session=session, scan_id=scan.id)})
    verdict = verdict_for([scan], session=session, settings=settings, environment=scan.environment)
    filters = FindingFilters.parse(request.query_params)
    total, findings = findings_page(session=session, scan_id=scan.id, filters=filters)
    pages = max(1, (total + filters.per_page - 1) // filters.per_page)
    path = f"/ui/scans/{scan.id}"
    api = f"/api/v1/scans/{scan.id}"
    known = _api_paths(request)
    links = [("Scan JSON", api), ("Findings JSON", f"{api}/findings")]
    links += [
        (label, f"{api}/{suffix}")
        for label, suffix in (("SARIF", "report.sarif"), ("JUnit XML", "report.junit.xml"))
        if f"/api/v1/scans/{{scan_id}}/{suffix}" in known
    ]
    return render(
        request,
        "scan.html",
        scan=scan,
        jobs=jobs,
        digests=digests,
        verdict=verdict,
        counts=scan.counts or {},
        filters=filters,
        findings=findings,
        total=total,
        page=min(filters.page, pages),
        pages=pages,
        first=(filters.page - 1) * filters.per_page + 1 if findings else 0,
        last=(filters.page - 1) * filters.per_page + len(findings),
        prev_url=filters.url(path, page=filters.page - 1) if filters.page > 1 else None,
        next_url=filters.url(path, page=filters.page + 1) if filters.page < pages else None,
        sort_url=lambda key: filters.url(
            path, sort=key, order="asc" if filters.sort == key and filters.descending else "desc", page=1
        ),
        severity_url=lambda name: FindingFilters().url(path, severity=[name]),
        reset_url=path,
        links=links,
        duration=_duration,
        path=path,
    )


@router.get("/ui/search")
def search(
    request: Request, session: SessionDep, settings: SettingsDep, _: Reader, q: str = ""
) -> HTMLResponse:
    term = q.strip()[:300]
    hits: list[SearchHit] = []
    if term:
        cells = latest_cells(session=session, settings=settings)
        hits = search_latest(session=session, cells=cells, term=term)
    return render(
        request,
        "search.html",
        section="search",
        q=term,
        hits=hits,
        total=sum(len(h.findings) for h in hits),
        limit=SEARCH_LIMIT,
    )


@router.get("/ui/exceptions")
def exceptions(request: Request, session: SessionDep, settings: SettingsDep, _: Reader) -> HTMLResponse:
    policy_set = pipeline.live_policies(settings).get()
    cells = latest_cells(session=session, settings=settings)
    usage = exceptions_in_use(session=session, cells=cells)
    today = datetime.now(UTC).date()
    views = []
    for exc in sorted(policy_set.exceptions, key=lambda e: (e.expires, e.id)):
        days_left, state = exception_state(exc.expires, today)
        views.append(
            ExceptionView(
                exception=exc,
                when=describe_when(exc.when),
                days_left=days_left,
                state=state,
                covers=usage.get(exc.id, []),
            )
        )
    return render(
        request,
        "exceptions.html",
        section="exceptions",
        exceptions=views,
        digest=policy_set.digest,
        expiring_days=EXPIRING_DAYS,
        today=today,
    )


@router.get("/ui/policies")
def policies(request: Request, settings: SettingsDep, _: Reader) -> HTMLResponse:
    live = pipeline.live_policies(settings)
    policy_set = live.get()
    ordered = sorted(
        policy_set.policies.values(),
        key=lambda p: (
            bool(p.environments),
            min((_environment_key(e) for e in p.environments), default=(0, "")),
            p.name,
        ),
    )
    return render(
        request,
        "policies.html",
        section="policies",
        policy_set=policy_set,
        policies=ordered,
        describe_when=describe_when,
        loaded_at=live.loaded_at,
        last_error=live.last_error,
        last_error_at=live.last_error_at,
        reload_failures=live.reload_failures,
    )


@router.get("/ui/{rest:path}")
def not_found(rest: str, request: Request, _: Reader) -> HTMLResponse:
    return error_page(request, 404, "Not found", "There is no dashboard page here.")
