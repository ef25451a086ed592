"""Policy evaluation throughput: 100,000 findings against the bundled prod policy.

Prints findings evaluated per second and the whole evaluation's time (target: under 1 s here).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import synthetic_findings  # noqa: E402
from scanner.policy.engine import evaluate  # noqa: E402
from scanner.policy.loader import load_policy_set  # noqa: E402

N = 100_000


def main() -> None:
    policy_set = load_policy_set(Path(__file__).resolve().parents[1] / "policies")
    policy = policy_set.policy_for("prod")
    findings = synthetic_findings(N)
    now = datetime.now(UTC)
    baseline = frozenset(f.fingerprint for f in findings[: N // 2])
    times = []
    for _ in range(5):
        start = time.perf_counter()
        result = evaluate(findings, policy=policy, policy_digest=policy_set.digest,
                          exceptions=policy_set.exceptions, service="backend", environment="prod",
                          now=now, baseline=baseline)  # fmt: skip
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(f"policy_eval: {N} findings x {len(policy.rules)} rules, decision {result.decision.value}")
    print(
        f"policy_eval: median {median:.3f} s, best {best:.3f} s, {N / median:,.0f} findings/s (target < 1 s)"
    )


if __name__ == "__main__":
    main()
