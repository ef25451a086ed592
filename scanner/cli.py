"""The `releasegate` command: a client of the API (scan, check, bind), an offline judge (evaluate,
policy), and the server side (serve, worker, dev, token). Only this module turns outcomes into exit
codes: 0 pass/warn or ok, 1 a non-passing decision or problems, 2 usage, connection or server error.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer

from scanner.config import Settings, get_settings
from scanner.policy.result import Decision
from scanner.reports.text import render_verdict

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="releasegate: the security gate.",
)
policy_app = typer.Typer(no_args_is_help=True, help="Lint, test and compare policy sets.")
token_app = typer.Typer(no_args_is_help=True, help="Manage API tokens (server side).")
app.add_typer(policy_app, name="policy")
app.add_typer(token_app, name="token")

EXIT_OK, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


class CliError(Exception):
    """A usage, connection or server error: exit code 2."""


def _die(message: str, code: int = EXIT_ERROR) -> NoReturn:
    typer.echo(f"releasegate: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    return get_settings()


def _client(settings: Settings, timeout: float = 60.0) -> httpx.Client:
    headers = {"User-Agent": "releasegate-cli"}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    return httpx.Client(base_url=settings.url.rstrip("/"), headers=headers, timeout=timeout)


def _api_error(resp: httpx.Response) -> str:
    try:
        err = resp.json()["error"]
        return f"HTTP {resp.status_code} {err.get('code')}: {err.get('message')}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {resp.status_code}: {resp.text[:300]}"


def _is_tty() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


def _emit(doc: dict[str, Any], fmt: str, output: Path | None, report: str | None = None) -> None:
    """Print (or write) the verdict; `report` is the SARIF or JUnit text when one was asked for."""
    if fmt == "json":
        text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    elif fmt == "text":
        text = render_verdict(doc)
    else:
        assert report is not None
        text = report if report.endswith("\n") else report + "\n"
    if output:
        output.write_text(text, "utf-8")
        if fmt != "text":
            typer.echo(render_verdict(doc), nl=False)
    else:
        typer.echo(text, nl=False)


FormatOpt = Annotated[str, typer.Option("--format", help="text, json, sarif or junit")]
FORMATS = ("text", "json", "sarif", "junit")


# ---------------------------------------------------------------- scan


def tar_source(directory: Path) -> Path:
    """A deterministic tar.gz of a source folder: the same tree always has the same digest."""
    fd, name = tempfile.mkstemp(prefix="releasegate-src-", suffix=".tar.gz")
    os.close(fd)
    out = Path(name)

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if info.isdev() or info.isfifo():
            return None
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    import gzip

    # no file name and no time in the gzip header: those would change the digest of the same tree
    with out.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for root, dirs, files in os.walk(directory):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                for fname in sorted(files):
                    full = Path(root) / fname
                    tar.add(full, arcname=str(full.relative_to(directory)), recursive=False, filter=clean)
    return out


@app.command()
def scan(
    service: Annotated[str, typer.Option(help="the service, e.g. backend")],
    environment: Annotated[str, typer.Option(help="dev, uat, prod, ...")],
    image: Annotated[str | None, typer.Option(help="a registry reference, best pinned by digest")] = None,
    image_tar: Annotated[Path | None, typer.Option(help="a docker-archive or OCI tar", exists=True)] = None,
    source: Annotated[Path | None, typer.Option(help="a source folder", exists=True, file_okay=False)] = None,
    commit: Annotated[str | None, typer.Option(help="the commit being shipped")] = None,
    wait: Annotated[bool, typer.Option(help="wait for the verdict")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait")] = 1800.0,
    force: Annotated[bool, typer.Option(help="scan again even if an identical scan is fresh")] = False,
    fmt: FormatOpt = "text",
    output: Annotated[Path | None, typer.Option(help="write the report here")] = None,
) -> None:
    """Send an image and/or source tree to the gate; with --wait, exit with the verdict."""
    if fmt not in FORMATS:
        _die(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if image and image_tar:
        _die("give --image or --image-tar, not both")
    if not (image or image_tar or source):
        _die("nothing to scan: give --image, --image-tar and/or --source")
    settings = _settings()
    source_tar = tar_source(source) if source else None
    try:
        with _client(settings, timeout=600) as client:
            try:
                resp = _submit(client, service, environment, image, image_tar, source_tar, commit, force)
            except httpx.HTTPError as exc:
                _die(f"cannot reach the gate at {settings.url}: {exc}")
            if resp.status_code not in (200, 202):
                _die(_api_error(resp))
            body = resp.json()
            scan_id = body["scan_id"]
            if not wait:
                typer.echo(f"scan {scan_id} {body['status']}{' (reused)' if body.get('reused') else ''}")
                return
            final = _wait_for_scan(client, scan_id, timeout)
            report = None
            if fmt in ("sarif", "junit"):
                name = "report.sarif" if fmt == "sarif" else "report.junit.xml"
                resp = client.get(f"/api/v1/scans/{scan_id}/{name}")
                if resp.status_code != 200:
                    _die(_api_error(resp))
                report = resp.text
    finally:
        if source_tar:
            source_tar.unlink(missing_ok=True)
    verdict = final.get("verdict") or {"decision": "error", "detail": final.get("error") or "no verdict"}
    verdict.setdefault("scan_id", scan_id)
    _emit(verdict, fmt, output, report)
    raise typer.Exit(Decision(verdict["decision"]).exit_code)


def _submit(
    client: httpx.Client,
    service: str,
    environment: str,
    image: str | None,
    image_tar: Path | None,
    source_tar: Path | None,
    commit: str | None,
    force: bool,
) -> httpx.Response:
    if not image_tar and not source_tar:
        payload = {
            "service": service,
            "environment": environment,
            "image": image,
            "commit": commit,
            "force": force,
        }
        return client.post("/api/v1/scans", json=payload)
    data = {"service": service, "environment": environment, "force": "true" if force else "false"}
    if commit:
        data["commit"] = commit
    if image:
        data["image"] = image
    files: dict[str, tuple[str, io.BufferedReader, str]] = {}
    try:
        if image_tar:
            files["image_tar"] = (image_tar.name, image_tar.open("rb"), "application/x-tar")
        if source_tar:
            files["source_tar"] = ("source.tar.gz", source_tar.open("rb"), "application/gzip")
        return client.post("/api/v1/scans", data=data, files=files)
    finally:
        for _, handle, _ in files.values():
            handle.close()


def _wait_for_scan(client: httpx.Client, scan_id: str, timeout: float) -> dict[str, Any]:
    """Long-poll the scan until it has a verdict: the server answers as soon as it is stored."""
    deadline = time.monotonic() + timeout
    tty = _is_tty()
    errors = 0
    while True:
        # short holds on a terminal, to show progress; long ones in CI
        hold = max(0.0, min(2.0 if tty else 20.0, deadline - time.monotonic()))
        try:
            resp = client.get(f"/api/v1/scans/{scan_id}", params={"wait": f"{hold:.1f}"})
        except httpx.HTTPError as exc:
            errors += 1
            if errors > 5:
                _die(f"lost the gate while waiting: {exc}")
            time.sleep(min(2.0**errors / 4, 5.0))
            continue
        if resp.status_code in (502, 503, 504):  # a restarting API or database: wait it out
            errors += 1
            if errors > 10:
                _die(_api_error(resp))
            time.sleep(min(2.0**errors / 4, 5.0))
            continue
        if resp.status_code != 200:
            _die(_api_error(resp))
        errors = 0
        body: dict[str, Any] = resp.json()
        if body["status"] in ("done", "error") and body.get("verdict"):
            if tty:
                typer.echo("", err=True)
            return body
        if tty:
            jobs = " ".join(f"{j['name']}:{j['status']}" for j in body.get("jobs", []))
            typer.echo(f"\r  waiting for scan {scan_id[:12]}  {jobs}   ", err=True, nl=False)
        if time.monotonic() >= deadline:
            _die(f"scan {scan_id} did not finish within {timeout:.0f}s")


# ---------------------------------------------------------------- check (the PreSync hook)


@app.command()
def check(
    image: Annotated[str, typer.Option(help="REF@sha256:... or sha256:...")],
    environment: Annotated[str, typer.Option()],
    wait: Annotated[float, typer.Option(help="seconds to wait while the verdict is pending")] = 0.0,
    retries: Annotated[int, typer.Option(help="attempts when the gate cannot be reached")] = 5,
    fail_open: Annotated[
        bool, typer.Option("--fail-open", help="DEV ONLY: let images through when the gate is down")
    ] = False,
    fmt: FormatOpt = "text",
) -> None:
    """Ask the gate for an image's verdict: exit 0 pass/warn, 1 anything else, 2 gate unreachable."""
    if fmt not in ("text", "json"):
        _die(f"check prints text or json, not {fmt!r}")
    if "@" not in image and not image.startswith("sha256:"):
        _die("--image must be pinned by digest (REF@sha256:... or sha256:...): a tag can move")
    settings = _settings()
    deadline = time.monotonic() + wait
    with _client(settings, timeout=15) as client:
        while True:
            doc = _verdict_with_retries(client, image, environment, retries, fail_open)
            if doc["decision"] != Decision.PENDING or time.monotonic() >= deadline:
                break
            time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    _emit(doc, fmt, None)
    raise typer.Exit(Decision(doc["decision"]).exit_code)


def _verdict_with_retries(
    client: httpx.Client, image: str, environment: str, retries: int, fail_open: bool
) -> dict[str, Any]:
    last = ""
    for attempt in range(max(1, retries)):
        try:
            resp = client.get("/api/v1/verdicts", params={"image": image, "environment": environment})
            if resp.status_code == 200:
                doc: dict[str, Any] = resp.json()
                return doc
            if resp.status_code < 500:
                _die(_api_error(resp))  # a client error will not fix itself by retrying
            last = _api_error(resp)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        if attempt + 1 < retries:
            time.sleep(min(0.5 * 2**attempt, 8.0))
    if fail_open:
        _fail_open(image, environment, last)
    _die(f"gate unreachable after {retries} attempts ({last}): failing closed")


def _fail_open(image: str, environment: str, cause: str) -> NoReturn:
    """Let the image through only where the environment's policy allows it, loudly and on record."""
    from scanner.policy.loader import PolicyNotFoundError, PolicySetError, load_policy_set

    try:
        allowed = load_policy_set(_settings().policy_dir).policy_for(environment).allow_fail_open
    except (PolicySetError, PolicyNotFoundError) as exc:
        _die(f"gate unreachable ({cause}) and --fail-open cannot be checked against the policies: {exc}")
    if not allowed:
        _die(
            f"gate unreachable ({cause}); --fail-open is not allowed for {environment!r} by its policy: "
            "failing closed"
        )
    typer.echo(
        "releasegate: WARNING: THE GATE IS UNREACHABLE AND --fail-open IS SET: LETTING THE IMAGE THROUGH "
        f"UNCHECKED ({environment!r} allows it). NEVER USE --fail-open OUTSIDE DEV.",
        err=True,
    )
    # The gate cannot record this (it is down): the hook's log is the audit record.
    record = {
        "audit": "fail-open",
        "at": datetime.now(UTC).isoformat(),
        "actor": _local_actor(),
        "image": image,
        "environment": environment,
        "cause": cause,
    }
    typer.echo(json.dumps(record), err=True)
    raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- evaluate (offline)


@app.command()
def evaluate(
    report: Annotated[
        list[Path], typer.Option(help="Trivy or Semgrep JSON report (repeatable)", exists=True)
    ],
    environment: Annotated[str, typer.Option()],
    service: Annotated[str | None, typer.Option()] = None,
    policies: Annotated[Path | None, typer.Option(help="policy folder (default: the configured one)")] = None,
    fmt: FormatOpt = "text",
    output: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Judge reports produced elsewhere against a policy set, without a server."""
    from scanner import offline
    from scanner.policy.loader import PolicyNotFoundError, PolicySetError

    if fmt not in FORMATS:
        _die(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    try:
        doc, findings = offline.evaluate_reports(
            report,
            policy_dir=policies or _settings().policy_dir,
            environment=environment,
            service=service,
            now=datetime.now(UTC),
        )
    except (offline.UnreadableReportError, PolicyNotFoundError) as exc:
        _die(str(exc))
    except PolicySetError as exc:
        _die("invalid policy set:\n  " + "\n  ".join(str(p) for p in exc.problems))
    text = None
    if fmt == "sarif":
        from scanner.reports.sarif import to_sarif

        text = json.dumps(to_sarif(findings, doc), indent=2)
    elif fmt == "junit":
        from scanner.reports.junit import to_junit

        text = to_junit(findings, doc)
    _emit(doc, fmt, output, text)
    raise typer.Exit(Decision(doc["decision"]).exit_code)


# ---------------------------------------------------------------- policy


@policy_app.command("lint")
def policy_lint(directory: Annotated[Path | None, typer.Argument()] = None) -> None:
    """Validate a policy set: every problem as file:line: message."""
    from scanner.policy.lint import lint

    problems, warnings = lint(directory or _settings().policy_dir, today=datetime.now(UTC).date())
    for w in warnings:
        typer.echo(f"warning: {w}")
    for p in problems:
        typer.echo(str(p))
    if problems:
        raise typer.Exit(EXIT_FAIL)
    typer.echo("policy set ok")


@policy_app.command("test")
def policy_test(directory: Annotated[Path | None, typer.Argument()] = None) -> None:
    """Run the policy test cases (DIR/tests/*.yaml): findings in, expected decision out."""
    from scanner.policy.cases import load_cases, run_case
    from scanner.policy.loader import PolicySetError, load_policy_set

    folder = directory or _settings().policy_dir
    try:
        policy_set = load_policy_set(folder)
    except PolicySetError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        raise typer.Exit(EXIT_FAIL) from None
    cases, problems = load_cases(folder / "tests")
    for problem in problems:
        typer.echo(str(problem))
    if not cases and not problems:
        _die(f"no test cases under {folder / 'tests'}", EXIT_FAIL)
    now = datetime.now(UTC)
    failed = 0
    for file, case in cases:
        result = run_case(policy_set, case, file=file, default_now=now)
        if not result.ok:
            failed += 1
            typer.echo(f"FAIL {file}: {case.name}: {result.message}")
    typer.echo(f"{len(cases) - failed}/{len(cases)} policy test cases passed ({policy_set.digest})")
    if failed or problems:
        raise typer.Exit(EXIT_FAIL)


@policy_app.command("diff")
def policy_diff(
    base: Annotated[str, typer.Option(help="the git ref to compare with, e.g. origin/main")],
    directory: Annotated[Path | None, typer.Argument()] = None,
    days: Annotated[int, typer.Option(help="how far back to look for stored verdicts")] = 7,
) -> None:
    """Which recent verdicts would change from the policies at BASE to the working tree's (server side:
    reads the configured database). Exit 1 when any would change, so CI can flag the pull request."""
    from scanner import policydiff
    from scanner.db import session_scope
    from scanner.policy.loader import PolicySetError, load_policy_set

    folder = directory or _settings().policy_dir
    try:
        base_set = policydiff.policy_set_at(base, folder)
        head_set = load_policy_set(folder)
    except policydiff.GitError as exc:
        _die(f"git: {exc}")
    except PolicySetError as exc:
        for problem in exc.problems:
            typer.echo(str(problem))
        raise typer.Exit(EXIT_FAIL) from None
    settings = _migrated()
    with session_scope(settings.resolved_database_url) as session:
        changes = policydiff.diff(
            session=session, base=base_set, head=head_set, now=datetime.now(UTC), days=days
        )
    for c in changes:
        typer.echo(
            f"{c.service}\t{c.environment}\t{c.scan_id}\t{c.before} -> {c.after}\t"
            f"[{', '.join(c.rules_before) or '-'}] -> [{', '.join(c.rules_after) or '-'}]"
        )
    same = " (same digest)" if base_set.digest == head_set.digest else ""
    typer.echo(f"{len(changes)} verdict(s) would change; {base_set.digest} -> {head_set.digest}{same}")
    if changes:
        raise typer.Exit(EXIT_FAIL)


# ---------------------------------------------------------------- bind, last-good


@app.command()
def bind(
    scan_id: Annotated[str, typer.Option("--scan", help="the scan id")],
    digest: Annotated[str, typer.Option(help="the manifest digest a push produced")],
) -> None:
    """Bind a registry manifest digest to a scanned image."""
    settings = _settings()
    try:
        with _client(settings) as client:
            resp = client.post(f"/api/v1/scans/{scan_id}/digests", json={"digest": digest})
    except httpx.HTTPError as exc:
        _die(f"cannot reach the gate at {settings.url}: {exc}")
    if resp.status_code != 200:
        _die(_api_error(resp))
    typer.echo(" ".join(resp.json()["digests"]))


@app.command("last-good")
def last_good(
    service: Annotated[str, typer.Option()],
    environment: Annotated[str, typer.Option()],
) -> None:
    """Print the last image digest that passed in an environment: the rollback target."""
    settings = _settings()
    try:
        with _client(settings) as client:
            resp = client.get(f"/api/v1/services/{service}/last-good", params={"environment": environment})
    except httpx.HTTPError as exc:
        _die(f"cannot reach the gate at {settings.url}: {exc}")
    if resp.status_code == 404:
        _die(_api_error(resp), EXIT_FAIL)
    if resp.status_code != 200:
        _die(_api_error(resp))
    body = resp.json()
    # A digest an overlay can pin must be one the registry serves: prefer a bound manifest digest.
    registry_digests = body.get("registry_digests") or []
    if registry_digests:
        typer.echo(registry_digests[0])
    else:
        typer.echo(
            "releasegate: warning: no registry digest is bound to that scan (releasegate bind); "
            "printing the image's config digest",
            err=True,
        )
        typer.echo(body["image_digest"] or body["image_ref"])
    if body.get("stale"):
        typer.echo("releasegate: warning: its verdict is stale: scan it again before syncing", err=True)


# ---------------------------------------------------------------- tokens (server side)


def _migrated() -> Settings:
    from scanner.db import migrate

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        migrate(settings.resolved_database_url)
    except Exception as exc:  # any database failure is reported, not traced
        _die(f"cannot open the database: {type(exc).__name__}: {exc}")
    return settings


@token_app.command("create")
def token_create(
    scope: Annotated[list[str], typer.Option(help="scan:write, verdict:read, read, admin (repeatable)")],
    name: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a token; prints it alone on stdout (only its hash is stored)."""
    from scanner import store
    from scanner.db import session_scope

    settings = _migrated()
    try:
        with session_scope(settings.resolved_database_url) as session:
            raw = store.create_token(session=session, scopes=scope, name=name)
            store.audit(
                session=session,
                actor=_local_actor(),
                action="token-create",
                subject=name,
                detail={"scopes": sorted(set(scope))},
            )
    except ValueError as exc:
        _die(str(exc))
    typer.echo(raw)


@token_app.command("list")
def token_list() -> None:
    from scanner import store
    from scanner.db import session_scope

    settings = _migrated()
    with session_scope(settings.resolved_database_url) as session:
        for t in store.list_tokens(session=session):
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            typer.echo(f"{t.id}\t{t.name or '-'}\t{t.scopes}\t{t.created_at:%Y-%m-%d}\t{state}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="the id shown by `token list`")]) -> None:
    from scanner import store
    from scanner.db import session_scope

    settings = _migrated()
    with session_scope(settings.resolved_database_url) as session:
        if not store.revoke_token(session=session, token_id=token_id):
            _die(f"no active token with id {token_id}")
        store.audit(session=session, actor=_local_actor(), action="token-revoke", subject=str(token_id))
    typer.echo(f"revoked {token_id}")


def _local_actor() -> str:
    import getpass
    import socket

    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


@app.command("audit")
def audit_list(
    limit: Annotated[int, typer.Option(help="how many events, newest first")] = 50,
    action: Annotated[str | None, typer.Option(help="verdict, scan, token-create, token-revoke")] = None,
    fmt: FormatOpt = "text",
) -> None:
    """List the audit trail (server side: reads the configured database)."""
    from scanner import store
    from scanner.db import session_scope

    settings = _migrated()
    with session_scope(settings.resolved_database_url) as session:
        events = store.audit_events(session=session, limit=limit, action=action)
    rows: list[dict[str, Any]] = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "detail": e.detail,
        }
        for e in events
    ]
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    from scanner.reports.text import clean

    for r in rows:
        detail = " ".join(f"{k}={v}" for k, v in sorted(r["detail"].items()))
        typer.echo(
            f"{r['at']}\t{clean(r['actor'])}\t{r['action']}\t{clean(r['subject'])}\t{clean(detail, 300)}"
        )


# ---------------------------------------------------------------- server side


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Run the API."""
    import uvicorn

    from scanner.api.app import create_app

    settings = _migrated()
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option()] = None,
    beat: Annotated[bool, typer.Option(help="also run the periodic reaper (one per deployment)")] = False,
) -> None:
    """Run a Celery worker (scanner jobs run in parallel, one per slot)."""
    settings = _migrated()
    from workers.app import app as celery_app

    extra = ["--beat"] if beat else []
    celery_app.worker_main(
        [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency or settings.worker_concurrency}",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"releasegate-{os.getpid()}@%h",
            *extra,
        ]
    )


@app.command()
def beat() -> None:
    """Run Celery beat: it schedules the reaper (run exactly one per deployment)."""
    settings = _migrated()
    from workers.app import app as celery_app

    celery_app.start(
        ["beat", "--loglevel=INFO", "-s", str((settings.data_dir / "celerybeat-schedule").resolve())]
    )


@app.command()
def dev(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """API + worker on embedded defaults (SQLite, filesystem broker, bundled policies), in one command."""
    settings = _migrated()
    from scanner import store
    from scanner.db import session_scope

    with session_scope(settings.resolved_database_url) as session:
        token = store.create_token(session=session, scopes=["admin"], name="dev admin")
    worker_proc = subprocess.Popen(
        [sys.executable, "-m", "scanner.cli", "worker", "--beat"], env=os.environ.copy()
    )
    url = f"http://{host}:{port}"
    typer.echo(
        f"\nreleasegate is starting on {url}\n"
        f"  API docs:   {url}/docs\n"
        f"  dashboard:  {url}/ui/login  (log in with the admin token below)\n"
        f"  database:   {settings.resolved_database_url}\n"
        f"  broker:     {settings.resolved_broker_url}\n"
        f"  policies:   {settings.policy_dir}\n"
        f"  admin token (shown once): {token}\n"
        f"  try: RELEASEGATE_URL={url} RELEASEGATE_TOKEN={token} releasegate scan --service backend "
        f"--environment dev --source examples/backend --wait\n"
    )
    import uvicorn

    from scanner.api.app import create_app

    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)
    finally:
        worker_proc.send_signal(signal.SIGTERM)
        try:
            worker_proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker_proc.kill()


def main() -> None:
    try:
        app(prog_name="releasegate")
    except Exception as exc:  # an unexpected crash must not read as "fail" (1): it is an error (2)
        print(f"releasegate: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
