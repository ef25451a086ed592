"""The policy engine on plain data: what each `when` key matches, budgets, the order of decisions,
examples, exceptions and their expiry, properties that hold for any findings and policy, and the
bundled policies of every environment."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.findings import Finding, Kind, Severity
from scanner.policy.engine import MAX_EXAMPLES, evaluate
from scanner.policy.loader import ResolvedPolicy, load_policy_set
from scanner.policy.result import Decision, Evaluation
from scanner.policy.schema import PolicyException, Rule

NOW = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
BUNDLED = Path(__file__).resolve().parents[1] / "policies"
_serial = itertools.count()


def finding(
    kind: Kind = Kind.VULNERABILITY,
    severity: Severity = Severity.HIGH,
    *,
    fingerprint: str | None = None,
    scanner: str | None = None,
    rule_id: str = "CVE-2023-0286",
    package: str | None = None,
    fixed_version: str | None = None,
    path: str | None = None,
    first_seen: datetime | None = None,
) -> Finding:
    if scanner is None:
        scanner = "semgrep" if kind is Kind.CODE else "trivy-image"
    return Finding(
        fingerprint=fingerprint or f"fp-{next(_serial):06d}",
        scanner=scanner,
        kind=kind,
        rule_id=rule_id,
        severity=severity,
        title=f"{rule_id} in {package or path}",
        package=package,
        installed_version="1.0.0" if package else None,
        fixed_version=fixed_version,
        path=path,
        first_seen=first_seen,
    )


def rule(name: str = "r", action: str = "block", max: int = 0, **when: Any) -> Rule:
    return Rule.model_validate({"id": name, "when": when, "action": action, "max": max})


def policy(*rules: Rule) -> ResolvedPolicy:
    return ResolvedPolicy(name="test", environments=("prod",), rules=tuple(rules), freshness_seconds=None)


def exception(
    exc_id: str = "EXC-1",
    *,
    expires: date = date(2026, 12, 31),
    services: list[str] | None = None,
    environments: list[str] | None = None,
    **when: Any,
) -> PolicyException:
    return PolicyException.model_validate(
        {
            "apiVersion": "releasegate/v1",
            "kind": "Exception",
            "id": exc_id,
            "when": when,
            "services": services,
            "environments": environments,
            "reason": "the vulnerable path is unreachable",
            "owner": "security@example.org",
            "expires": expires,
        }
    )


def run(
    findings: Iterable[Finding],
    *rules: Rule,
    exceptions: Sequence[PolicyException] = (),
    service: str | None = "backend",
    environment: str = "prod",
    now: datetime = NOW,
    baseline: frozenset[str] | None = None,
) -> Evaluation:
    return evaluate(
        findings,
        policy=policy(*rules),
        policy_digest="sha256:test",
        exceptions=exceptions,
        service=service,
        environment=environment,
        now=now,
        baseline=baseline,
    )


def matches(when: dict[str, Any], f: Finding, **kwargs: Any) -> bool:
    evaluation = run([f], rule(action="warn", **when), **kwargs)
    return bool(evaluation.reasons)


# ---------------------------------------------------------------- `when` keys


@pytest.mark.parametrize(
    ("when", "f", "expected"),
    [
        ({"kind": "code"}, finding(Kind.CODE), True),
        ({"kind": "code"}, finding(Kind.VULNERABILITY), False),
        ({"kind": ["code", "secret"]}, finding(Kind.SECRET), True),
        ({"kind": ["code", "secret"]}, finding(Kind.LICENSE), False),
        ({"severity": "HIGH"}, finding(severity=Severity.HIGH), True),
        ({"severity": "HIGH"}, finding(severity=Severity.CRITICAL), False),
        ({"severity": "high"}, finding(severity=Severity.HIGH), True),
        ({"severity": ["CRITICAL", "HIGH"]}, finding(severity=Severity.CRITICAL), True),
        ({"severity": ["CRITICAL", "HIGH"]}, finding(severity=Severity.MEDIUM), False),
        ({"severity": "UNKNOWN"}, finding(severity=Severity.UNKNOWN), True),
        ({"min_severity": "HIGH"}, finding(severity=Severity.CRITICAL), True),
        ({"min_severity": "HIGH"}, finding(severity=Severity.HIGH), True),
        ({"min_severity": "HIGH"}, finding(severity=Severity.MEDIUM), False),
        ({"min_severity": "LOW"}, finding(severity=Severity.UNKNOWN), False),
        ({"scanner": "trivy-*"}, finding(scanner="trivy-fs"), True),
        ({"scanner": "trivy-*"}, finding(scanner="semgrep"), False),
        ({"scanner": ["semgrep", "trivy-image"]}, finding(scanner="trivy-image"), True),
        ({"rule_id": "AGPL-3.0*"}, finding(Kind.LICENSE, rule_id="AGPL-3.0-only"), True),
        ({"rule_id": "AGPL-3.0*"}, finding(Kind.LICENSE, rule_id="GPL-3.0-only"), False),
        ({"rule_id": ["AGPL-3.0*", "SSPL-1.0"]}, finding(Kind.LICENSE, rule_id="SSPL-1.0"), True),
        ({"rule_id": "CVE-2023-0286"}, finding(rule_id="CVE-2023-0286"), True),
        # globs match the whole value, not a prefix or a part
        ({"rule_id": "CVE-2023"}, finding(rule_id="CVE-2023-0286"), False),
        ({"rule_id": "0286"}, finding(rule_id="CVE-2023-0286"), False),
        ({"rule_id": "CVE-2023-?286"}, finding(rule_id="CVE-2023-0286"), True),
        ({"rule_id": "CVE-2023-[01]286"}, finding(rule_id="CVE-2023-1286"), True),
        ({"rule_id": "cve-2023-0286"}, finding(rule_id="CVE-2023-0286"), False),
        ({"package": "openssl"}, finding(package="openssl"), True),
        ({"package": "openssl"}, finding(package="libssl3"), False),
        ({"package": "lib*"}, finding(package="libssl3"), True),
        ({"package": "*"}, finding(package=None), False),
        ({"path": "src/*.py"}, finding(Kind.CODE, path="src/app.py"), True),
        ({"path": "src/*.py"}, finding(Kind.CODE, path="tests/app.py"), False),
        ({"path": "*.py"}, finding(Kind.CODE, path="src/deep/app.py"), True),
        ({"path": "*"}, finding(Kind.CODE, path=None), False),
        ({"fixable": True}, finding(fixed_version="3.0.8-r0"), True),
        ({"fixable": True}, finding(fixed_version=None), False),
        ({"fixable": False}, finding(fixed_version=None), True),
        ({"fixable": False}, finding(fixed_version="3.0.8-r0"), False),
        ({}, finding(Kind.MISCONFIGURATION, Severity.LOW), True),
    ],
)
def test_a_when_key_matches(when: dict[str, Any], f: Finding, expected: bool) -> None:
    assert matches(when, f) is expected


def test_an_empty_list_of_alternatives_matches_nothing() -> None:
    f = finding(Kind.CODE, package="openssl", path="src/app.py")
    for key in ("kind", "severity", "scanner", "rule_id", "package", "path"):
        assert not matches({key: []}, f), key


def test_an_exception_with_an_empty_list_waives_nothing() -> None:
    evaluation = run(openssl_findings(2), rule(), exceptions=[exception(package=[])])
    assert evaluation.decision is Decision.FAIL
    assert evaluation.exceptions_applied == []


def test_keys_must_all_hold() -> None:
    when = {"kind": "vulnerability", "severity": "HIGH", "package": "openssl", "fixable": True}
    assert matches(when, finding(package="openssl", fixed_version="3.0.8"))
    assert not matches(when, finding(Kind.CODE, package="openssl", fixed_version="3.0.8"))
    assert not matches(when, finding(severity=Severity.LOW, package="openssl", fixed_version="3.0.8"))
    assert not matches(when, finding(package="zlib", fixed_version="3.0.8"))
    assert not matches(when, finding(package="openssl"))


def test_without_a_baseline_everything_is_new() -> None:
    f = finding(Kind.CODE, fingerprint="known")
    assert matches({"new": True}, f, baseline=None)
    assert not matches({"new": False}, f, baseline=None)


def test_new_means_absent_from_the_baseline() -> None:
    known, fresh = finding(Kind.CODE, fingerprint="known"), finding(Kind.CODE, fingerprint="fresh")
    baseline = frozenset({"known", "gone"})
    assert not matches({"new": True}, known, baseline=baseline)
    assert matches({"new": False}, known, baseline=baseline)
    assert matches({"new": True}, fresh, baseline=baseline)
    assert not matches({"new": False}, fresh, baseline=baseline)


@pytest.mark.parametrize(
    ("age", "days_old", "expected"),
    [
        (">14d", 15, True),
        (">14d", 14, False),
        (">14d", 13, False),
        (">=14d", 14, True),
        (">=14d", 13, False),
        ("<14d", 13, True),
        ("<14d", 14, False),
        ("<=14d", 14, True),
        ("<=14d", 15, False),
        (">2w", 15, True),
        (">336h", 15, True),
        ("> 14d", 15, True),
    ],
)
def test_age_compares_now_with_first_seen(age: str, days_old: int, expected: bool) -> None:
    f = finding(first_seen=NOW - timedelta(days=days_old))
    assert matches({"age": age}, f) is expected


def test_age_is_measured_against_the_given_now() -> None:
    f = finding(first_seen=datetime(2026, 11, 1, tzinfo=UTC))
    assert not matches({"age": ">14d"}, f, now=datetime(2026, 11, 15, tzinfo=UTC))
    assert matches({"age": ">14d"}, f, now=datetime(2026, 11, 15, 0, 0, 1, tzinfo=UTC))


def test_a_finding_never_seen_before_is_zero_days_old() -> None:
    f = finding(first_seen=None)
    assert matches({"age": "<1d"}, f)
    assert not matches({"age": ">0d"}, f)


# ---------------------------------------------------------------- actions, budgets, decision


def test_nothing_matched_is_a_pass_without_reasons() -> None:
    evaluation = run([finding(severity=Severity.LOW)], rule(severity="CRITICAL"))
    assert evaluation.decision is Decision.PASS
    assert evaluation.reasons == []
    assert evaluation.policy == "test"
    assert evaluation.policy_digest == "sha256:test"


def test_no_findings_pass() -> None:
    assert run([], rule()).decision is Decision.PASS


def test_a_block_rule_fails_and_a_warn_rule_warns() -> None:
    f = finding()
    assert run([f], rule(action="block")).decision is Decision.FAIL
    assert run([f], rule(action="warn")).decision is Decision.WARN


@pytest.mark.parametrize(("count", "decision"), [(0, Decision.PASS), (3, Decision.PASS), (4, Decision.FAIL)])
def test_a_budget_blocks_only_when_more_findings_match_than_it_allows(count: int, decision: Decision) -> None:
    findings = [finding(severity=Severity.MEDIUM) for _ in range(count)]
    evaluation = run(findings, rule("medium-budget", severity="MEDIUM", max=3))
    assert evaluation.decision is decision
    if count:
        [reason] = evaluation.reasons
        assert (reason.rule_id, reason.action, reason.count, reason.max) == (
            "medium-budget",
            "block",
            count,
            3,
        )
        assert reason.triggered is (count > 3)
        assert reason.to_dict()["triggered"] is (count > 3)


def test_a_warn_budget_within_limits_passes() -> None:
    findings = [finding(severity=Severity.MEDIUM) for _ in range(2)]
    assert run(findings, rule(action="warn", max=2)).decision is Decision.PASS
    assert run([*findings, finding()], rule(action="warn", max=2)).decision is Decision.WARN


@pytest.mark.parametrize("block_first", [True, False])
def test_fail_wins_over_warn_in_any_rule_order(block_first: bool) -> None:
    block = rule("crit", "block", severity="CRITICAL")
    warn = rule("high", "warn", severity="HIGH")
    rules = (block, warn) if block_first else (warn, block)
    findings = [finding(severity=Severity.CRITICAL), finding(severity=Severity.HIGH)]
    evaluation = run(findings, *rules)
    assert evaluation.decision is Decision.FAIL
    assert [r.rule_id for r in evaluation.reasons] == [r.id for r in rules]


def test_a_block_rule_within_its_budget_leaves_a_warning_a_warning() -> None:
    findings = [finding(severity=Severity.MEDIUM), finding(severity=Severity.HIGH)]
    evaluation = run(
        findings, rule("budget", "block", severity="MEDIUM", max=5), rule("high", "warn", severity="HIGH")
    )
    assert evaluation.decision is Decision.WARN


def test_a_finding_counts_for_every_rule_it_matches() -> None:
    evaluation = run(
        [finding(severity=Severity.CRITICAL)], rule("a", "warn"), rule("b", "warn", min_severity="HIGH")
    )
    assert [(r.rule_id, r.count) for r in evaluation.reasons] == [("a", 1), ("b", 1)]


def test_the_decision_owns_the_exit_code() -> None:
    assert Decision.PASS.exit_code == 0
    assert Decision.WARN.exit_code == 0
    for other in (Decision.FAIL, Decision.PENDING, Decision.ERROR, Decision.UNKNOWN, Decision.STALE):
        assert other.exit_code == 1


# ---------------------------------------------------------------- examples


def test_examples_are_capped_but_the_count_is_not() -> None:
    findings = [finding(package=f"pkg{i}", fixed_version=f"{i}.0.1") for i in range(MAX_EXAMPLES + 15)]
    [reason] = run(findings, rule()).reasons
    assert MAX_EXAMPLES == 20
    assert reason.count == 35
    assert len(reason.examples) == 20


def test_an_example_carries_what_a_developer_needs_to_fix_it() -> None:
    f = finding(package="openssl", fixed_version="3.0.8-r0", rule_id="CVE-2023-0286")
    [reason] = run([f], rule("fixable-high", fixable=True)).reasons
    [ex] = reason.examples
    assert ex["rule_id"] == "CVE-2023-0286"
    assert ex["package"] == "openssl"
    assert ex["installed_version"] == "1.0.0"
    assert ex["fixed_version"] == "3.0.8-r0"
    assert ex["severity"] == "HIGH"
    assert ex["kind"] == "vulnerability"
    assert ex["fingerprint"] == f.fingerprint
    assert "exception_not_applied" not in ex


# ---------------------------------------------------------------- exceptions


OPENSSL = {"rule_id": "CVE-2023-0286", "package": "openssl"}


def openssl_findings(n: int = 1) -> list[Finding]:
    return [finding(package="openssl", path=f"layer{i}") for i in range(n)]


def test_an_exception_waives_the_findings_it_covers_and_is_listed_with_its_count() -> None:
    other = finding(rule_id="CVE-2024-0001", package="zlib", severity=Severity.MEDIUM)
    evaluation = run(
        [*openssl_findings(3), other],
        rule("highs", severity="HIGH"),
        rule("mediums", action="warn", severity="MEDIUM"),
        exceptions=[exception(**OPENSSL), exception("EXC-UNUSED", rule_id="CVE-1999-0001")],
    )
    assert evaluation.decision is Decision.WARN
    assert [r.rule_id for r in evaluation.reasons] == ["mediums"]
    assert evaluation.exceptions_applied == [
        {
            "id": "EXC-1",
            "reason": "the vulnerable path is unreachable",
            "owner": "security@example.org",
            "expires": "2026-12-31",
            "count": 3,
        }
    ]


def test_a_finding_covered_by_two_exceptions_is_counted_once() -> None:
    evaluation = run(
        openssl_findings(2),
        rule(),
        exceptions=[exception("EXC-A", **OPENSSL), exception("EXC-B", package="openssl")],
    )
    assert evaluation.decision is Decision.PASS
    assert sum(e["count"] for e in evaluation.exceptions_applied) == 2


@pytest.mark.parametrize(
    ("scope", "service", "environment", "applies"),
    [
        ({}, "backend", "prod", True),
        ({"services": ["payments-api"]}, "payments-api", "prod", True),
        ({"services": ["payments-api"]}, "backend", "prod", False),
        ({"services": ["payments-api"]}, None, "prod", False),
        ({"environments": ["uat", "prod"]}, "backend", "uat", True),
        ({"environments": ["uat", "prod"]}, "backend", "dev", False),
        ({"services": ["payments-api"], "environments": ["prod"]}, "payments-api", "prod", True),
        ({"services": ["payments-api"], "environments": ["prod"]}, "payments-api", "uat", False),
        ({"services": ["payments-api"], "environments": ["prod"]}, "backend", "prod", False),
    ],
)
def test_an_exception_applies_only_within_its_scope(
    scope: dict[str, Any], service: str | None, environment: str, applies: bool
) -> None:
    evaluation = run(
        openssl_findings(),
        rule("highs", severity="HIGH"),
        exceptions=[exception(**scope, **OPENSSL)],
        service=service,
        environment=environment,
    )
    assert evaluation.decision is (Decision.PASS if applies else Decision.FAIL)
    assert bool(evaluation.exceptions_applied) is applies
    if not applies:
        [ex] = evaluation.reasons[0].examples
        assert ex["exception_not_applied"]["id"] == "EXC-1"
        assert "scoped" in ex["exception_not_applied"]["why"]


@pytest.mark.parametrize(
    ("now", "applies"),
    [
        (datetime(2026, 12, 30, 12, 0, tzinfo=UTC), True),
        (datetime(2026, 12, 31, 0, 0, tzinfo=UTC), True),
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), True),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), False),
        (datetime(2027, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), True),  # still the 31st in UTC
        (datetime(2027, 3, 1, tzinfo=UTC), False),
    ],
)
def test_an_exception_holds_through_its_expiry_day_and_not_after(now: datetime, applies: bool) -> None:
    evaluation = run(
        openssl_findings(),
        rule("highs"),
        exceptions=[exception(expires=date(2026, 12, 31), **OPENSSL)],
        now=now,
    )
    assert evaluation.decision is (Decision.PASS if applies else Decision.FAIL)
    assert [e["id"] for e in evaluation.exceptions_applied] == (["EXC-1"] if applies else [])


def test_an_expired_exception_is_named_on_the_finding_it_no_longer_covers() -> None:
    covered, uncovered = finding(package="openssl"), finding(package="zlib", rule_id="CVE-2024-0001")
    evaluation = run(
        [covered, uncovered],
        rule("highs"),
        exceptions=[exception(expires=date(2026, 11, 25), **OPENSSL)],
    )
    assert evaluation.decision is Decision.FAIL
    assert evaluation.exceptions_applied == []
    examples = {ex["fingerprint"]: ex for ex in evaluation.reasons[0].examples}
    assert examples[covered.fingerprint]["exception_not_applied"] == {
        "id": "EXC-1",
        "why": "expired on 2026-11-25",
    }
    assert "exception_not_applied" not in examples[uncovered.fingerprint]


def test_an_exception_uses_the_same_when_as_rules() -> None:
    f = finding(Kind.CODE, severity=Severity.MEDIUM, fingerprint="known", path="src/legacy/db.py")
    waiver = exception(kind="code", path="src/legacy/*", new=False)
    assert run([f], rule(), exceptions=[waiver], baseline=frozenset({"known"})).decision is Decision.PASS
    assert run([f], rule(), exceptions=[waiver], baseline=None).decision is Decision.FAIL


# ---------------------------------------------------------------- properties

RANK = {Decision.PASS: 0, Decision.WARN: 1, Decision.FAIL: 2}
ENVIRONMENTS = ["dev", "uat", "prod"]
SERVICES = ["backend", "payments-api"]


def one_or_many(values: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return values | st.lists(values, min_size=1, max_size=3)


whens = st.fixed_dictionaries(
    {},
    optional={
        "kind": one_or_many(st.sampled_from([k.value for k in Kind])),
        "severity": one_or_many(st.sampled_from([s.name for s in Severity])),
        "min_severity": st.sampled_from([s.name for s in Severity]),
        "scanner": one_or_many(st.sampled_from(["semgrep", "trivy-*", "trivy-fs"])),
        "rule_id": one_or_many(st.sampled_from(["CVE-2023-*", "CVE-2023-0286", "AGPL-3.0*", "*-rule"])),
        "package": one_or_many(st.sampled_from(["openssl", "lib*", "*"])),
        "path": one_or_many(st.sampled_from(["src/*", "*.py", "Dockerfile"])),
        "fixable": st.booleans(),
        "new": st.booleans(),
        "age": st.sampled_from([">14d", ">=7d", "<3d", "<=14d", ">0d"]),
    },
)

findings_strategy = st.lists(
    st.builds(
        Finding,
        fingerprint=st.text("0123456789abcdef", min_size=1, max_size=6),
        scanner=st.sampled_from(["semgrep", "trivy-image", "trivy-fs"]),
        kind=st.sampled_from(Kind),
        rule_id=st.sampled_from(["CVE-2023-0286", "CVE-2024-0001", "AGPL-3.0-only", "my-rule"]),
        severity=st.sampled_from(Severity),
        package=st.none() | st.sampled_from(["openssl", "libcurl", "lodash"]),
        installed_version=st.none() | st.just("1.0.0"),
        fixed_version=st.none() | st.just("1.0.1"),
        path=st.none() | st.sampled_from(["src/app.py", "Dockerfile", "app/main.js"]),
        first_seen=st.none() | st.integers(0, 30).map(lambda days: NOW - timedelta(days=days)),
    ),
    max_size=30,
    # within one scan a fingerprint is unique (the store and the adapters guarantee it)
    unique_by=lambda f: f.fingerprint,
)


@st.composite
def policies(draw: st.DrawFn, actions: Sequence[str] = ("block", "warn")) -> ResolvedPolicy:
    specs = draw(st.lists(st.tuples(whens, st.sampled_from(actions), st.integers(0, 3)), max_size=5))
    return policy(*(rule(f"r{i}", action, max, **when) for i, (when, action, max) in enumerate(specs)))


@st.composite
def exceptions_strategy(draw: st.DrawFn, exc_id: str = "EXC-X") -> PolicyException:
    return exception(
        exc_id,
        expires=NOW.date() + timedelta(days=draw(st.integers(-3, 3))),
        services=draw(st.none() | st.lists(st.sampled_from(SERVICES), min_size=1, unique=True)),
        environments=draw(st.none() | st.lists(st.sampled_from(ENVIRONMENTS), min_size=1, unique=True)),
        **draw(whens),
    )


contexts = st.fixed_dictionaries(
    {
        "service": st.sampled_from(SERVICES),
        "environment": st.sampled_from(ENVIRONMENTS),
        "baseline": st.none() | st.frozensets(st.text("0123456789abcdef", min_size=1, max_size=2)),
    }
)

property_settings = settings(max_examples=200, deadline=None, database=None)


def judge(
    findings: Sequence[Finding],
    resolved: ResolvedPolicy,
    exceptions: Sequence[PolicyException],
    **context: Any,
) -> Evaluation:
    return evaluate(
        findings, policy=resolved, policy_digest="sha256:p", exceptions=exceptions, now=NOW, **context
    )


@property_settings
@given(
    findings_strategy,
    policies(),
    st.lists(exceptions_strategy(), max_size=2),
    exceptions_strategy("EXC-NEW"),
    contexts,
)
def test_adding_an_exception_never_makes_the_decision_worse(
    findings: list[Finding],
    resolved: ResolvedPolicy,
    existing: list[PolicyException],
    added: PolicyException,
    context: dict[str, Any],
) -> None:
    before = judge(findings, resolved, existing, **context)
    after = judge(findings, resolved, [*existing, added], **context)
    assert RANK[after.decision] <= RANK[before.decision]
    counts_before = {r.rule_id: r.count for r in before.reasons}
    for reason in after.reasons:
        assert reason.count <= counts_before[reason.rule_id]


@property_settings
@given(findings_strategy, policies(), whens, contexts)
def test_an_active_exception_in_scope_waives_exactly_what_it_covers(
    findings: list[Finding], resolved: ResolvedPolicy, when: dict[str, Any], context: dict[str, Any]
) -> None:
    waiver = exception(
        "EXC-ACTIVE",
        expires=NOW.date(),
        services=[context["service"]],
        environments=[context["environment"]],
        **when,
    )
    before = judge(findings, resolved, [], **context)
    after = judge(findings, resolved, [waiver], **context)
    assert RANK[after.decision] <= RANK[before.decision]
    waived = sum(e["count"] for e in after.exceptions_applied)
    covered = judge(findings, policy(rule("covered", "warn", **when)), [], **context)
    assert waived == (covered.reasons[0].count if covered.reasons else 0)
    everything = judge(findings, policy(rule("all", "warn")), [waiver], **context)
    assert len(findings) - waived == (everything.reasons[0].count if everything.reasons else 0)


@property_settings
@given(
    findings_strategy, st.integers(0, 30), policies(), st.lists(exceptions_strategy(), max_size=2), contexts
)
def test_adding_findings_never_makes_the_decision_better(
    findings: list[Finding],
    split: int,
    resolved: ResolvedPolicy,
    exceptions: list[PolicyException],
    context: dict[str, Any],
) -> None:
    fewer = judge(findings[:split], resolved, exceptions, **context)
    more = judge(findings, resolved, exceptions, **context)
    assert RANK[more.decision] >= RANK[fewer.decision]
    if fewer.decision is Decision.FAIL:
        assert more.decision is Decision.FAIL


@property_settings
@given(findings_strategy, policies(actions=("warn",)), st.lists(exceptions_strategy(), max_size=2), contexts)
def test_a_policy_of_warnings_never_fails(
    findings: list[Finding],
    resolved: ResolvedPolicy,
    exceptions: list[PolicyException],
    context: dict[str, Any],
) -> None:
    assert judge(findings, resolved, exceptions, **context).decision in (Decision.PASS, Decision.WARN)


def summary(evaluation: Evaluation) -> Any:
    return (
        evaluation.decision,
        [
            (r.rule_id, r.count, r.triggered, sorted(ex["fingerprint"] for ex in r.examples))
            for r in evaluation.reasons
        ],
        [r.examples for r in evaluation.reasons],
        sorted((e["id"], e["count"]) for e in evaluation.exceptions_applied),
    )


@property_settings
@given(
    findings_strategy.flatmap(lambda fs: st.tuples(st.just(fs), st.permutations(fs))),
    policies(),
    st.lists(exceptions_strategy(), max_size=2),
    contexts,
)
def test_the_order_of_findings_does_not_matter(
    orders: tuple[list[Finding], list[Finding]],
    resolved: ResolvedPolicy,
    exceptions: list[PolicyException],
    context: dict[str, Any],
) -> None:
    original, shuffled = orders
    first = judge(original, resolved, exceptions, **context)
    assert summary(judge(shuffled, resolved, exceptions, **context)) == summary(first)
    for reason in first.reasons:
        assert len(reason.examples) == min(reason.count, MAX_EXAMPLES)


def test_order_independence_holds_beyond_the_example_cap() -> None:
    findings = [finding(fingerprint=f"{i:03d}") for i in range(50)]
    forward = run(findings, rule())
    backward = run(reversed(findings), rule())
    assert forward.reasons[0].examples == backward.reasons[0].examples


# ---------------------------------------------------------------- the bundled policies


@pytest.fixture(scope="module")
def bundled() -> Any:
    return load_policy_set(BUNDLED)


def judge_bundled(
    policy_set: Any,
    environment: str,
    findings: Sequence[Finding],
    *,
    baseline: frozenset[str] | None = None,
    now: datetime = NOW,
    service: str = "backend",
) -> Evaluation:
    return evaluate(
        findings,
        policy=policy_set.policy_for(environment),
        policy_digest=policy_set.digest,
        exceptions=policy_set.exceptions,
        service=service,
        environment=environment,
        now=now,
        baseline=baseline,
    )


def triggered(evaluation: Evaluation) -> dict[str, str]:
    return {r.rule_id: r.action for r in evaluation.reasons if r.triggered}


SECRET = finding(Kind.SECRET, Severity.CRITICAL, rule_id="aws-access-key-id", path="config/.env")
CRITICAL_VULN = finding(Kind.VULNERABILITY, Severity.CRITICAL, package="openssl", fixed_version="3.0.8-r0")


@pytest.mark.parametrize("environment", ["dev", "uat", "prod"])
def test_every_environment_blocks_a_secret(bundled: Any, environment: str) -> None:
    evaluation = judge_bundled(bundled, environment, [SECRET])
    assert evaluation.decision is Decision.FAIL
    assert triggered(evaluation)["no-secrets"] == "block"
    assert evaluation.policy == environment
    assert evaluation.policy_digest == bundled.digest


def test_dev_only_warns_on_a_critical_vulnerability(bundled: Any) -> None:
    evaluation = judge_bundled(bundled, "dev", [CRITICAL_VULN])
    assert evaluation.decision is Decision.WARN
    assert triggered(evaluation) == {"dev-visibility": "warn"}


def test_dev_passes_low_findings(bundled: Any) -> None:
    assert judge_bundled(bundled, "dev", [finding(severity=Severity.LOW)]).decision is Decision.PASS


def test_uat_blocks_critical_and_warns_on_high(bundled: Any) -> None:
    unfixed_critical = finding(severity=Severity.CRITICAL, package="glibc")
    assert judge_bundled(bundled, "uat", [unfixed_critical]).decision is Decision.FAIL
    assert judge_bundled(bundled, "uat", [finding(Kind.CODE, Severity.CRITICAL)]).decision is Decision.FAIL
    assert judge_bundled(bundled, "uat", [finding(severity=Severity.HIGH)]).decision is Decision.WARN


def test_prod_blocks_a_fixable_high_vulnerability(bundled: Any) -> None:
    f = finding(severity=Severity.HIGH, package="curl", fixed_version="8.0.1", first_seen=NOW)
    evaluation = judge_bundled(bundled, "prod", [f])
    assert evaluation.decision is Decision.FAIL
    assert triggered(evaluation) == {"fixable-high": "block"}
    assert evaluation.reasons[0].examples[0]["fixed_version"] == "8.0.1"


def test_prod_blocks_a_high_code_finding_even_when_known(bundled: Any) -> None:
    f = finding(Kind.CODE, Severity.HIGH, rule_id="python-eval-exec-nonliteral", path="src/app.py")
    evaluation = judge_bundled(bundled, "prod", [f], baseline=frozenset({f.fingerprint}))
    assert evaluation.decision is Decision.FAIL
    assert triggered(evaluation) == {"high-code": "block"}


def test_prod_blocks_a_new_medium_code_finding_but_not_a_known_one(bundled: Any) -> None:
    f = finding(Kind.CODE, Severity.MEDIUM, rule_id="python-flask-debug-true", path="src/app.py")
    new = judge_bundled(bundled, "prod", [f], baseline=frozenset({"something-else"}))
    assert new.decision is Decision.FAIL
    assert triggered(new) == {"new-medium-code": "block"}
    assert judge_bundled(bundled, "prod", [f], baseline=None).decision is Decision.FAIL
    known = judge_bundled(bundled, "prod", [f], baseline=frozenset({f.fingerprint}))
    assert known.decision is Decision.PASS


@pytest.mark.parametrize(
    ("days_old", "decision", "rule_id"),
    [
        (0, Decision.WARN, "unfixed-high-in-grace"),
        (13, Decision.WARN, "unfixed-high-in-grace"),
        (14, Decision.WARN, "unfixed-high-in-grace"),
        (15, Decision.FAIL, "unfixed-high-past-grace"),
        (60, Decision.FAIL, "unfixed-high-past-grace"),
    ],
)
def test_prod_gives_an_unfixed_high_vulnerability_14_days_of_grace(
    bundled: Any, days_old: int, decision: Decision, rule_id: str
) -> None:
    f = finding(severity=Severity.HIGH, package="glibc", first_seen=NOW - timedelta(days=days_old))
    evaluation = judge_bundled(bundled, "prod", [f])
    assert evaluation.decision is decision
    assert set(triggered(evaluation)) == {rule_id}


def test_prod_grace_runs_from_first_seen_as_time_passes(bundled: Any) -> None:
    seen = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    f = finding(severity=Severity.HIGH, package="glibc", first_seen=seen)
    assert judge_bundled(bundled, "prod", [f], now=seen + timedelta(days=13)).decision is Decision.WARN
    assert judge_bundled(bundled, "prod", [f], now=seen + timedelta(days=15)).decision is Decision.FAIL


def test_prod_passes_a_set_of_low_findings(bundled: Any) -> None:
    lows = [
        finding(Kind.VULNERABILITY, Severity.LOW, package="zlib", fixed_version="1.3.1"),
        finding(Kind.CODE, Severity.LOW, rule_id="python-assert-for-auth", path="src/auth.py"),
        finding(Kind.MISCONFIGURATION, Severity.LOW, rule_id="DS026", path="Dockerfile"),
    ]
    evaluation = judge_bundled(bundled, "prod", lows)
    assert evaluation.decision is Decision.PASS
    assert evaluation.reasons == []


def test_prod_tolerates_25_medium_vulnerabilities_then_warns(bundled: Any) -> None:
    mediums = [finding(severity=Severity.MEDIUM, package=f"p{i}") for i in range(26)]
    assert judge_bundled(bundled, "prod", mediums[:25]).decision is Decision.PASS
    assert judge_bundled(bundled, "prod", mediums).decision is Decision.WARN


def test_the_bundled_openssl_exception_covers_payments_api_only(bundled: Any) -> None:
    f = finding(severity=Severity.HIGH, package="openssl", fixed_version="3.0.8-r0")
    payments = judge_bundled(bundled, "prod", [f], service="payments-api")
    assert payments.decision is Decision.PASS
    assert [e["id"] for e in payments.exceptions_applied] == ["EXC-2026-014"]
    backend = judge_bundled(bundled, "prod", [f], service="backend")
    assert backend.decision is Decision.FAIL
    assert backend.reasons[0].examples[0]["exception_not_applied"]["id"] == "EXC-2026-014"
    after_expiry = judge_bundled(
        bundled, "prod", [f], service="payments-api", now=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert after_expiry.decision is Decision.FAIL
