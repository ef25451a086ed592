"""The YAML policy format (SPEC section 4) as pydantic models: unknown keys and wrong types are errors."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from scanner.findings import Kind, Severity

_DURATION = re.compile(r"^\s*(?P<n>\d+)\s*(?P<unit>[smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_AGE = re.compile(r"^\s*(?P<op>>=|<=|>|<)\s*(?P<d>\d+\s*[smhdw])\s*$")


def parse_duration(value: str) -> timedelta:
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (expected e.g. 24h, 14d, 30m)")
    return timedelta(**{_UNITS[m["unit"]]: int(m["n"])})


def _one_or_many(value: object) -> object:
    if value is None or isinstance(value, list):
        return value
    return [value]


def _severity_list(value: object) -> object:
    value = _one_or_many(value)
    if isinstance(value, list):
        return [Severity.parse(str(v)).name for v in value]
    return value


StrList = Annotated[list[str] | None, BeforeValidator(_one_or_many)]
SeverityName = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]


class DuplicateRuleIdError(ValueError):
    def __init__(self, rule_id: str, index: int) -> None:
        super().__init__(f"duplicate rule id {rule_id!r}")
        self.index = index


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(Strict):
    kind: Annotated[list[Kind] | None, BeforeValidator(_one_or_many)] = None
    severity: Annotated[list[SeverityName] | None, BeforeValidator(_severity_list)] = None
    min_severity: SeverityName | None = None
    scanner: StrList = None
    rule_id: StrList = None
    package: StrList = None
    path: StrList = None
    fixable: bool | None = None
    new: bool | None = None
    age: str | None = None

    @field_validator("min_severity", mode="before")
    @classmethod
    def _min_severity(cls, v: object) -> object:
        return Severity.parse(str(v)).name if v is not None else v

    @field_validator("age")
    @classmethod
    def _age(cls, v: str | None) -> str | None:
        if v is not None and not _AGE.match(v):
            raise ValueError(f"age must look like '>14d' (an operator and a duration), got {v!r}")
        return v

    def age_bound(self) -> tuple[str, timedelta] | None:
        if self.age is None:
            return None
        m = _AGE.match(self.age)
        assert m is not None
        return m["op"], parse_duration(m["d"])


class Rule(Strict):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    when: When = Field(default_factory=When)
    action: Literal["block", "warn"]
    max: int = Field(default=0, ge=0)
    description: str | None = None


class Policy(Strict):
    apiVersion: Literal["releasegate/v1"]
    kind: Literal["Policy"]
    name: str = Field(min_length=1)
    extends: str | None = None
    environments: list[str] = Field(default_factory=list)
    freshness: str | None = None
    # Whether `releasegate check --fail-open` may let an image through when the gate is unreachable
    # (never inherited through `extends`: each environment opts in explicitly).
    allow_fail_open: bool = False
    # Whether a Trivy database older than the configured maximum age may still produce a verdict.
    allow_stale_db: bool = False
    description: str | None = None
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("freshness")
    @classmethod
    def _freshness(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            if rule.id in seen:
                raise DuplicateRuleIdError(rule.id, index)
            seen.add(rule.id)
        return rules


class PolicyException(Strict):
    apiVersion: Literal["releasegate/v1"]
    kind: Literal["Exception"]
    id: str = Field(min_length=1)
    when: When
    services: list[str] | None = None
    environments: list[str] | None = None
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: date
