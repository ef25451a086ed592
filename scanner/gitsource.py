"""Source trees from git (`source: {git_url, commit}`): one commit fetched into the scan's folder.

Untrusted input on both sides: the URL is limited to network schemes (a `file://` URL would let a
client read repositories on the gate's own disk) unless a setting allows local ones, and the checkout
writes symlinks as plain files, so nothing in the tree can point the scanners outside it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

NETWORK_SCHEMES = ("https://", "ssh://", "git@")
REVISION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/-]{0,79}$")


class GitSourceError(ValueError):
    """The repository or commit cannot be fetched (the message says why; it never holds credentials)."""


def check_url(url: str, *, allow_local: bool) -> None:
    if len(url) > 1000 or any(c.isspace() for c in url) or url.startswith("-"):
        raise GitSourceError("git_url is not a repository URL")
    if url.startswith(NETWORK_SCHEMES):
        return
    if allow_local and url.startswith("file://"):
        return
    raise GitSourceError("git_url must be https://, ssh:// or git@ (local repositories are not allowed)")


def fetch(url: str, commit: str, dest: Path, *, allow_local: bool, timeout: float = 300) -> str:
    """Fetch `commit` of `url` into `dest` (without .git); returns the full commit id."""
    check_url(url, allow_local=allow_local)
    if not REVISION.match(commit) or ".." in commit:
        raise GitSourceError("commit must be a full commit id or a ref name")
    work = dest.parent / (dest.name + ".git-work")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_ASKPASS": "true"}
    config = [
        "-c",
        "core.symlinks=false",
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "protocol.allow=user",
        "-c",
        f"protocol.file.allow={'always' if allow_local else 'never'}",
    ]

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *config, "-C", str(work), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitSourceError(f"git {args[0]} timed out") from exc
        if done.returncode != 0:
            # the first line only: git's messages can echo the URL, and a URL can carry credentials
            first = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise GitSourceError(f"git {args[0]}: {first.replace(url, '<git_url>')[:300]}")
        return done.stdout.strip()

    work.mkdir(parents=True)
    try:
        git("init", "-q")
        git("fetch", "--depth", "1", "--no-tags", "--", url, commit)
        git("checkout", "-q", "--detach", "FETCH_HEAD")
        resolved = git("rev-parse", "HEAD")
        shutil.rmtree(work / ".git")
        work.rename(dest)
        return resolved
    finally:
        shutil.rmtree(work, ignore_errors=True)
