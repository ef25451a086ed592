"""Loading a policy set: a broken set is rejected whole and every problem names its file and the line of
the offending field; the digest covers meaning, not formatting; `policy lint` flags old exceptions."""

from __future__ import annotations

import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest

from scanner.policy.lint import lint
from scanner.policy.loader import PolicyNotFoundError, PolicySetError, Problem, load_policy_set

BUNDLED = Path(__file__).resolve().parents[1] / "policies"

PROD = """\
apiVersion: releasegate/v1
kind: Policy
name: prod
environments: [prod]
freshness: 24h
rules:
  - id: no-secrets
    when: {kind: secret}
    action: block
  - id: medium-budget
    when: {kind: vulnerability, severity: MEDIUM}
    action: block
    max: 25
"""

EXCEPTION = """\
apiVersion: releasegate/v1
kind: Exception
id: EXC-1
when: {rule_id: CVE-2023-0286, package: openssl}
reason: unreachable
owner: security@example.org
expires: 2026-12-31
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def policy_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    return write(tmp_path / "policies", files)


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the only line containing `marker`."""
    hits = [n for n, line in enumerate(textwrap.dedent(text).splitlines(), 1) if marker in line]
    assert len(hits) == 1, f"{marker!r} must occur once, found on lines {hits}"
    return hits[0]


def problems_of(directory: Path) -> list[Problem]:
    with pytest.raises(PolicySetError) as raised:
        load_policy_set(directory)
    return raised.value.problems


def only_problem(directory: Path) -> Problem:
    problems = problems_of(directory)
    assert len(problems) == 1, problems
    return problems[0]


# ---------------------------------------------------------------- a valid set


def test_a_valid_set_loads(tmp_path: Path) -> None:
    policies = load_policy_set(policy_dir(tmp_path, {"prod.yaml": PROD, "exceptions/exc-1.yaml": EXCEPTION}))
    assert set(policies.policies) == {"prod"}
    assert [e.id for e in policies.exceptions] == ["EXC-1"]
    assert policies.digest.startswith("sha256:")
    assert len(policies.digest) == len("sha256:") + 64


def test_policy_for_puts_the_base_rules_first_and_inherits_freshness(tmp_path: Path) -> None:
    base = """\
    apiVersion: releasegate/v1
    kind: Policy
    name: base
    freshness: 72h
    rules:
      - {id: no-secrets, when: {kind: secret}, action: block}
    """
    child = """\
    apiVersion: releasegate/v1
    kind: Policy
    name: dev
    extends: base
    environments: [dev, preview]
    rules:
      - {id: visibility, when: {min_severity: MEDIUM}, action: warn}
    """
    policies = load_policy_set(policy_dir(tmp_path, {"base.yaml": base, "dev.yaml": child}))
    resolved = policies.policy_for("preview")
    assert resolved.name == "dev"
    assert [r.id for r in resolved.rules] == ["no-secrets", "visibility"]
    assert resolved.freshness_seconds == 72 * 3600
    assert policies.environments() == ["dev", "preview"]


def test_an_environment_without_policy_is_not_found(tmp_path: Path) -> None:
    policies = load_policy_set(policy_dir(tmp_path, {"prod.yaml": PROD}))
    with pytest.raises(PolicyNotFoundError):
        policies.policy_for("staging")


def test_a_single_severity_and_a_list_mean_the_same(tmp_path: Path) -> None:
    one = load_policy_set(policy_dir(tmp_path / "a", {"prod.yaml": PROD}))
    listed = load_policy_set(
        policy_dir(tmp_path / "b", {"prod.yaml": PROD.replace("severity: MEDIUM", "severity: [medium]")})
    )
    assert one.digest == listed.digest


def test_the_bundled_policies_load() -> None:
    policies = load_policy_set(BUNDLED)
    assert {"base", "dev", "uat", "prod"} <= set(policies.policies)
    assert policies.environments() == ["dev", "prod", "uat"]
    for env in ("dev", "uat", "prod"):
        assert policies.policy_for(env).rules[0].id == "no-secrets"


# ---------------------------------------------------------------- digest


def bundled_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(BUNDLED, copy, ignore=shutil.ignore_patterns("semgrep"))
    return copy


def test_the_digest_is_stable_across_loads_and_locations(tmp_path: Path) -> None:
    first = load_policy_set(BUNDLED).digest
    assert load_policy_set(BUNDLED).digest == first
    assert load_policy_set(bundled_copy(tmp_path)).digest == first


def test_comments_and_layout_do_not_change_the_digest(tmp_path: Path) -> None:
    copy = bundled_copy(tmp_path)
    before = load_policy_set(copy).digest
    prod = copy / "prod.yaml"
    text = prod.read_text()
    text = "# reviewed by security, 2026-11\n" + text.replace(
        "  - id: high-code\n", "  # HIGH code is never acceptable in prod\n  - id: high-code\n"
    )
    # the same mapping in block style with its keys in another order
    text = text.replace(
        "    when: {kind: code, min_severity: HIGH}\n",
        "    when:\n      min_severity: HIGH\n      kind: code\n",
    )
    prod.write_text(text)
    assert "min_severity: HIGH\n      kind: code" in prod.read_text()
    assert load_policy_set(copy).digest == before


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("prod.yaml", 'age: ">14d"', 'age: ">21d"'),
        ("prod.yaml", "max: 25", "max: 26"),
        ("base.yaml", "action: block", "action: warn"),
        ("exceptions/example-openssl.yaml", "expires: 2026-12-31", "expires: 2027-01-31"),
    ],
)
def test_a_change_of_meaning_changes_the_digest(tmp_path: Path, file: str, old: str, new: str) -> None:
    copy = bundled_copy(tmp_path)
    before = load_policy_set(copy).digest
    path = copy / file
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    assert load_policy_set(copy).digest != before


# ---------------------------------------------------------------- problems: file and line


def test_an_unknown_key_in_a_rule_is_named_on_its_line(tmp_path: Path) -> None:
    text = PROD.replace("when: {kind: secret}", "when: {kind: secret, sevrity: HIGH}")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert problem.file == "policies/prod.yaml"
    assert problem.line == line_of(text, "sevrity")
    assert "rules.0.when.sevrity" in problem.message
    assert "unknown key" in problem.message


def test_an_unknown_top_level_key_is_named_on_its_line(tmp_path: Path) -> None:
    text = PROD.replace("freshness: 24h\n", "freshness: 24h\nenvironment: prod\n")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert (problem.file, problem.line) == ("policies/prod.yaml", line_of(text, "environment:"))
    assert problem.message == "environment: unknown key"


def test_an_unknown_key_in_an_exception_is_named_on_its_line(tmp_path: Path) -> None:
    text = EXCEPTION.replace("reason:", "service: [payments-api]\nreason:")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": PROD, "exceptions/exc.yaml": text}))
    assert (problem.file, problem.line) == ("policies/exceptions/exc.yaml", line_of(text, "service:"))
    assert "unknown key" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("    max: 25", "    max: lots", "rules.1.max"),
        ("    max: 25", "    max: -1", "rules.1.max"),
        ("environments: [prod]", "environments: prod", "environments"),
        ("when: {kind: secret}", "when: {kind: secret, fixable: maybe}", "rules.0.when.fixable"),
        ("when: {kind: secret}", "when: {kind: malware}", "rules.0.when.kind.0"),
        ("when: {kind: secret}", "when: {kind: secret, age: 14d}", "rules.0.when.age"),
        ("    action: block\n    max", "    action: deny\n    max", "rules.1.action"),
        ("freshness: 24h", "freshness: daily", "freshness"),
    ],
)
def test_a_wrong_type_is_named_on_its_line(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert PROD.count(old) == 1
    text = PROD.replace(old, new)
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert problem.file == "policies/prod.yaml"
    assert problem.line == line_of(text, new.strip().splitlines()[0])
    assert problem.message.startswith(f"{field}: ")


def test_a_wrong_type_in_an_exception_is_named_on_its_line(tmp_path: Path) -> None:
    text = EXCEPTION.replace("expires: 2026-12-31", "expires: someday")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": PROD, "exceptions/exc.yaml": text}))
    assert (problem.file, problem.line) == ("policies/exceptions/exc.yaml", line_of(text, "expires:"))
    assert problem.message.startswith("expires: ")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("severity: MEDIUM", "severity: SEVERE"),
        ("severity: MEDIUM", "severity: [HIGH, SEVERE]"),
        ("severity: MEDIUM", "min_severity: SEVERE"),
        ("severity: MEDIUM", "severity: ERROR"),
    ],
)
def test_an_unknown_severity_is_named_on_its_line(tmp_path: Path, old: str, new: str) -> None:
    text = PROD.replace(old, new)
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert (problem.file, problem.line) == ("policies/prod.yaml", line_of(text, new))
    assert "unknown severity" in problem.message


def test_a_duplicate_rule_id_is_named_on_the_second_rule(tmp_path: Path) -> None:
    text = PROD.replace("  - id: medium-budget", "  - id: no-secrets")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert problem.file == "policies/prod.yaml"
    first, second = [n for n, line in enumerate(text.splitlines(), 1) if line == "  - id: no-secrets"]
    assert problem.line == second
    assert "duplicate rule id 'no-secrets'" in problem.message


def test_a_duplicate_exception_id_is_named_in_the_second_file(tmp_path: Path) -> None:
    other = EXCEPTION.replace("# ", "").replace("CVE-2023-0286", "CVE-2024-0001")
    directory = policy_dir(
        tmp_path, {"prod.yaml": PROD, "exceptions/a.yaml": EXCEPTION, "exceptions/b.yaml": other}
    )
    problem = only_problem(directory)
    assert (problem.file, problem.line) == ("policies/exceptions/b.yaml", line_of(other, "id: EXC-1"))
    assert "duplicate exception id 'EXC-1'" in problem.message
    assert "policies/exceptions/a.yaml" in problem.message


def test_a_missing_expires_is_named_at_the_exception(tmp_path: Path) -> None:
    text = "# waiver for the openssl CVE\n" + EXCEPTION.replace("expires: 2026-12-31\n", "")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": PROD, "exceptions/exc.yaml": text}))
    # a missing field has no line of its own: the problem points at the document it is missing from
    assert (problem.file, problem.line) == ("policies/exceptions/exc.yaml", line_of(text, "apiVersion"))
    assert problem.message == "expires: required field is missing"


def test_an_extends_cycle_is_named_on_the_extends_lines(tmp_path: Path) -> None:
    a = "# first\n" + PROD.replace("environments: [prod]", "extends: b\nenvironments: [prod]")
    b = PROD.replace("name: prod", "name: b").replace("environments: [prod]\n", "extends: prod\n")
    problems = problems_of(policy_dir(tmp_path, {"a.yaml": a, "b.yaml": b}))
    where = sorted((p.file, p.line) for p in problems)
    assert where == [("policies/a.yaml", line_of(a, "extends:")), ("policies/b.yaml", line_of(b, "extends:"))]
    assert all("cycle" in p.message for p in problems)


def test_a_policy_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    text = PROD.replace("environments: [prod]", "extends: prod\nenvironments: [prod]")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert (problem.file, problem.line) == ("policies/prod.yaml", line_of(text, "extends:"))
    assert "cycle" in problem.message


def test_an_unknown_extends_target_is_named_on_its_line(tmp_path: Path) -> None:
    text = "# prod\n\n" + PROD.replace("environments: [prod]", "extends: bsae\nenvironments: [prod]")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert (problem.file, problem.line) == ("policies/prod.yaml", line_of(text, "extends:"))
    assert problem.message == "extends: unknown policy 'bsae'"


def test_an_environment_covered_twice_is_named_on_its_line(tmp_path: Path) -> None:
    other = PROD.replace("name: prod", "name: prod-too")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": PROD, "prod-too.yaml": other}))
    assert (problem.file, problem.line) == ("policies/prod-too.yaml", line_of(other, "environments:"))
    assert "'prod' is already covered by policy 'prod'" in problem.message


def test_invalid_yaml_is_named_on_its_line(tmp_path: Path) -> None:
    text = PROD.replace("    action: block\n    max: 25", "    action: block: now\n    max: 25")
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": text}))
    assert (problem.file, problem.line) == ("policies/prod.yaml", line_of(text, "block: now"))
    assert problem.message.startswith("invalid YAML")


def test_an_exception_among_the_policies_is_refused(tmp_path: Path) -> None:
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": PROD, "exc.yaml": EXCEPTION}))
    assert (problem.file, problem.line) == ("policies/exc.yaml", 1)
    assert "exceptions/" in problem.message


def test_a_document_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    problem = only_problem(policy_dir(tmp_path, {"prod.yaml": PROD, "list.yaml": "# x\n- a\n- b\n"}))
    assert (problem.file, problem.line) == ("policies/list.yaml", 2)


def test_every_problem_of_the_set_is_reported_at_once(tmp_path: Path) -> None:
    broken_policy = PROD.replace("max: 25", "max: lots")
    broken_exception = EXCEPTION.replace("owner: security@example.org\n", "")
    problems = problems_of(
        policy_dir(tmp_path, {"prod.yaml": broken_policy, "exceptions/exc.yaml": broken_exception})
    )
    assert sorted(p.file for p in problems) == ["policies/exceptions/exc.yaml", "policies/prod.yaml"]
    assert str(problems[0]).startswith(f"{problems[0].file}:{problems[0].line}: ")


def test_a_missing_folder_is_a_problem(tmp_path: Path) -> None:
    problem = only_problem(tmp_path / "nowhere")
    assert "does not exist" in problem.message


# ---------------------------------------------------------------- lint


def exception_expiring(exc_id: str, expires: str) -> str:
    return EXCEPTION.replace("id: EXC-1", f"id: {exc_id}").replace("2026-12-31", expires)


def test_lint_flags_expired_exceptions_and_warns_on_those_expiring_soon(tmp_path: Path) -> None:
    directory = policy_dir(
        tmp_path,
        {
            "prod.yaml": PROD,
            "exceptions/expired.yaml": exception_expiring("EXC-EXPIRED", "2026-11-30"),
            "exceptions/today.yaml": exception_expiring("EXC-TODAY", "2026-12-01"),
            "exceptions/in-14.yaml": exception_expiring("EXC-IN-14", "2026-12-15"),
            "exceptions/in-15.yaml": exception_expiring("EXC-IN-15", "2026-12-16"),
        },
    )
    problems, warnings = lint(directory, today=date(2026, 12, 1))
    assert len(problems) == 1
    expired = exception_expiring("EXC-EXPIRED", "2026-11-30")
    assert (problems[0].file, problems[0].line) == (
        "policies/exceptions/expired.yaml",
        line_of(expired, "expires:"),
    )
    assert "EXC-EXPIRED" in problems[0].message
    assert "expired on 2026-11-30" in problems[0].message
    assert len(warnings) == 2
    assert any("EXC-TODAY" in w for w in warnings)
    assert any("EXC-IN-14" in w and "security@example.org" in w for w in warnings)
    assert not any("EXC-IN-15" in w for w in warnings)


def test_lint_of_a_clean_set_is_quiet(tmp_path: Path) -> None:
    directory = policy_dir(tmp_path, {"prod.yaml": PROD, "exceptions/exc.yaml": EXCEPTION})
    assert lint(directory, today=date(2026, 1, 1)) == ([], [])


def test_lint_reports_the_loaders_problems(tmp_path: Path) -> None:
    directory = policy_dir(tmp_path, {"prod.yaml": PROD.replace("max: 25", "max: lots")})
    problems, warnings = lint(directory, today=date(2026, 1, 1))
    assert [(p.file, p.line) for p in problems] == [("policies/prod.yaml", line_of(PROD, "max: 25"))]
    assert warnings == []
