"""Policies on a live API: dry runs of a stored scan, and a broken set never replacing a valid one."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from scanner import pipeline, store
from scanner.config import Settings
from scanner.db import session_scope
from scanner.findings import Finding, Kind, Severity, fingerprint_of
from scanner.models import Scan
from tests.conftest import REPO, Gate, start_gate, stop_gate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def policy_gate(
    tmp_path_factory: pytest.TempPathFactory, trivy_cache: Path
) -> Iterator[tuple[Gate, Path, str]]:
    """A gate of its own (SQLite, no worker) on a copy of the policies this test may break."""
    root = tmp_path_factory.mktemp("policy-gate")
    policies = root / "policies"
    shutil.copytree(REPO / "policies", policies, ignore=shutil.ignore_patterns("semgrep", "tests"))
    gate = start_gate(
        root, database_url="", broker_url="", trivy_cache=trivy_cache, worker=False, policy_dir=policies
    )
    url = f"sqlite:///{(root / 'data' / 'releasegate.db').resolve()}"
    settings = Settings(data_dir=root / "data", database_url=url, policy_dir=policies)
    sessions = partial(session_scope, url)
    scan = Scan(
        id=uuid.uuid4().hex,
        service="payments-api",
        environment="prod",
        request_key="k",
        policy_digest="d",
        tools={},
    )
    finding = Finding(
        fingerprint=fingerprint_of("o"),
        scanner="trivy-image",
        kind=Kind.VULNERABILITY,
        rule_id="CVE-2023-0286",
        severity=Severity.HIGH,
        package="openssl",
        installed_version="3.0.7-r0",
        fixed_version="3.0.8-r0",
    )
    with sessions() as session:
        store.create_scan(session=session, scan=scan, jobs=[])
        store.save_findings(session=session, scan=scan, findings=[finding])
    pipeline.judge_scan(settings, sessions, scan.id)
    yield gate, policies, scan.id
    stop_gate(gate)


def test_dry_run_under_the_live_set_and_under_a_proposed_one(policy_gate: tuple[Gate, Path, str]) -> None:
    gate, policies, scan_id = policy_gate
    with gate.client() as client:
        live = client.post(
            "/api/v1/policies/evaluate", json={"scan_id": scan_id, "now": "2026-11-26T12:00:00Z"}
        )
        assert live.status_code == 200, live.text
        assert live.json()["decision"] == "pass"  # EXC-2026-014 covers openssl for payments-api
        assert [e["id"] for e in live.json()["exceptions_applied"]] == ["EXC-2026-014"]

        files = {p.name: p.read_text() for p in policies.glob("*.yaml")}  # the same set without exceptions
        proposed = client.post("/api/v1/policies/evaluate", json={"scan_id": scan_id, "policies": files})
        assert proposed.status_code == 200, proposed.text
        assert proposed.json()["decision"] == "fail"
        assert proposed.json()["dry_run"] is True

        after = client.post(
            "/api/v1/policies/evaluate", json={"scan_id": scan_id, "now": "2027-01-02T00:00:00Z"}
        )
        example = after.json()["reasons"][0]["examples"][0]
        assert after.json()["decision"] == "fail"
        assert example["exception_not_applied"]["id"] == "EXC-2026-014"
        assert "expired" in example["exception_not_applied"]["why"]


@pytest.mark.parametrize("name", ["../prod.yaml", "/etc/x.yaml", "sub/dir.yaml", "exceptions/../x.yaml"])
def test_dry_run_refuses_file_names_that_leave_the_folder(
    policy_gate: tuple[Gate, Path, str], name: str
) -> None:
    gate, _, scan_id = policy_gate
    with gate.client() as client:
        resp = client.post("/api/v1/policies/evaluate", json={"scan_id": scan_id, "policies": {name: "x: 1"}})
    assert resp.status_code == 422
    assert "invalid policy file name" in resp.json()["error"]["message"]


def test_a_broken_reload_keeps_the_last_valid_set_and_says_so(policy_gate: tuple[Gate, Path, str]) -> None:
    gate, policies, scan_id = policy_gate
    before = httpx.get(f"{gate.url}/readyz").json()["checks"]["policies"]["digest"]
    prod = policies / "prod.yaml"
    good = prod.read_text()
    prod.write_text(good.replace("action: block", "action: blok", 1))
    try:
        deadline = time.monotonic() + 10
        while True:
            ready = httpx.get(f"{gate.url}/readyz").json()["checks"]["policies"]
            if "errors" in ready or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert ready["digest"] == before
        assert ready["status"] == "reload rejected, serving last valid set"
        assert any(e.startswith("policies/prod.yaml:") for e in ready["errors"])
        metrics = httpx.get(f"{gate.url}/metrics").text
        assert "releasegate_policy_set_valid 0.0" in metrics
        assert "releasegate_policy_reload_failures_total 1.0" in metrics
        with gate.client() as client:  # the gate goes on judging with the last valid set
            verdict = client.get("/api/v1/verdicts", params={"scan": scan_id, "environment": "prod"})
            assert verdict.status_code == 200
    finally:
        prod.write_text(good)
