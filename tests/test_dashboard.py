"""The dashboard on a live API with seeded scans: access control over plain HTTP, then a real
Chromium (Playwright) walking the pages a security lead uses, with hostile finding text on them."""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from scanner.policy.loader import load_policy_set
from tests.conftest import PG_ADMIN_URL, REPO, Gate, start_gate, stop_gate
from tests.support import seed as seeding

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"


@dataclass
class Dashboard:
    gate: Gate
    seeded: seeding.Seeded
    read_token: str
    write_token: str
    policy_dir: Path  # the gate's own copy of the bundled policies: a test may break it for a while

    @property
    def pages(self) -> list[str]:
        """Every dashboard page that needs a login (the catch-all included)."""
        return [
            "/ui/",
            f"/ui/scans/{self.seeded.failing_prod}",
            f"/ui/scans/{self.seeded.failing_prod}?severity=CRITICAL&kind=vulnerability",
            f"/ui/search?q={seeding.SHARED_CVE}",
            "/ui/exceptions",
            "/ui/policies",
            f"/ui/services/{seeding.TREND_CELL[0]}",
            f"/ui/services/{seeding.TREND_CELL[0]}?days=7",
            "/ui/no-such-page",
        ]

    def client(self, cookie: str | None = None) -> httpx.Client:
        cookies = {"releasegate_session": cookie} if cookie else None
        return httpx.Client(base_url=self.gate.url, cookies=cookies, follow_redirects=False, timeout=30)


@pytest.fixture(scope="module")
def dashboard(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str, trivy_cache: Path
) -> Iterator[Dashboard]:
    """A gate of its own (fresh PostgreSQL database, no worker: nothing is scanned), so the overview
    shows exactly the seeded services and no other test's scans change what it asserts."""
    name = f"rg_dash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    tmp = tmp_path_factory.mktemp("dashboard")
    policy_dir = tmp / "policies"
    shutil.copytree(REPO / "policies", policy_dir)
    gate = start_gate(
        tmp,
        database_url=database_url,
        broker_url=redis_url,
        trivy_cache=trivy_cache,
        worker=False,
        policy_dir=policy_dir,
    )
    try:
        seeded = seeding.seed(database_url, data_dir=tmp / "seed")
        yield Dashboard(
            gate=gate,
            seeded=seeded,
            read_token=gate.token_for("read"),
            write_token=gate.token_for("scan:write"),
            policy_dir=policy_dir,
        )
    finally:
        stop_gate(gate)
        from scanner.db import get_engine

        get_engine(database_url).dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def assert_secure_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"].startswith(CSP), response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


# ---------------------------------------------------------------- access, over plain HTTP


def test_without_a_token_every_page_redirects_to_login(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        for page in dashboard.pages:
            resp = client.get(page)
            assert resp.status_code == 303, page
            assert resp.headers["location"].startswith("/ui/login"), page
            assert_secure_headers(resp)
    with dashboard.client(cookie="rg_not-a-real-token") as client:
        for page in dashboard.pages:
            resp = client.get(page)
            assert resp.status_code == 303 and resp.headers["location"].startswith("/ui/login"), page


def test_a_scan_write_token_cannot_read_the_dashboard(dashboard: Dashboard) -> None:
    with dashboard.client(cookie=dashboard.write_token) as client:
        for page in dashboard.pages:
            resp = client.get(page)
            assert resp.status_code == 403, page
            assert_secure_headers(resp)
            assert seeding.CRITICAL_CVE not in resp.text and "payments-api" not in resp.text
    bearer = {"Authorization": f"Bearer {dashboard.write_token}"}
    with httpx.Client(base_url=dashboard.gate.url, headers=bearer, follow_redirects=False) as client:
        resp = client.get("/ui/")
        assert resp.status_code == 403 and "payments-api" not in resp.text
    with dashboard.client() as client:
        resp = client.post("/ui/login", data={"token": dashboard.write_token})
        assert resp.status_code == 403
        assert "read scope" in resp.text
        assert "set-cookie" not in resp.headers


def test_login_refuses_a_wrong_token_with_401(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        resp = client.post("/ui/login", data={"token": "rg_wrong"})
    assert resp.status_code == 401
    assert "unknown or revoked" in resp.text
    assert "set-cookie" not in resp.headers
    assert_secure_headers(resp)


def test_login_sets_a_strict_http_only_cookie_and_logout_clears_it(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        resp = client.post("/ui/login", data={"token": dashboard.read_token, "next": "/ui/exceptions"})
        assert resp.status_code == 303
        assert resp.headers["location"] == "/ui/exceptions"
        cookie = resp.headers["set-cookie"]
        assert cookie.startswith(f"releasegate_session={dashboard.read_token};")
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/" in cookie
        assert client.get("/ui/exceptions").status_code == 200  # the client kept the cookie
        resp = client.post("/ui/logout")
        assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"
        assert (
            'releasegate_session=""' in resp.headers["set-cookie"]
            or "Max-Age=0" in resp.headers["set-cookie"]
        )


def test_logout_by_get_only_offers_the_button(dashboard: Dashboard) -> None:
    with dashboard.client(cookie=dashboard.read_token) as client:
        resp = client.get("/ui/logout")
    assert resp.status_code == 200
    assert "set-cookie" not in resp.headers  # a cross-site link cannot log anyone out
    assert 'method="post" action="/ui/logout"' in resp.text


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/api/v1/x"]
)
def test_login_never_redirects_off_the_dashboard(dashboard: Dashboard, target: str) -> None:
    with dashboard.client() as client:
        resp = client.post("/ui/login", data={"token": dashboard.read_token, "next": target})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/ui/"


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null", "Sec-Fetch-Site": "cross-site"}],
    ids=["foreign-origin", "cross-site-fetch"],
)
def test_cross_site_login_is_refused(dashboard: Dashboard, headers: dict[str, str]) -> None:
    with dashboard.client() as client:
        resp = client.post("/ui/login", data={"token": dashboard.read_token}, headers=headers)
    assert resp.status_code == 403
    assert "set-cookie" not in resp.headers


def test_every_dashboard_response_carries_the_security_headers(dashboard: Dashboard) -> None:
    with dashboard.client(cookie=dashboard.read_token) as client:
        extra = [
            "/ui/login",
            "/ui/scans/does-not-exist",
            "/ui/services/no-such-service",
            "/ui/static/dashboard.css",
        ]
        for page in [*dashboard.pages, *extra]:
            resp = client.get(page)
            assert resp.status_code in (200, 404), (page, resp.status_code)
            assert_secure_headers(resp)
        assert client.get("/ui/no-such-page").status_code == 404
        assert client.get("/ui/scans/does-not-exist").status_code == 404
        assert client.get("/ui/services/no-such-service").status_code == 404
        css = client.get("/ui/static/dashboard.css")
        assert css.headers["content-type"].startswith("text/css")
        assert client.get("/ui/static/..%2Fdashboard.py").status_code in (303, 404)


def test_finding_text_is_escaped_in_the_html(dashboard: Dashboard) -> None:
    with dashboard.client(cookie=dashboard.read_token) as client:
        html = client.get(f"/ui/scans/{dashboard.seeded.failing_prod}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "<script" not in html  # the dashboard ships no script at all


def test_the_trend_pages_escape_what_they_show(dashboard: Dashboard) -> None:
    with dashboard.client(cookie=dashboard.read_token) as client:
        # a service name cannot hold markup (intake refuses it), but the URL can: it is shown as text
        resp = client.get("/ui/services/%3Cscript%3Ealert(3)%3Cb%20title=%22x%22%3E")
        assert resp.status_code == 404
        assert_secure_headers(resp)
        assert "&lt;script&gt;alert(3)&lt;b title=&#34;x&#34;&gt;" in resp.text, resp.text
        assert "<script" not in resp.text and "<b title" not in resp.text
        for page in (f"/ui/services/{seeding.TREND_CELL[0]}", "/ui/"):
            html = client.get(page).text
            assert "<script" not in html and "style=" not in html and "<style" not in html, page
            assert not re.search(r"\son[a-z]+=", html), page  # no event handler attributes anywhere


def test_overview_shows_each_cells_decision(dashboard: Dashboard) -> None:
    expected = {
        ("payments-api", "prod"): "fail",
        ("payments-api", "uat"): "warn",
        ("checkout-web", "prod"): "pass",
        ("checkout-web", "uat"): "pending",
        ("ledger", "prod"): "error",
        ("notifications", "prod"): "stale",
        ("notifications", "uat"): "pass",
    }
    with dashboard.client(cookie=dashboard.read_token) as client:
        html = client.get("/ui/").text
    for (service, env), decision in expected.items():
        assert f'aria-label="{service} in {env}: {decision}"' in html, (service, env)
    assert "newer scan running" in html  # notifications uat


class Charts(HTMLParser):
    """The trend charts of a page: per section id, the counts of SVG elements and the data tables' rows."""

    def __init__(self) -> None:
        super().__init__()
        self.section = ""
        self.elements: dict[str, dict[str, int]] = {}
        self.rows: dict[str, int] = {}
        self.in_tbody = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "section" and (attr.get("id") or "").startswith("env-"):
            self.section = str(attr["id"])
        counts = self.elements.setdefault(self.section, {})
        if tag == "path" and "series" in (attr.get("class") or "").split():
            counts["series"] = counts.get("series", 0) + 1
        if tag in ("svg", "circle"):
            counts[tag] = counts.get(tag, 0) + 1
        self.in_tbody = tag == "tbody" or (self.in_tbody and tag != "table")
        if tag == "tr" and self.in_tbody:
            self.rows[self.section] = self.rows.get(self.section, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_tbody = False


def charts_of(html: str) -> Charts:
    parser = Charts()
    parser.feed(html)
    return parser


SERIES = 4  # CRITICAL, HIGH, MEDIUM, LOW


def test_service_trend_page_draws_the_seeded_history(dashboard: Dashboard) -> None:
    service, env = seeding.TREND_CELL
    scans = len(seeding.HISTORY) + 1  # the older scans and the newest one, all within 30 days
    with dashboard.client(cookie=dashboard.read_token) as client:
        resp = client.get(f"/ui/services/{service}")
        assert resp.status_code == 200
        charts = charts_of(resp.text)
        prod = charts.elements[f"env-{env}"]
        assert prod == {"svg": 1, "circle": SERIES * scans, "series": SERIES}, prod
        assert charts.rows[f"env-{env}"] == scans
        for other in ("dev", "uat"):  # one scan each: dots, no lines
            assert charts.elements[f"env-{other}"] == {"svg": 1, "circle": SERIES}, other
        # the table's newest row is the failing scan, with its counts
        newest = dashboard.seeded.scans[seeding.TREND_CELL]
        assert f'href="/ui/scans/{newest}"' in resp.text
        assert "Findings by severity in payments-api · prod, last 30 days" in resp.text
        # 7 days hold only the two newest older scans
        week = charts_of(client.get(f"/ui/services/{service}?days=7").text).elements[f"env-{env}"]
        recent = 1 + sum(1 for days in seeding.HISTORY if days < 7)
        assert week["circle"] == SERIES * recent
        # a period that is not a number, or too long, falls back to the default or the maximum
        assert "last 30 days" in client.get(f"/ui/services/{service}?days=abc").text
        assert "last 365 days" in client.get(f"/ui/services/{service}?days=100000").text
        assert "last 1 days" in client.get(f"/ui/services/{service}?days=-3").text
        # the overview links every row to its trends and draws a sparkline per finished cell
        html = client.get("/ui/").text
        for name in ("payments-api", "checkout-web", "ledger", "notifications"):
            assert f'<a href="/ui/services/{name}"' in html
        assert html.count('class="sparkline"') == len(dashboard.seeded.scans)
        assert f"{service} in {env}: findings in the last {scans} scan(s) of 30 days" in html


def test_the_policies_page_shows_when_the_set_was_loaded_and_the_last_load_error(
    dashboard: Dashboard,
) -> None:
    loaded = re.compile(r"<dt>Loaded</dt><dd>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)")
    rejected = re.compile(r"The last reload was rejected</strong> at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)")
    broken = dashboard.policy_dir / "uat.yaml"
    original = broken.read_text()

    def policies_page(until: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + 15
        while True:  # the API looks at the files again at most once a second
            html = client.get("/ui/policies").text
            if until(html) or time.monotonic() > deadline:
                return html
            time.sleep(0.2)

    with dashboard.client(cookie=dashboard.read_token) as client:
        html = policies_page(lambda h: "none since it was loaded" in h)
        first = loaded.search(html)
        assert first, html
        assert "The last reload was rejected" not in html
        try:
            broken.write_text(original + "\nrules: [this is not, a rule\n")
            html = policies_page(lambda h: bool(rejected.search(h)))
            error = rejected.search(html)
            assert error, html
            assert error.group(1) >= first.group(1)
            assert "uat.yaml" in html
            assert loaded.search(html).group(1) == first.group(1)  # type: ignore[union-attr]
            assert '<dt>Last load error</dt><dd><span class="error">' + error.group(1) in html
        finally:
            broken.write_text(original)
        html = policies_page(lambda h: "none since it was loaded" in h)
        assert "The last reload was rejected" not in html
        again = loaded.search(html)
        assert again and again.group(1) >= first.group(1)


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """Everything that would show that page content ran as code."""

    dialogs: list[str]
    violations: list[str]
    errors: list[str]

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.violations == [], f"content tried to run and CSP refused it: {self.violations}"
        assert self.errors == [], f"page errors: {self.errors}"


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = Watch(dialogs=[], violations=[], errors=[])

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: watch.violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    yield page, watch
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def login(page: Any, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.gate.url}/ui/")
    assert page.url.endswith("/ui/login")
    page.get_by_label("Token").fill(dashboard.read_token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/ui/$"))


def test_a_security_lead_walks_the_dashboard(dashboard: Dashboard, page: tuple[Any, Watch]) -> None:
    from playwright.sync_api import expect

    browser_page, watch = page
    base = dashboard.gate.url

    # log in: the form, then a wrong token, then the right one
    browser_page.goto(f"{base}/ui/login")
    expect(browser_page.get_by_role("heading", name="Log in")).to_be_visible()
    shot(browser_page, "1-login")
    browser_page.get_by_label("Token").fill("rg_wrong")
    browser_page.get_by_role("button", name="Log in").click()
    expect(browser_page.get_by_role("alert")).to_have_text("That token is unknown or revoked.")
    login(browser_page, dashboard)

    # the overview: every service, a red banner for what prod blocks
    expect(browser_page.get_by_role("heading", name="Services × environments")).to_be_visible()
    banner = browser_page.get_by_role("alert")
    expect(banner).to_contain_text("Blocked in prod")
    expect(banner).to_contain_text("payments-api (fail)")
    expect(banner).to_contain_text("ledger (error)")
    for service in ("payments-api", "checkout-web", "ledger", "notifications"):
        expect(browser_page.get_by_role("rowheader", name=service)).to_be_visible()
    expect(browser_page.get_by_role("link", name="notifications in prod: stale")).to_be_visible()
    shot(browser_page, "2-overview")

    # into the failing prod scan
    browser_page.get_by_role("link", name="payments-api in prod: fail").click()
    browser_page.wait_for_url(re.compile(rf"/ui/scans/{dashboard.seeded.failing_prod}$"))
    expect(browser_page.get_by_role("heading", level=1)).to_contain_text("payments-api in prod")
    expect(browser_page.get_by_role("heading", level=1)).to_contain_text("fail")
    reasons = browser_page.locator("table.reasons")
    expect(reasons).to_contain_text("fixable-high")
    expect(reasons).to_contain_text(seeding.CRITICAL_CVE)
    expect(reasons).to_contain_text("0.31.0")  # the fixed version of the example
    expect(browser_page.get_by_role("link", name="EXC-2026-014")).to_be_visible()
    jobs = browser_page.locator("section", has=browser_page.get_by_role("heading", name="Scanner jobs"))
    for job in ("semgrep", "trivy-fs", "trivy-image"):
        expect(jobs.get_by_role("cell", name=job, exact=True)).to_be_visible()
    for label, suffix in (("SARIF", "report.sarif"), ("JUnit XML", "report.junit.xml")):
        report = f"/api/v1/scans/{dashboard.seeded.failing_prod}/{suffix}"
        expect(browser_page.get_by_role("link", name=label, exact=True)).to_have_attribute("href", report)
    total = 4 + seeding.LOW_FILLER
    expect(browser_page.get_by_role("status")).to_have_text(f"Showing 1–50 of {total} finding(s).")
    shot(browser_page, "3-scan")
    browser_page.get_by_role("link", name="Next →").click()
    expect(browser_page.get_by_role("status")).to_have_text(f"Showing 51–{total} of {total} finding(s).")
    expect(browser_page.locator("table.findings tbody tr").first).to_contain_text("LOW")
    browser_page.get_by_role("link", name="← Previous").click()
    expect(browser_page.get_by_role("status")).to_have_text(f"Showing 1–50 of {total} finding(s).")

    # filter the findings to CRITICAL
    browser_page.get_by_label("CRITICAL", exact=True).check()
    browser_page.get_by_role("button", name="Apply filters").click()
    browser_page.wait_for_url(re.compile(r"severity=CRITICAL"))
    expect(browser_page.get_by_role("status")).to_have_text("Showing 1–1 of 1 finding(s) (filtered).")
    rows = browser_page.locator("table.findings tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("CRITICAL")
    expect(rows.first).to_contain_text(seeding.CRITICAL_CVE)
    expect(rows.first).to_contain_text("golang.org/x/crypto")
    expect(browser_page.get_by_label("CRITICAL", exact=True)).to_be_checked()
    shot(browser_page, "4-scan-critical")

    # search a CVE across services
    search_box = browser_page.get_by_role("search").get_by_role("searchbox")
    search_box.fill(seeding.SHARED_CVE)
    search_box.press("Enter")
    browser_page.wait_for_url(re.compile(rf"/ui/search\?q={seeding.SHARED_CVE}"))
    expect(browser_page.get_by_role("status")).to_have_text(
        f"“{seeding.SHARED_CVE}” is in 2 service environment(s), 2 finding(s)."
    )
    expect(browser_page.get_by_role("link", name="payments-api · prod")).to_be_visible()
    expect(browser_page.get_by_role("link", name="checkout-web · dev")).to_be_visible()
    expect(browser_page.locator("section.hit").first).to_contain_text("openssl")
    shot(browser_page, "5-search")

    # the exceptions page
    browser_page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Exceptions").click()
    browser_page.wait_for_url(re.compile(r"/ui/exceptions$"))
    row = browser_page.locator("tr", has_text="EXC-2026-014")
    expect(row).to_contain_text("security@fintron.example")
    expect(row).to_contain_text("TLS terminates in the mesh sidecar")
    expect(row).to_contain_text("2026-12-31")
    exc = next(e for e in load_policy_set(REPO / "policies").exceptions if e.id == "EXC-2026-014")
    days_left = (exc.expires - datetime.now(UTC).date()).days
    expected_state = "expired" if days_left < 0 else "expiring" if days_left <= 14 else "active"
    expect(row).to_contain_text(expected_state)
    if days_left >= 0:  # while it holds, the failing prod scan's verdict applied it to the openssl CVE
        expect(row).to_contain_text("payments-api · prod: 1 finding(s)")
        covered = f"/ui/scans/{dashboard.seeded.failing_prod}?rule_id={seeding.SHARED_CVE}#findings"
        expect(row.get_by_role("link", name="1 finding(s)")).to_have_attribute("href", covered)
    shot(browser_page, "6-exceptions")

    # the policies page
    browser_page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Policies").click()
    expect(browser_page.get_by_text(load_policy_set(REPO / "policies").digest)).to_be_visible()
    expect(browser_page.locator("#policy-prod")).to_contain_text("fixable-high")
    facts = browser_page.locator("dl.facts")
    expect(facts).to_contain_text(re.compile(r"Loaded\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
    expect(facts).to_contain_text("Last load error")
    shot(browser_page, "7-policies")

    # a service's trends, from its row on the overview
    service, env = seeding.TREND_CELL
    scans = len(seeding.HISTORY) + 1
    browser_page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Overview").click()
    browser_page.get_by_role("rowheader", name=service).get_by_role("link").click()
    browser_page.wait_for_url(re.compile(rf"/ui/services/{service}$"))
    expect(browser_page.get_by_role("heading", level=1)).to_have_text(f"{service} trends")
    section = browser_page.locator(f"section#env-{env}")
    chart = section.get_by_role("img", name=f"Findings by severity in {service} · {env}, last 30 days")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(SERIES * scans)
    expect(chart.locator("path.series")).to_have_count(SERIES)
    expect(chart.locator("a.point")).to_have_count(scans)
    expect(chart).to_contain_text("scan time (UTC)")  # the axis labels
    expect(chart).to_contain_text("findings")
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100, box  # drawn at size: the stylesheet applies
    table = section.locator("table.trend-table")
    expect(table).to_be_hidden()  # the text fallback is one click away
    section.get_by_text(f"Data table for {env}").click()
    expect(table.locator("tbody tr")).to_have_count(scans)
    expect(table.locator("tbody tr").first).to_contain_text(dashboard.seeded.scans[seeding.TREND_CELL][:12])
    shot(browser_page, "9-trends")
    # a dot is a link to its scan
    chart.locator("a.point").last.locator("circle.dot-low").click()  # LOW: the one dot not under another
    browser_page.wait_for_url(re.compile(rf"/ui/scans/{dashboard.seeded.failing_prod}$"))

    watch.assert_clean()


def test_hostile_finding_text_shows_as_text_and_never_runs(
    dashboard: Dashboard, page: tuple[Any, Watch]
) -> None:
    from playwright.sync_api import expect

    browser_page, watch = page
    login(browser_page, dashboard)
    browser_page.goto(f"{dashboard.gate.url}/ui/scans/{dashboard.seeded.failing_prod}")
    findings = browser_page.locator("table.findings")
    expect(findings.get_by_text(seeding.XSS_CODE_TITLE, exact=True)).to_be_visible()
    expect(findings.get_by_text(seeding.XSS_TRIVY_TITLE, exact=True)).to_be_visible()
    # in the verdict's examples too
    expect(
        browser_page.locator("table.reasons").get_by_text(seeding.XSS_CODE_TITLE, exact=True)
    ).to_be_visible()
    # nothing of the payloads became elements, and no script of any kind is on the page
    assert browser_page.locator("img[src='x']").count() == 0
    assert browser_page.locator("script").count() == 0
    browser_page.goto(f"{dashboard.gate.url}/ui/search?q=python.flask.security.xss.direct-use-of-jinja2")
    expect(browser_page.get_by_text(seeding.XSS_CODE_TITLE, exact=True).first).to_be_visible()
    shot(browser_page, "8-hostile-text")
    # the trend page of the service with the hostile findings, and a hostile service name in its URL
    browser_page.goto(f"{dashboard.gate.url}/ui/services/{seeding.TREND_CELL[0]}")
    expect(browser_page.locator("svg.trend").first).to_be_visible()
    assert browser_page.locator("script").count() == 0
    browser_page.goto(f"{dashboard.gate.url}/ui/services/%3Cimg%20src%3Dx%20onerror%3Dalert(4)%3E")
    expect(browser_page.get_by_text("no scans of service '<img src=x onerror=alert(4)>'")).to_be_visible()
    assert browser_page.locator("img[src='x']").count() == 0
    watch.assert_clean()
