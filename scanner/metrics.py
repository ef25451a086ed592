"""Prometheus metrics of the API process (the workers' outcomes are visible through the verdicts)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SCANS_SUBMITTED = Counter("releasegate_scans_submitted_total", "Scan requests accepted", ["reused"])
VERDICTS_SERVED = Counter("releasegate_verdicts_served_total", "Verdicts answered", ["decision"])
POLICY_RELOAD_FAILURES = Counter(
    "releasegate_policy_reload_failures_total", "Policy set reloads rejected because the set did not validate"
)
POLICY_SET_VALID = Gauge(
    "releasegate_policy_set_valid",
    "1 when the live policy set on disk is the one being served, 0 when a broken "
    "set was rejected and the last valid one keeps serving",
)
