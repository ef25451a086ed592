"""A tiny backend service used to try the gate: `releasegate scan --source examples/backend ...`."""

import subprocess


def health() -> dict[str, str]:
    return {"status": "ok"}


def rotate_logs(name: str) -> None:
    # deliberately unsafe: shows a blocked code finding in uat/prod and a warning in dev
    subprocess.run("logrotate " + name, shell=True, check=False)
