"""The normalized Finding: severities are ordered and refuse to guess, fingerprints are stable and do not
collide across field boundaries, and a Finding survives its JSON shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scanner.findings import Finding, Kind, Severity, UnknownSeverityError, fingerprint_of, secret_hash


def test_severities_are_ordered_from_unknown_to_critical() -> None:
    assert sorted(Severity, reverse=True) == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.UNKNOWN,
    ]
    assert Severity.HIGH >= Severity.MEDIUM
    assert not Severity.LOW >= Severity.MEDIUM


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CRITICAL", Severity.CRITICAL), ("high", Severity.HIGH), (" Medium ", Severity.MEDIUM)],
)
def test_severity_parse_ignores_case_and_surrounding_space(text: str, expected: Severity) -> None:
    assert Severity.parse(text) is expected


@pytest.mark.parametrize("text", ["ERROR", "SEVERE", "", "4"])
def test_an_unknown_severity_is_refused_not_guessed(text: str) -> None:
    with pytest.raises(UnknownSeverityError, match="unknown severity"):
        Severity.parse(text)


def test_the_unknown_severity_error_is_a_value_error() -> None:
    assert issubclass(UnknownSeverityError, ValueError)


def test_fingerprint_is_stable_and_short() -> None:
    first = fingerprint_of("code", "my-rule", "app.py", "requires login")
    assert first == fingerprint_of("code", "my-rule", "app.py", "requires login")
    assert len(first) == 32
    assert int(first, 16) >= 0


def test_fingerprint_parts_do_not_run_into_each_other() -> None:
    assert fingerprint_of("a b", "c") != fingerprint_of("a", "b c")
    assert fingerprint_of("ab", "c") != fingerprint_of("a", "bc")
    assert fingerprint_of("a", "b") != fingerprint_of("b", "a")


def test_fingerprint_treats_none_as_an_empty_part() -> None:
    assert fingerprint_of("a", None) == fingerprint_of("a", "")
    assert fingerprint_of("a", None) != fingerprint_of("a")


def test_fingerprint_accepts_text_that_is_not_valid_unicode() -> None:
    assert fingerprint_of("\udcff") != fingerprint_of("\udcfe")


def test_secret_hash_is_one_way_and_tells_secrets_apart() -> None:
    token = secret_hash("AKIAIOSFODNN7EXAMPLE")
    assert token.startswith("sha256:")
    assert "AKIA" not in token
    assert token == secret_hash("AKIAIOSFODNN7EXAMPLE")
    assert token != secret_hash("AKIAIOSFODNN7EXAMPLF")


def vuln(**overrides: object) -> Finding:
    fields: dict[str, object] = {
        "fingerprint": "f1",
        "scanner": "trivy-image",
        "kind": Kind.VULNERABILITY,
        "rule_id": "CVE-2023-0286",
        "severity": Severity.HIGH,
    }
    fields.update(overrides)
    return Finding(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("fixed_version", "fixable"), [("3.0.8-r0", True), (None, False), ("", False)])
def test_a_finding_is_fixable_when_a_fixed_version_is_set(fixed_version: str | None, fixable: bool) -> None:
    assert vuln(fixed_version=fixed_version).fixable is fixable


def test_to_dict_uses_the_names_of_the_contract() -> None:
    seen = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    data = vuln(
        package="openssl",
        installed_version="3.0.7-r0",
        fixed_version="3.0.8-r0",
        references=("https://example.org/a",),
        first_seen=seen,
    ).to_dict()
    assert data["kind"] == "vulnerability"
    assert data["severity"] == "HIGH"
    assert data["fixable"] is True
    assert data["references"] == ["https://example.org/a"]
    assert data["first_seen"] == "2026-11-01T12:00:00+00:00"


def test_a_finding_survives_its_dict_form() -> None:
    original = vuln(
        title="openssl: X.400 type confusion",
        package="openssl",
        installed_version="3.0.7-r0",
        fixed_version="3.0.8-r0",
        path="usr/lib/libssl.so.3",
        line=None,
        target="alpine:3.17 (alpine 3.17.1)",
        references=("https://a.example", "https://b.example"),
        first_seen=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    )
    assert Finding.from_dict(original.to_dict()) == original


def test_from_dict_reads_a_zulu_timestamp() -> None:
    data = vuln().to_dict() | {"first_seen": "2026-11-01T12:00:00Z"}
    assert Finding.from_dict(data).first_seen == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_from_dict_refuses_an_unknown_severity() -> None:
    with pytest.raises(UnknownSeverityError):
        Finding.from_dict(vuln().to_dict() | {"severity": "SEVERE"})


def test_from_dict_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError):
        Finding.from_dict(vuln().to_dict() | {"kind": "malware"})
