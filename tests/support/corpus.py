"""Where the shared corpus (Trivy's goldens and fixtures, written by others) lives.

Beside the checkout (`../shared/corpus`) on a development machine and in CI; RELEASEGATE_CORPUS
overrides it for a checkout elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _corpus() -> Path:
    candidates = [
        os.environ.get("RELEASEGATE_CORPUS"),
        REPO_ROOT.parent / "shared" / "corpus",
        "/work/shared/corpus",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "trivy").is_dir():
            return Path(candidate)
    raise FileNotFoundError("the shared corpus was not found: set RELEASEGATE_CORPUS")


CORPUS = _corpus()
TRIVY = CORPUS / "trivy"
GOLDEN = TRIVY / "golden"
