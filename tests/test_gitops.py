"""The pipeline the gate guards (k8s-gitops/, examples/ci/): every kustomization renders and validates
against the Kubernetes schemas offline; each overlay's PreSync hook checks the exact digest its
Deployment runs; the rendered hook command, run against a live gate, exits 0/1/2 as the SPEC says;
the rendered manifests pass the gate's own prod policy under `trivy config`; `last-good` gives the
rollback target.

Schema validation (kubernetes-validate, strict schemas, no network) covers every built-in kind that
the layout renders: ConfigMap, Deployment, HorizontalPodAutoscaler, Job, NetworkPolicy,
PersistentVolumeClaim, PodDisruptionBudget, Service, ServiceAccount, StatefulSet. ArgoCD's
Application and AppProject are CRDs the package has no schema for: they are checked field by field
in the ArgoCD tests below instead, and any other kind without a schema fails the test.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import kubernetes_validate
import psycopg
import pytest
import yaml

from tests.conftest import BIN, REPO, Gate, start_gate, start_worker, stop_gate
from tests.support import images

GITOPS = REPO / "k8s-gitops"
BACKEND = GITOPS / "backend"
ENVIRONMENTS = ("dev", "uat", "prod")
KUSTOMIZATIONS = sorted(p.parent.relative_to(REPO).as_posix() for p in GITOPS.rglob("kustomization.yaml"))
# What ArgoCD (or an admin, for argocd/) applies; the bases are only ever rendered through these.
DEPLOYED = (
    "k8s-gitops/argocd",
    *(f"k8s-gitops/backend/{e}" for e in ENVIRONMENTS),
    "k8s-gitops/releasegate/production",
)
BUILTIN_KINDS = {
    "ConfigMap",
    "Deployment",
    "HorizontalPodAutoscaler",
    "Job",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "PodDisruptionBudget",
    "Service",
    "ServiceAccount",
    "StatefulSet",
}
ARGOCD_KINDS = {("argoproj.io/v1alpha1", "Application"), ("argoproj.io/v1alpha1", "AppProject")}
PINNED = re.compile(r"[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9./_-]+@sha256:[0-9a-f]{64}")
HOOK_JOB = "backend-releasegate-check"
HOOK_SECRET = "releasegate-verdict-reader"
TRIVY_ENV = {"TRIVY_SKIP_VERSION_CHECK": "true", "TRIVY_DISABLE_TELEMETRY": "true"}


# ---------------------------------------------------------------- rendering and reading manifests


def kustomize(folder: Path) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl (with its built-in kustomize) is needed to render k8s-gitops/")
    result = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {folder}:\n{result.stderr}"
    return result.stdout


@functools.cache
def rendered_text(folder: str) -> str:
    """The rendering of a kustomization in the repository, by its path relative to the repository."""
    return kustomize(REPO / folder)


def render(folder: Path) -> list[dict[str, Any]]:
    """The rendered documents of a kustomization (fresh objects: tests may change them)."""
    text = (
        rendered_text(folder.relative_to(REPO).as_posix())
        if folder.is_relative_to(REPO)
        else kustomize(folder)
    )
    return [doc for doc in yaml.safe_load_all(text) if doc]


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    found = [c for c in containers if c["name"] == name]
    assert len(found) == 1, f"expected one container {name!r}"
    return found[0]


def hook_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return container(one(docs, "Job", HOOK_JOB), "releasegate-check")


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion of command, args and env values (`$$` escapes a `$`)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", substitute, value)


def pod_env(
    spec: dict[str, Any], docs: list[dict[str, Any]], secrets: dict[str, dict[str, str]]
) -> dict[str, str]:
    """A container's environment as the kubelet builds it: literal values, ConfigMap and Secret keys."""
    assert not spec.get("envFrom"), "envFrom is not modelled here: list the hook's variables one by one"
    env: dict[str, str] = {}
    for var in spec.get("env", []):
        if "value" in var:
            env[var["name"]] = expand(var["value"], env)
        elif ref := var["valueFrom"].get("configMapKeyRef"):
            env[var["name"]] = one(docs, "ConfigMap", ref["name"])["data"][ref["key"]]
        elif ref := var["valueFrom"].get("secretKeyRef"):
            env[var["name"]] = secrets[ref["name"]][ref["key"]]
        else:
            raise AssertionError(f"unsupported env source in the hook: {var}")
    return env


def hook_argv(docs: list[dict[str, Any]], env: dict[str, str]) -> list[str]:
    spec = hook_container(docs)
    return [expand(part, env) for part in [*spec.get("command", []), *spec.get("args", [])]]


def option(argv: list[str], name: str) -> str:
    assert argv.count(name) == 1, f"{name} once in {argv}"
    return argv[argv.index(name) + 1]


def literal_env(docs: list[dict[str, Any]]) -> dict[str, str]:
    return {v["name"]: v["value"] for v in hook_container(docs).get("env", []) if "value" in v}


# ---------------------------------------------------------------- (a) render and validate


def test_every_kustomization_under_k8s_gitops_is_found() -> None:
    assert set(KUSTOMIZATIONS) >= {
        "k8s-gitops/argocd",
        "k8s-gitops/backend/base",
        *(f"k8s-gitops/backend/{e}" for e in ENVIRONMENTS),
        "k8s-gitops/releasegate/base",
        "k8s-gitops/releasegate/production",
    }


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_kustomization_renders_and_validates_against_kubernetes_schemas(folder: str) -> None:
    docs = render(REPO / folder)
    assert docs, f"{folder} rendered nothing"
    version = kubernetes_validate.latest_version()
    for doc in docs:
        what = f"{doc['kind']}/{doc['metadata']['name']} in {folder}"
        if (doc["apiVersion"], doc["kind"]) in ARGOCD_KINDS:
            continue  # no schema in the package: test_argocd_* check these field by field
        assert doc["kind"] in BUILTIN_KINDS, f"{what}: a kind nobody validates"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{what}: {exc.message} at {'/'.join(map(str, exc.path))}")


def test_the_schema_validator_rejects_what_kubernetes_would() -> None:
    """The check above can fail: a misspelt field and a wrong type are both caught offline."""
    deployment = one(render(BACKEND / "prod"), "Deployment", "backend")
    version = kubernetes_validate.latest_version()
    kubernetes_validate.validate(deployment, version, strict=True)
    typo = copy.deepcopy(deployment)
    container(typo, "backend")["readinesProbe"] = container(typo, "backend").pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, version, strict=True)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, version, strict=True)


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_kustomizations_use_resources_and_patches_not_deprecated_fields(folder: str) -> None:
    kustomization = yaml.safe_load((REPO / folder / "kustomization.yaml").read_text())
    deprecated = {"bases", "commonLabels", "patchesStrategicMerge", "patchesJson6902", "vars"}
    assert not deprecated & set(kustomization), f"{folder} uses {deprecated & set(kustomization)}"
    if folder.startswith("k8s-gitops/backend/") and not folder.endswith("/base"):
        assert kustomization["resources"] == ["../base"]
        assert [i["name"] for i in kustomization["images"]] == ["registry.fintron.example/backend"]


# ---------------------------------------------------------------- (b) the hook checks what is synced


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_hook_checks_the_digest_the_deployment_runs(environment: str) -> None:
    docs = render(BACKEND / environment)
    image = container(one(docs, "Deployment", "backend"), "backend")["image"]
    argv = hook_argv(docs, literal_env(docs))

    assert PINNED.fullmatch(image), f"{environment}: the Deployment's image is not pinned by digest: {image}"
    assert argv[:2] == ["releasegate", "check"]
    assert option(argv, "--image") == image
    assert option(argv, "--environment") == environment
    assert float(option(argv, "--wait")) == 300
    assert "--fail-open" not in argv, "the PreSync hook must fail closed"


def test_each_environment_pins_its_own_digest() -> None:
    pinned = {
        e: container(one(render(BACKEND / e), "Deployment", "backend"), "backend")["image"]
        for e in ENVIRONMENTS
    }
    assert "@sha256:" + "0" * 64 not in " ".join(pinned.values()), "an overlay left the base's placeholder"
    assert len(set(pinned.values())) == len(ENVIRONMENTS)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_hook_is_an_argocd_presync_job_that_fails_closed(environment: str) -> None:
    docs = render(BACKEND / environment)
    job = one(docs, "Job", HOOK_JOB)
    annotations = job["metadata"]["annotations"]
    pod = job["spec"]["template"]["spec"]
    spec = hook_container(docs)

    assert annotations["argocd.argoproj.io/hook"] == "PreSync"
    assert annotations["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    assert job["spec"]["backoffLimit"] == 0
    assert pod["restartPolicy"] == "Never"
    argv = hook_argv(docs, literal_env(docs))
    assert job["spec"]["activeDeadlineSeconds"] > float(option(argv, "--wait")) + 60, "the CLI decides first"
    assert spec["image"].startswith("registry.fintron.example/platform/releasegate@sha256:")
    # the URL from a ConfigMap, the token from a Secret that is referenced, never rendered
    sources = {v["name"]: v.get("valueFrom", {}) for v in spec["env"]}
    assert sources["RELEASEGATE_URL"]["configMapKeyRef"]["name"] == "releasegate-hook"
    assert sources["RELEASEGATE_TOKEN"]["secretKeyRef"] == {"name": HOOK_SECRET, "key": "token"}
    assert not [d for d in docs if d["kind"] == "Secret"]
    # what the Job needs exists before it on the first sync: PreSync hooks of an earlier wave
    for kind, name in (("ConfigMap", "releasegate-hook"), ("ServiceAccount", pod["serviceAccountName"])):
        needed = one(docs, kind, name)["metadata"]["annotations"]
        assert needed["argocd.argoproj.io/hook"] == "PreSync", f"{kind}/{name}"
        wave = int(needed.get("argocd.argoproj.io/sync-wave", "0"))
        assert wave < int(annotations.get("argocd.argoproj.io/sync-wave", "0")), f"{kind}/{name}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_pod_specs_are_hardened(environment: str) -> None:
    docs = render(BACKEND / environment)
    for workload in (one(docs, "Deployment", "backend"), one(docs, "Job", HOOK_JOB)):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for c in pod["containers"]:
            ctx = c["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["readOnlyRootFilesystem"] is True
            assert ctx["capabilities"] == {"drop": ["ALL"]}
            assert set(c["resources"]["requests"]) == set(c["resources"]["limits"]) == {"cpu", "memory"}
            assert PINNED.fullmatch(c["image"]), c["image"]
    backend = container(one(docs, "Deployment", "backend"), "backend")
    assert {"readinessProbe", "livenessProbe", "startupProbe"} <= set(backend)


def test_pinning_a_new_digest_in_an_overlay_moves_the_deployment_and_the_hook_together(
    tmp_path: Path,
) -> None:
    """What CI does after a push (examples/ci/set-image-digest.py), on a copy of the layout."""
    copy_root = tmp_path / "k8s-gitops"
    shutil.copytree(GITOPS, copy_root)
    overlay = copy_root / "backend" / "dev"
    before = (overlay / "kustomization.yaml").read_text()
    digest = "sha256:" + uuid.uuid4().hex * 2

    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples/ci/set-image-digest.py"),
            str(overlay),
            "registry.fintron.example/backend",
            digest,
        ],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    after = (overlay / "kustomization.yaml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1].strip() == f"digest: {digest}"  # comments and all kept
    docs = render(overlay)
    image = container(one(docs, "Deployment", "backend"), "backend")["image"]
    assert image == f"registry.fintron.example/backend@{digest}"
    assert option(hook_argv(docs, literal_env(docs)), "--image") == image


def test_the_digest_pinning_script_refuses_what_it_does_not_understand(tmp_path: Path) -> None:
    target = tmp_path / "kustomization.yaml"
    target.write_text((BACKEND / "dev" / "kustomization.yaml").read_text())
    script = [sys.executable, str(REPO / "examples/ci/set-image-digest.py"), str(target)]
    for image, digest in (
        ("registry.fintron.example/other", "sha256:" + "a" * 64),
        ("registry.fintron.example/backend", "latest"),
    ):
        result = subprocess.run([*script, image, digest], capture_output=True, text=True)
        assert result.returncode == 1, (image, digest)
    assert target.read_text() == (BACKEND / "dev" / "kustomization.yaml").read_text()


# ---------------------------------------------------------------- ArgoCD (CRDs: checked field by field)


def argocd_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in render(GITOPS / "argocd") if d["kind"] == kind}


def test_argocd_objects_are_well_formed() -> None:
    docs = render(GITOPS / "argocd")
    assert {(d["apiVersion"], d["kind"]) for d in docs} == ARGOCD_KINDS
    projects = argocd_objects("AppProject")
    for app in argocd_objects("Application").values():
        assert app["metadata"]["namespace"] == "argocd"
        spec = app["spec"]
        assert set(spec) <= {"project", "source", "destination", "syncPolicy", "revisionHistoryLimit"}
        assert spec["project"] in projects
        source, destination = spec["source"], spec["destination"]
        assert set(source) == {"repoURL", "targetRevision", "path"}
        assert (REPO / source["path"] / "kustomization.yaml").is_file(), source["path"]
        assert source["repoURL"] in projects[spec["project"]]["spec"]["sourceRepos"]
        # the Application deploys where its overlay says, and its project allows that place...
        overlay = yaml.safe_load((REPO / source["path"] / "kustomization.yaml").read_text())
        assert destination["namespace"] == overlay["namespace"]
        project = projects[spec["project"]]["spec"]
        assert {"server": destination["server"], "namespace": destination["namespace"]} in project[
            "destinations"
        ]
        # ...and every kind the overlay renders, or ArgoCD would refuse the sync
        allowed = {(g["group"], g["kind"]) for g in project["namespaceResourceWhitelist"]}
        for doc in render(REPO / source["path"]):
            group = doc["apiVersion"].rpartition("/")[0]
            assert (group, doc["kind"]) in allowed, f"{app['metadata']['name']}: {doc['kind']} not allowed"


def test_argocd_syncs_dev_automatically_and_uat_and_prod_only_by_hand() -> None:
    apps = argocd_objects("Application")
    for environment in ENVIRONMENTS:
        app = apps[f"backend-{environment}"]
        assert app["spec"]["source"]["path"] == f"k8s-gitops/backend/{environment}"
        automated = app["spec"].get("syncPolicy", {}).get("automated")
        if environment == "dev":
            assert automated == {"prune": True, "selfHeal": True}
        else:
            assert automated is None, f"{environment} must only sync by hand"
    windows = argocd_objects("AppProject")["backend"]["spec"]["syncWindows"]
    assert [w for w in windows if w["kind"] == "allow" and w["applications"] == ["backend-prod"]]


# ---------------------------------------------------------------- (d) the project eats its own cooking


@pytest.mark.slow
@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_rendered_manifests_pass_trivy_config_under_the_prod_policy(folder: str, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "rendered.yaml").write_text(rendered_text(folder))
    report = tmp_path / "trivy.json"
    scan = subprocess.run(
        [
            str(BIN / "trivy"),
            "config",
            "--format",
            "json",
            "--skip-check-update",
            "--quiet",
            "--cache-dir",
            str(tmp_path / "trivy-cache"),
            # the registries this cluster trusts (KSV-0125), as an org configures Trivy for its checks
            "--config-data",
            str(GITOPS / "trivy"),
            "--output",
            str(report),
            str(manifests),
        ],
        env={**os.environ, **TRIVY_ENV},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert scan.returncode == 0, scan.stderr
    results = json.loads(report.read_text())["Results"]
    # not vacuous: Trivy read the file as Kubernetes and ran its checks on it
    assert [r["Type"] for r in results] == ["kubernetes"]
    assert results[0]["MisconfSummary"]["Successes"] > 0

    verdict = subprocess.run(
        [
            str(BIN / "releasegate"),
            "evaluate",
            "--report",
            str(report),
            "--environment",
            "prod",
            "--policies",
            str(REPO / "policies"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert json.loads(verdict.stdout)["decision"] in ("pass", "warn")
    if folder in DEPLOYED:
        # stricter than the policy: what is synced has no misconfiguration above LOW at all
        serious = [
            f"{m['ID']} {m['Severity']}: {m['Message']}"
            for r in results
            for m in r.get("Misconfigurations") or []
            if m["Severity"] not in ("LOW", "UNKNOWN")
        ]
        assert not serious, "\n".join(serious)


# ---------------------------------------------------------------- (c) the rendered hook on a live gate


def gitops_image(out: Path, *, marker: str, leaks_a_secret: bool) -> images.ImageInfo:
    """A backend image whose digest is unique to `marker`; one that leaks a secret fails everywhere."""
    parts = [
        images.alpine_rootfs([("musl", "1.1.22-r3", "musl")], release="3.10.2"),
        images.python_dist_info("werkzeug", "2.3.0"),
        images.plant_file("app/RELEASE", f"{marker}\n"),
    ]
    if leaks_a_secret:
        parts.append(images.aws_credentials_file("app/settings.py"))
    return images.build_image(images.merge_rootfs(*parts), out, tag=f"backend:{marker}")


def scan_image(gate: Gate, image: images.ImageInfo, *, service: str, environment: str) -> dict[str, Any]:
    result = gate.cli(
        "scan",
        "--service",
        service,
        "--environment",
        environment,
        "--image-tar",
        str(image.path),
        "--wait",
        "--format",
        "json",
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    verdict: dict[str, Any] = json.loads(result.stdout)
    return verdict


def rendered_hook_invocation(
    docs: list[dict[str, Any]], *, url: str, token: str, digest: str | None
) -> tuple[list[str], dict[str, str]]:
    """The hook as the kubelet would start it: the rendered command and environment, with the
    in-cluster URL pointed at the test's gate, the Secret's token supplied and, given `digest`, the
    overlay's digest swapped for one the gate has scanned."""
    docs = copy.deepcopy(docs)
    hook_config = one(docs, "ConfigMap", "releasegate-hook")["data"]
    assert hook_config["RELEASEGATE_URL"].startswith("http://releasegate-api.releasegate.svc")
    hook_config["RELEASEGATE_URL"] = url
    env = pod_env(hook_container(docs), docs, {HOOK_SECRET: {"token": token}})
    argv = hook_argv(docs, env)
    if digest is not None:
        rendered_image = option(argv, "--image")
        argv[argv.index("--image") + 1] = rendered_image.rpartition("@")[0] + "@" + digest
    program = shutil.which(argv[0], path=str(BIN))
    assert program, f"{argv[0]} is not installed beside the tests' Python"
    # nothing of the test's own environment (admin token, database URL) leaks into the hook
    base = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    return [program, *argv[1:]], {**base, **env}


def run_rendered_hook(
    docs: list[dict[str, Any]], *, url: str, token: str, digest: str | None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    argv, env = rendered_hook_invocation(docs, url=url, token=token, digest=digest)
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def make_stale(gate: Gate, scan_id: str) -> None:
    with psycopg.connect(gate.env["RELEASEGATE_DATABASE_URL"]) as conn:
        updated = conn.execute(
            "UPDATE verdicts SET evaluated_at = evaluated_at - interval '30 days' WHERE scan_id = %s",
            (scan_id,),
        ).rowcount
    assert updated == 1


@pytest.mark.slow
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_rendered_hook_against_a_live_gate(gate: Gate, tmp_path: Path, environment: str) -> None:
    docs = render(BACKEND / environment)
    service = f"gitops-hook-{environment}"
    reader = gate.token_for("verdict:read")
    passing = gitops_image(tmp_path / "pass.tar", marker=f"{environment}-pass", leaks_a_secret=False)
    failing = gitops_image(tmp_path / "fail.tar", marker=f"{environment}-fail", leaks_a_secret=True)
    aging = gitops_image(tmp_path / "stale.tar", marker=f"{environment}-stale", leaks_a_secret=False)
    assert scan_image(gate, passing, service=service, environment=environment)["decision"] in ("pass", "warn")
    assert scan_image(gate, failing, service=service, environment=environment)["decision"] == "fail"
    stale_scan = scan_image(gate, aging, service=service, environment=environment)
    assert stale_scan["decision"] in ("pass", "warn")
    make_stale(gate, stale_scan["scan_id"])

    def hook(digest: str) -> subprocess.CompletedProcess[str]:
        return run_rendered_hook(docs, url=gate.url, token=reader, digest=digest, cwd=tmp_path)

    outcome = hook(passing.config_digest)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert outcome.stdout.startswith(("PASS", "WARN"))

    outcome = hook(failing.config_digest)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    assert outcome.stdout.startswith("FAIL")

    outcome = hook("sha256:" + uuid.uuid4().hex * 2)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    assert outcome.stdout.startswith("UNKNOWN")

    outcome = hook(aging.config_digest)
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr
    assert outcome.stdout.startswith("STALE")


@pytest.mark.slow
def test_rendered_hook_fails_closed_when_the_gate_goes_down(
    tmp_path_factory: pytest.TempPathFactory, trivy_cache: Path, tmp_path: Path
) -> None:
    """A gate of its own (embedded SQLite, no worker), so stopping it disturbs no other test."""
    docs = render(BACKEND / "prod")
    own = start_gate(
        tmp_path_factory.mktemp("gate-down"),
        database_url="",
        broker_url="",
        trivy_cache=trivy_cache,
        worker=False,
    )
    try:
        reader = own.token_for("verdict:read")
        digest = "sha256:" + uuid.uuid4().hex * 2
        up = run_rendered_hook(docs, url=own.url, token=reader, digest=digest, cwd=tmp_path)
        assert up.returncode == 1, up.stdout + up.stderr  # reachable: an unknown image is a plain "no"
    finally:
        stop_gate(own)

    down = run_rendered_hook(docs, url=own.url, token=reader, digest=digest, cwd=tmp_path)

    assert down.returncode == 2, down.stdout + down.stderr
    assert "unreachable" in down.stderr and "failing closed" in down.stderr
    assert "attempts" in down.stderr  # it retried before giving up


@pytest.mark.slow
def test_rendered_hook_waits_for_a_verdict_that_is_still_pending(
    tmp_path_factory: pytest.TempPathFactory, trivy_cache: Path, tmp_path: Path
) -> None:
    """`--wait 300`: a sync that races CI's scan waits for the verdict instead of failing at once.
    The gate has no worker until the hook is seen waiting; then one starts and the scan finishes."""
    docs = render(BACKEND / "prod")
    root = tmp_path_factory.mktemp("gate-pending")
    own = start_gate(root, database_url="", broker_url="", trivy_cache=trivy_cache, worker=False)
    try:
        image = gitops_image(tmp_path / "pending.tar", marker="pending", leaks_a_secret=False)
        queued = own.cli(
            "scan", "--service", "gitops-pending", "--environment", "prod", "--image-tar", str(image.path)
        )
        assert queued.returncode == 0, queued.stdout + queued.stderr
        argv, env = rendered_hook_invocation(
            docs, url=own.url, token=own.token_for("verdict:read"), digest=image.config_digest
        )
        hook = subprocess.Popen(
            argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            with pytest.raises(subprocess.TimeoutExpired):
                hook.wait(timeout=5)  # still waiting: the verdict is pending
            own.procs["worker"] = start_worker(own, root / "logs")
            stdout, stderr = hook.communicate(timeout=120)
        finally:
            if hook.poll() is None:
                hook.kill()
                hook.communicate()
    finally:
        stop_gate(own)

    assert hook.returncode == 0, stdout + stderr
    assert stdout.startswith(("PASS", "WARN"))


# ---------------------------------------------------------------- (e) rollback target


@pytest.mark.slow
def test_last_good_names_the_previous_passing_digest_and_rolling_back_to_it_passes_the_hook(
    gate: Gate, tmp_path: Path
) -> None:
    service = f"gitops-rollback-{uuid.uuid4().hex[:8]}"
    good = gitops_image(tmp_path / "good.tar", marker=f"{service}-1", leaks_a_secret=False)
    newer = gitops_image(tmp_path / "newer.tar", marker=f"{service}-2", leaks_a_secret=True)
    first = gate.cli(
        "scan", "--service", service, "--environment", "prod", "--image-tar", str(good.path), "--wait"
    )
    assert first.returncode == 0, first.stdout + first.stderr
    second = gate.cli(
        "scan", "--service", service, "--environment", "prod", "--image-tar", str(newer.path), "--wait"
    )
    assert second.returncode == 1, second.stdout + second.stderr

    result = gate.cli(
        "last-good",
        "--service",
        service,
        "--environment",
        "prod",
        env={"RELEASEGATE_TOKEN": gate.token_for("read")},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == good.config_digest
    # the one-step rollback: pin that digest in the prod overlay; the hook then lets the sync through
    copy_root = tmp_path / "k8s-gitops"
    shutil.copytree(GITOPS, copy_root)
    overlay = copy_root / "backend" / "prod"
    pin = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples/ci/set-image-digest.py"),
            str(overlay),
            "registry.fintron.example/backend",
            result.stdout.strip(),
        ],
        capture_output=True,
        text=True,
    )
    assert pin.returncode == 0, pin.stderr
    docs = render(overlay)
    assert option(hook_argv(docs, literal_env(docs)), "--image").endswith("@" + good.config_digest)
    reader = gate.token_for("verdict:read")
    hook = run_rendered_hook(docs, url=gate.url, token=reader, digest=None, cwd=tmp_path)
    assert hook.returncode == 0, hook.stdout + hook.stderr


@pytest.mark.slow
def test_last_good_without_a_passing_scan_is_a_clean_no(gate: Gate) -> None:
    result = gate.cli("last-good", "--service", f"never-{uuid.uuid4().hex[:8]}", "--environment", "prod")
    assert result.returncode == 1, result.stdout + result.stderr
