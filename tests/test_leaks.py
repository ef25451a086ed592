"""No leaks: an image archive and a source tree carrying 10 planted, distinct secrets that Trivy detects
are scanned through the live gate; afterwards no secret's text, nor any 12-character piece of it,
appears in any table of the database, the gate's logs, the API's responses (scan, findings, verdict,
dry run, SARIF, JUnit, metrics), the CLI's reports or the dashboard's HTML.

The secrets are generated per run (never written into the repository) in the formats of Trivy's
built-in rules. The value-only part of each is what must not leak: a Slack webhook's
`https://hooks.slack.com/services/` prefix or a PEM's BEGIN line are not secret, its random part is.
Figure: "leaked secrets found N" (must be 0).
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.conftest import BIN, Gate
from tests.support import figures, images

pytestmark = pytest.mark.slow

WINDOW = 12  # a leak of any 12 consecutive characters of a secret's random part counts
ALNUM = string.ascii_letters + string.digits
BASE32 = string.ascii_uppercase + "234567"


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Planted:
    rule_id: str  # Trivy's built-in rule that detects it
    text: str  # the whole value as planted
    secret: str  # the part that must never appear anywhere


def plant_secrets() -> list[Planted]:
    aws_id = "AKIA" + _random(BASE32, 16)
    aws_secret = _random(ALNUM + "/+", 40)
    ghp = "ghp_" + _random(ALNUM, 36)
    slack = f"xoxb-{_random(string.digits, 12)}-{_random(string.digits, 12)}-{_random(ALNUM, 24)}"
    hook_path = f"T{_random(BASE32[:26], 8)}/B{_random(BASE32[:26], 8)}/{_random(ALNUM, 24)}"
    stripe = "sk_live_" + _random(ALNUM, 24)
    gitlab = "glpat-" + _random(ALNUM, 20)
    npm = "npm_" + _random(string.ascii_lowercase + string.digits, 36)
    sendgrid = f"SG.{_random(ALNUM, 22)}.{_random(ALNUM, 43)}"
    body = base64.b64encode(secrets.token_bytes(600)).decode()
    pem_lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(pem_lines) + "\n-----END RSA PRIVATE KEY-----\n"
    return [
        Planted("aws-access-key-id", aws_id, aws_id),
        Planted("aws-secret-access-key", aws_secret, aws_secret),
        Planted("github-pat", ghp, ghp),
        Planted("slack-access-token", slack, slack),
        Planted("slack-web-hook", "https://hooks.slack.com/services/" + hook_path, hook_path),
        Planted("stripe-secret-token", stripe, stripe),
        Planted("gitlab-pat", gitlab, gitlab),
        Planted("npm-access-token", npm, npm),
        Planted("sendgrid-api-token", sendgrid, sendgrid),
        Planted("private-key", pem, "\n".join(pem_lines)),
    ]


def planted_files(planted: list[Planted]) -> dict[str, str]:
    by_rule = {p.rule_id: p.text for p in planted}
    settings = "\n".join(
        [
            '"""Production settings (do not commit)."""',
            "",
            f'AWS_ACCESS_KEY_ID = "{by_rule["aws-access-key-id"]}"',
            f'aws_secret_access_key = "{by_rule["aws-secret-access-key"]}"',
            f'GITHUB_TOKEN = "{by_rule["github-pat"]}"',
            f'SLACK_BOT_TOKEN = "{by_rule["slack-access-token"]}"',
            f'SLACK_WEBHOOK = "{by_rule["slack-web-hook"]}"',
            f'STRIPE_SECRET_KEY = "{by_rule["stripe-secret-token"]}"',
            f'NPM_TOKEN = "{by_rule["npm-access-token"]}"',
            "",
        ]
    )
    ci = "\n".join(
        [
            "deploy:",
            "  variables:",
            f"    GITLAB_TOKEN: {by_rule['gitlab-pat']}",
            f"    SENDGRID_API_KEY: {by_rule['sendgrid-api-token']}",
            "",
        ]
    )
    return {
        "app/settings.py": settings,
        "app/.gitlab-ci.yml": ci,
        "app/keys/deploy.pem": by_rule["private-key"],
    }


def windows(planted: list[Planted]) -> dict[str, str]:
    """Every WINDOW-character piece of every secret (per line for multi-line ones) -> its rule."""
    pieces: dict[str, str] = {}
    for p in planted:
        for line in p.secret.splitlines():
            for i in range(len(line) - WINDOW + 1):
                pieces[line[i : i + WINDOW]] = p.rule_id
    return pieces


def leaks_in(text: str, pieces: dict[str, str]) -> set[str]:
    """The rules whose secrets have a piece in `text` (one pass over the text)."""
    found: set[str] = set()
    for i in range(len(text) - WINDOW + 1):
        rule = pieces.get(text[i : i + WINDOW])
        if rule is not None:
            found.add(rule)
    return found


@pytest.fixture(scope="module")
def planted() -> list[Planted]:
    return plant_secrets()


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory: pytest.TempPathFactory, planted: list[Planted]) -> Path:
    root = tmp_path_factory.mktemp("leaky-source")
    for rel, content in planted_files(planted).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    (root / "app" / "main.py").write_text("from app import settings\nprint(settings.__name__)\n")
    return root


def test_trivy_detects_every_planted_secret(
    source_tree: Path, planted: list[Planted], tmp_path: Path, trivy_cache: Path
) -> None:
    """The premise: the real Trivy finds all ten, so a missing leak is not a missing finding."""
    result = subprocess.run(
        [
            str(BIN / "trivy"),
            "fs",
            "--scanners",
            "secret",
            "--format",
            "json",
            "--cache-dir",
            str(trivy_cache),
            "--skip-db-update",
            "--offline-scan",
            "--quiet",
            str(source_tree),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = {
        s["RuleID"] for r in json.loads(result.stdout).get("Results", []) for s in r.get("Secrets") or []
    }
    assert found >= {p.rule_id for p in planted}, sorted({p.rule_id for p in planted} - found)


def _all_rows(database_url: str) -> dict[str, str]:
    """table -> the text of all its rows."""
    dump: dict[str, str] = {}
    with psycopg.connect(database_url) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ]
        for table in tables:
            dump[table] = "\n".join(r[0] for r in conn.execute(f'SELECT t::text FROM "{table}" AS t'))
    return dump


def test_no_planted_secret_leaks_anywhere(
    gate: Gate, planted: list[Planted], source_tree: Path, tmp_path: Path
) -> None:
    rootfs = images.merge_rootfs(
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl")]), planted_files(planted)
    )
    image = images.build_image(rootfs, tmp_path / "leaky.tar", tag="leaky:1")
    scan_args = [
        "scan",
        "--service",
        "leaky",
        "--environment",
        "dev",
        "--image-tar",
        str(image.path),
        "--source",
        str(source_tree),
        "--wait",
        "--timeout",
        "240",
    ]
    first = gate.cli(*scan_args, "--format", "json", timeout=300)
    assert first.returncode in (0, 1), first.stderr
    scan_id = json.loads(first.stdout)["scan_id"]

    places: dict[str, str] = {"cli json": first.stdout + first.stderr}
    for fmt in ("text", "sarif", "junit"):  # identical requests: answered from the stored scan
        again = gate.cli(*scan_args, "--format", fmt, timeout=300)
        places[f"cli {fmt}"] = again.stdout + again.stderr

    with gate.client() as client:
        api = f"/api/v1/scans/{scan_id}"
        findings = client.get(f"{api}/findings", params={"limit": 1000})
        assert findings.status_code == 200
        places["api findings"] = findings.text
        rules = {f["rule_id"] for f in findings.json()["findings"] if f["kind"] == "secret"}
        assert rules >= {p.rule_id for p in planted}, (
            f"the gate missed {sorted({p.rule_id for p in planted} - rules)}"
        )
        for name, path, params in [
            ("api scan", api, None),
            ("api findings (secrets)", f"{api}/findings", {"kind": "secret"}),
            ("api verdict", "/api/v1/verdicts", {"scan": scan_id, "environment": "dev"}),
            ("api sarif", f"{api}/report.sarif", None),
            ("api junit", f"{api}/report.junit.xml", None),
            ("api metrics", "/metrics", None),
            ("api last-good", "/api/v1/services/leaky/last-good", {"environment": "dev"}),
        ]:
            places[name] = client.get(path, params=params).text
        places["api dry run"] = client.post("/api/v1/policies/evaluate", json={"scan_id": scan_id}).text
        cookie = {"releasegate_session": gate.token}
        for name, path, params in [
            ("ui scan", f"/ui/scans/{scan_id}", {"per_page": 200}),
            ("ui scan (secrets)", f"/ui/scans/{scan_id}", {"kind": "secret", "per_page": 200}),
            ("ui overview", "/ui/", None),
            ("ui search", "/ui/search", {"q": "aws-access-key-id"}),
            ("ui service", "/ui/services/leaky", None),
        ]:
            resp = client.get(path, params=params, cookies=cookie)
            assert resp.status_code in (200, 404), (path, resp.status_code)
            places[name] = resp.text

    for table, text in _all_rows(gate.env["RELEASEGATE_DATABASE_URL"]).items():
        places[f"db {table}"] = text
    logs = gate.data_dir.parent / "logs"
    for log in sorted(logs.rglob("*")):
        if log.is_file():
            places[f"log {log.name}"] = log.read_text(errors="replace")
    for path in sorted(gate.data_dir.rglob("*")):  # the gate's own files, but not the scanned artifacts
        rel = path.relative_to(gate.data_dir)
        if (
            path.is_file()
            and rel.parts[0] not in ("scans", "trivy-cache")
            and path.stat().st_size < 50_000_000
        ):
            places[f"data {rel}"] = path.read_text(errors="replace")

    pieces = windows(planted)
    # The detector itself: the planted files hold every secret.
    assert leaks_in("\n".join(planted_files(planted).values()), pieces) == {p.rule_id for p in planted}
    leaked: dict[str, set[str]] = {}
    for place, text in places.items():
        for rule in leaks_in(text, pieces):
            leaked.setdefault(rule, set()).add(place)
    figures.record("leaked secrets found", len(leaked))
    figures.record("places searched for planted secrets", len(places))
    assert not leaked, "\n".join(f"{rule}: {sorted(where)}" for rule, where in sorted(leaked.items()))
