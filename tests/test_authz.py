"""The authorization matrix on a live gate: every route (from the app's OpenAPI document and its /ui
routes) x {no token, wrong token, revoked token, scan:write, verdict:read, read, admin} gets exactly
the allowed answer. Tokens are stored only as hashes. Failed authentication is rate limited.

The gate is private (fresh database, no worker) with seeded scans, so reads find data and accepted
scans are never run. Failed attempts are rate limited per client address, so each matrix request
comes from its own loopback address (127.0.x.y); the rate-limit tests use fixed ones on purpose.
Figure: "authorization cases checked N".
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from scanner.api.app import create_app
from scanner.config import Settings
from tests.conftest import Gate
from tests.support import figures, seed
from tests.support.hostile import private_gate, redis_db

pytestmark = pytest.mark.slow

IDENTITIES = ("none", "wrong", "revoked", "scan:write", "verdict:read", "read", "admin")
GRANTS = {  # what each scope implies (deps.IMPLIED)
    "scan:write": {"scan:write"},
    "verdict:read": {"verdict:read"},
    "read": {"read", "verdict:read"},
    "admin": {"scan:write", "verdict:read", "read", "admin"},
}
TOKEN_CACHE_SECONDS = 5.0  # scanner.api.deps.TOKEN_CACHE_SECONDS: how long a revoked token still works
DIGEST = "sha256:" + "c0" * 32
CHECKED: list[str] = []
_addresses = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _figure() -> Iterator[None]:
    yield
    if CHECKED:
        figures.record("authorization cases checked", len(CHECKED))


def fresh_address() -> str:
    """A loopback address no earlier request used: the per-client failure budget starts at zero."""
    n = next(_addresses)
    return f"127.0.{100 + n // 250}.{1 + n % 250}"


def client_from(gate: Gate, address: str | None = None, **kwargs: Any) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address or fresh_address())
    return httpx.Client(base_url=gate.url, transport=transport, timeout=30, follow_redirects=False, **kwargs)


@dataclass
class World:
    gate: Gate
    tokens: dict[str, str | None] = field(default_factory=dict)
    scan_id: str = ""
    revoked_at: float = 0.0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, redis_url: str, trivy_cache: Path) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("authz-gate")
    limit = {"RELEASEGATE_AUTH_FAILURE_LIMIT": "20"}  # the default; the shared test gates raise it
    with private_gate(
        tmp, broker_url=redis_db(redis_url, 13), trivy_cache=trivy_cache, extra_env=limit
    ) as gate:
        w = World(gate)
        # The revoked token is used first (so the API caches it as valid), then revoked.
        revoked = gate.token_for("admin")
        with client_from(gate) as c:
            assert c.get("/api/v1/scans/none", headers=auth(revoked)).status_code == 404
        listed = gate.cli("token", "list").stdout.splitlines()
        token_id = max(int(line.split("\t")[0]) for line in listed)
        result = gate.cli("token", "revoke", str(token_id))
        assert result.returncode == 0, result.stderr
        w.revoked_at = time.monotonic()
        with client_from(gate) as c:  # still cached: documented, and bounded by the cache lifetime
            assert c.get("/api/v1/scans/none", headers=auth(revoked)).status_code == 404
        w.tokens = {
            "none": None,
            "wrong": "rg_" + "A" * 43,
            "revoked": revoked,
            **{scope: gate.token_for(scope) for scope in ("scan:write", "verdict:read", "read")},
            "admin": gate.token,
        }
        w.scan_id = seed.seed(gate.env["RELEASEGATE_DATABASE_URL"], data_dir=gate.data_dir).failing_prod
        wait = TOKEN_CACHE_SECONDS + 0.5 - (time.monotonic() - w.revoked_at)
        if wait > 0:
            time.sleep(wait)
        yield w


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


# ------------------------------------------------------------------------------------------ the matrix


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the app declares it
    scope: str | None  # None: public
    ok: frozenset[int]  # the answer when allowed
    ui: bool = False  # dashboard: no/invalid token -> 303 to the login form, lacking scope -> 403 page


def R(method: str, path: str, scope: str | None, *ok: int, ui: bool = False) -> Route:  # noqa: N802
    return Route(method, path, scope, frozenset(ok), ui)


ROUTES = [
    R("GET", "/healthz", None, 200),
    R("GET", "/readyz", None, 200),
    R("GET", "/metrics", None, 200),
    R("GET", "/openapi.json", None, 200),
    R("GET", "/docs", None, 200),
    R("GET", "/redoc", None, 200),
    R("POST", "/scan", "scan:write", 200, 202),
    R("POST", "/api/v1/scans", "scan:write", 200, 202),
    R("GET", "/api/v1/scans/{scan_id}", "read", 200),
    R("GET", "/api/v1/scans/{scan_id}/findings", "read", 200),
    R("GET", "/api/v1/scans/{scan_id}/report.sarif", "read", 200),
    R("GET", "/api/v1/scans/{scan_id}/report.junit.xml", "read", 200),
    R("POST", "/api/v1/scans/{scan_id}/digests", "scan:write", 200),
    R("GET", "/api/v1/verdicts", "verdict:read", 200),
    R("GET", "/api/v1/services/{service}/last-good", "read", 200),
    R("POST", "/api/v1/policies/evaluate", "read", 200),
    R("GET", "/ui", None, 303),
    R("GET", "/ui/", "read", 200, ui=True),
    R("GET", "/ui/scans/{scan_id}", "read", 200, ui=True),
    R("GET", "/ui/services/{service}", "read", 200, ui=True),
    R("GET", "/ui/search", "read", 200, ui=True),
    R("GET", "/ui/exceptions", "read", 200, ui=True),
    R("GET", "/ui/policies", "read", 200, ui=True),
    R("GET", "/ui/{rest:path}", "read", 404, ui=True),
    R("GET", "/ui/static/{name}", None, 200),
    R("GET", "/ui/login", None, 200),
    R("GET", "/ui/logout", None, 200),
    R("POST", "/ui/logout", None, 303),
    R("POST", "/ui/login", "read", 303, ui=True),  # the token travels in the form, see request_for
]
DOCS = {"/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"}


def declared_routes(data_dir: Path) -> set[tuple[str, str]]:
    """Every (method, path) the app serves: its OpenAPI operations plus the dashboard's hidden routes."""
    app = create_app(Settings(data_dir=data_dir, database_url="", broker_url=""))
    schema = app.openapi()
    routes = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    for route in _flatten(app.routes):
        path = getattr(route, "path", "")
        if path.startswith("/ui"):
            routes |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return routes


def _flatten(routes: Any) -> Iterator[Any]:
    """Routes, looking into included routers (FastAPI wraps them in objects with `original_router`)."""
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes") and not hasattr(route, "path"):
            yield from _flatten(inner.routes)
        else:
            yield route


def test_the_matrix_covers_every_route(tmp_path: Path) -> None:
    table = {(r.method, r.path) for r in ROUTES}
    declared = declared_routes(tmp_path)
    missing = declared - table
    assert not missing, f"routes without an authorization expectation: {sorted(missing)}"
    stale = {(m, p) for m, p in table - declared if p not in DOCS}
    assert not stale, f"expectations for routes the app no longer has: {sorted(stale)}"


def expected(route: Route, identity: str) -> set[int]:
    if route.scope is None:
        return set(route.ok)
    if identity in ("none", "wrong", "revoked"):
        if route.ui:
            return {401} if route.method == "POST" else {303}  # the login form, or its refusal
        return {401}
    if route.scope in GRANTS[identity]:
        return set(route.ok)
    return {403}


def request_for(w: World, route: Route, identity: str) -> tuple[str, str, dict[str, Any]]:
    token = w.tokens[identity]
    path = (
        route.path.replace("{scan_id}", w.scan_id)
        .replace("{service}", "payments-api")
        .replace("{rest:path}", "no-such-page")
        .replace("{name}", "dashboard.css")
    )
    kwargs: dict[str, Any] = {"headers": auth(token)}
    if route.path in ("/scan", "/api/v1/scans"):
        kwargs["json"] = {
            "service": "authz",
            "environment": "dev",
            "image": f"registry.example/authz@{DIGEST}",
        }
    elif route.path.endswith("/digests"):
        kwargs["json"] = {"digest": DIGEST}
    elif route.path == "/api/v1/verdicts":
        kwargs["params"] = {"image": DIGEST, "environment": "prod"}
    elif route.path.endswith("/last-good"):
        kwargs["params"] = {"environment": "dev"}
    elif route.path == "/api/v1/policies/evaluate":
        kwargs["json"] = {"scan_id": w.scan_id}
    elif route.path == "/ui/search":
        kwargs["params"] = {"q": "openssl"}
    elif route.path == "/ui/login":
        kwargs = {"data": {"token": token or "", "next": "/ui/"}}
    return route.method, path, kwargs


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_every_identity_gets_exactly_the_allowed_answer(world: World, route: Route) -> None:
    wrong: list[str] = []
    for identity in IDENTITIES:
        method, path, kwargs = request_for(world, route, identity)
        with client_from(world.gate) as client:
            resp = client.request(method, path, **kwargs)
        want = expected(route, identity)
        CHECKED.append(f"{method} {route.path} {identity}")
        if resp.status_code not in want:
            wrong.append(f"{identity}: HTTP {resp.status_code} (want {sorted(want)}): {resp.text[:150]}")
            continue
        if route.ui and resp.status_code == 303 and identity in ("none", "wrong", "revoked"):
            if not resp.headers.get("location", "").startswith("/ui/login"):
                wrong.append(f"{identity}: redirected to {resp.headers.get('location')!r}")
        if not route.ui and resp.status_code in (401, 403):
            if resp.json()["error"]["code"] != ("unauthorized" if resp.status_code == 401 else "forbidden"):
                wrong.append(f"{identity}: error body {resp.text[:150]}")
            if resp.status_code == 401 and resp.headers.get("www-authenticate") != "Bearer":
                wrong.append(f"{identity}: 401 without WWW-Authenticate: Bearer")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r.ui and r.method == "GET"],
    ids=[f"{r.method} {r.path}" for r in ROUTES if r.ui and r.method == "GET"],
)
def test_the_dashboard_session_cookie_carries_the_same_rights(world: World, route: Route) -> None:
    """Browsers authenticate with the releasegate_session cookie instead of a header."""
    wrong: list[str] = []
    for identity in IDENTITIES:
        method, path, kwargs = request_for(world, route, identity)
        token = world.tokens[identity]
        cookies = {"releasegate_session": token} if token else {}
        with client_from(world.gate, cookies=cookies) as client:
            resp = client.request(method, path, params=kwargs.get("params"))
        CHECKED.append(f"{method} {route.path} {identity} cookie")
        if resp.status_code not in expected(route, identity):
            wrong.append(f"{identity}: HTTP {resp.status_code} (want {sorted(expected(route, identity))})")
    assert not wrong, "\n".join(wrong)


MALFORMED = {
    "empty bearer": {"Authorization": "Bearer"},
    "basic scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "token in the scheme slot": {"Authorization": "{admin}"},
    "admin token with a suffix": {"Authorization": "Bearer {admin}x"},
    "admin token truncated": {"Authorization": "Bearer {admin_short}"},
    "10 kB token": {"Authorization": "Bearer " + "A" * 10240},
    "token with NUL-like noise": {"Authorization": "Bearer rg_%00%0a"},
    "wrong cookie": {"Cookie": "releasegate_session=rg_guess"},
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_credential_is_401(world: World, name: str) -> None:
    admin = world.gate.token
    headers = {k: v.format(admin=admin, admin_short=admin[:-1]) for k, v in MALFORMED[name].items()}
    with client_from(world.gate) as client:
        resp = client.get(f"/api/v1/scans/{world.scan_id}", headers=headers)
    CHECKED.append(f"malformed {name}")
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"]["code"] == "unauthorized"


def test_a_revoked_token_stops_working_once_the_cache_expires(world: World) -> None:
    """Revoked in the fixture and used before that; more than TOKEN_CACHE_SECONDS have passed since."""
    assert time.monotonic() - world.revoked_at > TOKEN_CACHE_SECONDS
    with client_from(world.gate) as client:
        assert client.get("/api/v1/verdicts", params={"image": DIGEST, "environment": "prod"},
                          headers=auth(world.tokens["revoked"])).status_code == 401  # fmt: skip
        page = client.get("/ui/", cookies={"releasegate_session": world.tokens["revoked"] or ""})
        assert page.status_code == 303
    CHECKED.extend(["revoked api after cache", "revoked ui after cache"])


def _all_rows(database_url: str) -> list[tuple[str, str]]:
    """(table, text of the row) for every row of every table in the public schema."""
    rows: list[tuple[str, str]] = []
    with psycopg.connect(database_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            for (text,) in conn.execute(f'SELECT t::text FROM "{table}" AS t'):
                rows.append((table, text))
    return rows


def test_tokens_are_stored_only_as_hashes(world: World) -> None:
    raw_tokens = {name: t for name, t in world.tokens.items() if t and name != "wrong"}
    url = world.gate.env["RELEASEGATE_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        hashes = {r[0] for r in conn.execute("SELECT token_hash FROM api_tokens")}
    for name, raw in raw_tokens.items():
        assert "sha256:" + hashlib.sha256(raw.encode()).hexdigest() in hashes, name
    # No table (tokens, audit trail, scans...) holds a token or a recognizable piece of one.
    for table, text in _all_rows(url):
        for name, raw in raw_tokens.items():
            secret = raw.removeprefix("rg_")
            pieces = {secret[i : i + 12] for i in range(0, len(secret) - 11, 4)}
            assert not any(p in text for p in pieces), f"{name} token found in table {table}"
    logs = world.gate.data_dir.parent / "logs"
    for log in logs.glob("*.log"):
        text = log.read_text(errors="replace")
        for name, raw in raw_tokens.items():
            assert raw not in text, f"{name} token written to {log.name}"
    CHECKED.extend(f"stored only as a hash: {name}" for name in raw_tokens)


# -------------------------------------------------------------------------------------- rate limiting


def test_failed_bearer_authentication_is_rate_limited_per_client(world: World) -> None:
    """30 wrong tokens within a minute from one address: the API starts answering 429, in JSON."""
    statuses = []
    scan = f"/api/v1/scans/{world.scan_id}"
    with client_from(world.gate, address="127.0.42.1") as client:
        assert client.get(scan, headers=auth(world.tokens["read"])).status_code == 200  # now cached as valid
        for i in range(30):
            resp = client.get(scan, headers=auth(f"rg_guess{i:04d}"))
            statuses.append(resp.status_code)
        assert resp.status_code == 429, statuses
        assert resp.json()["error"]["code"] == "rate_limited"
        # A token in use (cached as valid) is not locked out by guessing from the same address.
        assert client.get(scan, headers=auth(world.tokens["read"])).status_code == 200
    first = statuses.index(429)
    assert set(statuses[:first]) == {401} and set(statuses[first:]) == {429}, statuses
    assert first <= 25, f"only limited after {first} failures"
    # Another client is not affected.
    with client_from(world.gate, address="127.0.42.2") as other:
        assert other.get(f"/api/v1/scans/{world.scan_id}", headers=auth("rg_other")).status_code == 401
        assert other.get(f"/api/v1/scans/{world.scan_id}", headers=auth(world.gate.token)).status_code == 200
    CHECKED.append("rate limit bearer")


@pytest.mark.parametrize("via", ["login form", "session cookie"])
def test_failed_dashboard_authentication_is_rate_limited(world: World, via: str) -> None:
    address = "127.0.43.1" if via == "login form" else "127.0.43.2"
    statuses = []
    with client_from(world.gate, address=address) as client:
        for i in range(30):
            guess = f"rg_guess{i:04d}"
            if via == "login form":
                resp = client.post("/ui/login", data={"token": guess, "next": "/ui/"})
            else:
                resp = client.get("/ui/", cookies={"releasegate_session": guess})
            statuses.append(resp.status_code)
    CHECKED.append(f"rate limit {via}")
    assert 429 in statuses, f"30 failed attempts via the {via}, no 429: {sorted(set(statuses))}"
