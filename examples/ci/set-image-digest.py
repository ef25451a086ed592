#!/usr/bin/env python3
"""Pin an image's digest in a kustomization's `images:` list, leaving every other byte alone.

    python3 examples/ci/set-image-digest.py k8s-gitops/backend/dev registry.fintron.example/backend sha256:...

`kustomize edit set image` does the same but rewrites the whole file and drops its comments; this
edits the one `digest:` line of the matching entry and refuses anything it does not understand, so
a CI job fails loudly instead of committing a half-edited overlay. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
ENTRY_START = re.compile(r"^(?P<indent>\s*)- name:\s*(?P<name>\S+)\s*$")
FIELD = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z]+):\s*(?P<value>\S*)\s*$")


class EditError(Exception):
    pass


def set_digest(text: str, image: str, digest: str) -> str:
    if not DIGEST.fullmatch(digest):
        raise EditError(f"not a sha256 digest: {digest!r}")
    lines = text.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "images:")
    except StopIteration:
        raise EditError("no top-level `images:` list") from None
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() and not line.startswith((" ", "-")) and not line.lstrip().startswith("#"):
            break  # the next top-level key: the list has ended
        entry = ENTRY_START.match(line)
        if not entry or entry["name"] != image:
            continue
        field_indent = len(entry["indent"]) + 2
        for j in range(i + 1, len(lines)):
            field = FIELD.match(lines[j])
            if not field or len(field["indent"]) != field_indent:
                break
            if field["key"] == "digest":
                old = field["value"]
                lines[j] = lines[j].replace(old, digest, 1)
                return "".join(lines)
            if field["key"] in ("newTag", "newName"):
                raise EditError(f"{image} has {field['key']}: pin it with `digest:` only")
        raise EditError(f"the images entry for {image} has no `digest:` line")
    raise EditError(f"no images entry named {image}")


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    folder, image, digest = Path(argv[1]), argv[2], argv[3]
    path = folder / "kustomization.yaml" if folder.is_dir() else folder
    try:
        path.write_text(set_digest(path.read_text("utf-8"), image, digest), "utf-8")
    except (OSError, EditError) as exc:
        print(f"set-image-digest: {path}: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: {image}@{digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
