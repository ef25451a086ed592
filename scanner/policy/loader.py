"""Load and validate a policy set from a folder: every error names its file, line and field."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .schema import DuplicateRuleIdError, Policy, PolicyException, parse_duration


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PolicySetError(ValueError):
    """The set does not validate; it is rejected whole."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class PolicyNotFoundError(LookupError):
    """No policy covers the requested environment."""


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    """A policy with its `extends` chain flattened: the base's rules come first."""

    name: str
    environments: tuple[str, ...]
    rules: tuple[Any, ...]
    freshness_seconds: float | None
    allow_fail_open: bool = False
    allow_stale_db: bool = False


@dataclass(frozen=True)
class PolicySet:
    policies: dict[str, Policy]
    exceptions: tuple[PolicyException, ...]
    digest: str
    source: str = ""
    # exception id -> (file, line of `expires`), so `policy lint` can point at an expired one
    exception_locations: dict[str, tuple[str, int]] = field(default_factory=dict)

    def environments(self) -> list[str]:
        return sorted({env for p in self.policies.values() for env in p.environments})

    def policy_for(self, environment: str) -> ResolvedPolicy:
        matching = [p for p in self.policies.values() if environment in p.environments]
        if not matching:
            raise PolicyNotFoundError(f"no policy covers environment {environment!r}")
        policy = matching[0]
        chain: list[Policy] = []
        current: Policy | None = policy
        while current is not None:
            chain.append(current)
            current = self.policies[current.extends] if current.extends else None
        rules = tuple(rule for p in reversed(chain) for rule in p.rules)
        freshness = next((p.freshness for p in chain if p.freshness), None)
        return ResolvedPolicy(
            name=policy.name,
            environments=tuple(policy.environments),
            rules=rules,
            freshness_seconds=parse_duration(freshness).total_seconds() if freshness else None,
            allow_fail_open=policy.allow_fail_open,
            allow_stale_db=policy.allow_stale_db,
        )


def digest_of(policies: dict[str, Policy], exceptions: Sequence[PolicyException]) -> str:
    """sha256 over the normalized content: comments, key order and formatting do not count."""
    normalized = {
        "policies": [policies[name].model_dump(mode="json", exclude_none=True) for name in sorted(policies)],
        "exceptions": sorted(
            (e.model_dump(mode="json", exclude_none=True) for e in exceptions), key=lambda e: str(e["id"])
        ),
    }
    blob = json.dumps(normalized, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def load_policy_set(directory: Path) -> PolicySet:
    problems: list[Problem] = []
    policies: dict[str, Policy] = {}
    policy_files: dict[str, tuple[str, yaml.Node]] = {}
    exceptions: list[PolicyException] = []
    exception_files: dict[str, str] = {}
    exception_locations: dict[str, tuple[str, int]] = {}
    if not directory.is_dir():
        raise PolicySetError([Problem(str(directory), 0, "policy folder does not exist")])

    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    exc_dir = directory / "exceptions"
    exc_files = sorted(exc_dir.glob("*.yaml")) + sorted(exc_dir.glob("*.yml")) if exc_dir.is_dir() else []

    for path in files:
        rel = _display(path, directory)
        for doc, node in _documents(path, rel, problems):
            kind = doc.get("kind") if isinstance(doc, dict) else None
            if kind == "Exception":
                problems.append(Problem(rel, _line(node, ()), "exceptions belong under exceptions/"))
                continue
            try:
                policy = Policy.model_validate(doc)
            except ValidationError as exc:
                problems.extend(_problems(exc, rel, node))
                continue
            if policy.name in policies:
                first = policy_files[policy.name]
                problems.append(
                    Problem(
                        rel,
                        _line(node, ("name",)),
                        f"duplicate policy name {policy.name!r} (also in {first[0]})",
                    )
                )
                continue
            policies[policy.name] = policy
            policy_files[policy.name] = (rel, node)

    for path in exc_files:
        rel = _display(path, directory)
        for doc, node in _documents(path, rel, problems):
            try:
                exc_obj = PolicyException.model_validate(doc)
            except ValidationError as err:
                problems.extend(_problems(err, rel, node))
                continue
            if exc_obj.id in exception_files:
                problems.append(
                    Problem(
                        rel,
                        _line(node, ("id",)),
                        f"duplicate exception id {exc_obj.id!r} (also in {exception_files[exc_obj.id]})",
                    )
                )
                continue
            exception_files[exc_obj.id] = rel
            exception_locations[exc_obj.id] = (rel, _line(node, ("expires",)))
            exceptions.append(exc_obj)

    problems.extend(_check_links(policies, policy_files))
    if problems:
        raise PolicySetError(problems)
    return PolicySet(
        policies=policies,
        exceptions=tuple(exceptions),
        digest=digest_of(policies, exceptions),
        source=str(directory),
        exception_locations=exception_locations,
    )


def _check_links(policies: dict[str, Policy], files: dict[str, tuple[str, yaml.Node]]) -> list[Problem]:
    problems: list[Problem] = []
    for name, policy in policies.items():
        file, node = files[name]
        line = _line(node, ("extends",))
        if policy.extends and policy.extends not in policies:
            problems.append(Problem(file, line, f"extends: unknown policy {policy.extends!r}"))
            continue
        seen = [name]
        current = policy
        while current.extends and current.extends in policies:
            if current.extends in seen:
                cycle = " -> ".join([*seen, current.extends])
                problems.append(Problem(file, line, f"extends: cycle {cycle}"))
                break
            seen.append(current.extends)
            current = policies[current.extends]
    owners: dict[str, str] = {}
    for name in sorted(policies):
        for index, env in enumerate(policies[name].environments):
            if env in owners:
                file, node = files[name]
                problems.append(
                    Problem(
                        file,
                        _line(node, ("environments", index)),
                        f"environments: {env!r} is already covered by policy {owners[env]!r}",
                    )
                )
            owners[env] = name
    return problems


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _documents(path: Path, rel: str, problems: list[Problem]) -> list[tuple[Any, yaml.Node]]:
    try:
        text = path.read_text("utf-8")
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        docs = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        problems.append(Problem(rel, (mark.line + 1) if mark else 0, f"invalid YAML: {exc.problem}"))
        return []
    except RecursionError:
        problems.append(Problem(rel, 0, "the document is nested too deeply"))
        return []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(rel, 0, f"cannot read: {exc}"))
        return []
    out = []
    for doc, node in zip(docs, nodes, strict=True):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            problems.append(Problem(rel, node.start_mark.line + 1, "a policy document must be a mapping"))
            continue
        out.append((doc, node))
    return out


def _problems(exc: ValidationError, rel: str, node: yaml.Node) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, DuplicateRuleIdError):
            loc = (*loc, cause.index, "id")  # point at the second rule, not at `rules:`
        field = ".".join(str(p) for p in loc) or "(document)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required field is missing"
        problems.append(Problem(rel, _line(node, loc), f"{field}: {message}"))
    return problems


def _line(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node along a pydantic error location (1-based)."""
    current = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if key.value == part:
                    # an unknown or misspelt key is best reported on the key itself
                    current = value if not isinstance(value, yaml.ScalarNode) else key
                    break
            else:
                break
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
        else:
            break
    return int(current.start_mark.line) + 1
