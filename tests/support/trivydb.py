"""Build a Trivy vulnerability database from Trivy's own bolt-fixtures YAML files.

Trivy reads its database from ``<cache>/db/trivy.db`` (a bbolt file, schema 2) next to
``<cache>/db/metadata.json``. Tests need a small, known database without network access and
without a Go toolchain, so this module loads the YAML fixtures the way Trivy's integration tests do
(``aquasecurity/bolt-fixtures``) and writes the bbolt file directly.

The bbolt writer is deliberately minimal: every bucket is one leaf page (spanning several
contiguous pages through the page header's ``overflow`` count when it is large), so no branch pages
are ever needed. bbolt only binary-searches within a leaf, so this is a valid, readable file; it is
simply not what bbolt itself would produce after splitting nodes. Layout follows etcd-io/bbolt
``internal/common/page.go`` and ``meta.go`` (bbolt v1.5.0 is what Trivy 0.76 links).

Everything is sorted and every timestamp is a constant, so two builds are byte-for-byte identical.

Usage: ``python -m tests.support.trivydb [--fixtures DIR] CACHE_DIR``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tests.support.corpus import TRIVY

# The repository root is two levels above tests/support/; the shared corpus sits beside the checkout
# (/work/<name>/ and /work/shared/), so resolve it from here rather than hard-coding /work/main.
REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_FIXTURES = TRIVY / "fixtures" / "db"

# Trivy refuses a database whose schema version differs from the one it was built for (2).
SCHEMA_VERSION = 2
# Far in the future so that Trivy never considers the database stale and never tries a download.
NEXT_UPDATE = "2099-01-01T00:00:00Z"
# Constants rather than "now" so that metadata.json is reproducible; DownloadedAt must be non-zero
# because Trivy treats a zero DownloadedAt as a corrupted database.
UPDATED_AT = "2024-01-01T00:00:00Z"
DOWNLOADED_AT = "2024-01-01T00:00:00Z"

# --- bbolt on-disk format (etcd-io/bbolt internal/common) ---------------------------------------
PAGE_SIZE = 4096
MAGIC = 0xED0CDAED
BOLT_VERSION = 2
BRANCH_PAGE_FLAG = 0x01  # never written: each bucket is a single (possibly overflowing) leaf
LEAF_PAGE_FLAG = 0x02
META_PAGE_FLAG = 0x04
FREELIST_PAGE_FLAG = 0x10
BUCKET_LEAF_FLAG = 0x01  # leaf element flag: the value is a nested bucket header

# Page header {id u64, flags u16, count u16, overflow u32}; Go lays it out without padding.
PAGE_HEADER = struct.Struct("<QHHI")
# Leaf element {flags u32, pos u32, ksize u32, vsize u32}; pos counts from the element itself.
LEAF_ELEMENT = struct.Struct("<IIII")
# Bucket header (InBucket) {root pgid u64, sequence u64}; root 0 would mean an inline bucket.
BUCKET_HEADER = struct.Struct("<QQ")
# Meta {magic, version, pageSize, flags u32; root InBucket; freelist, pgid, txid u64} then checksum u64.
# The checksum covers exactly these bytes (unsafe.Offsetof(Meta{}.checksum) == 56).
META_BODY = struct.Struct("<IIIIQQQQQ")
CHECKSUM = struct.Struct("<Q")

FREELIST_PGID = 2
FIRST_DATA_PGID = 3
MAX_LEAF_COUNT = 0xFFFF  # page.count is a u16
MAX_KEY_SIZE = 32768  # bbolt's MaxKeySize: Put would reject longer keys

FNV64_OFFSET = 0xCBF29CE484222325
FNV64_PRIME = 0x100000001B3


def fnv1a_64(data: bytes) -> int:
    """FNV-1a 64-bit, as Go's hash/fnv New64a, which bbolt uses for the meta checksum."""
    h = FNV64_OFFSET
    for byte in data:
        h ^= byte
        h = (h * FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


class Bucket:
    """An in-memory bucket: keys map to raw values or to nested buckets."""

    def __init__(self) -> None:
        self.entries: dict[bytes, Bucket | bytes] = {}
        self.pgid = 0  # assigned when the file is laid out

    def child(self, name: bytes) -> Bucket:
        # Same semantics as bbolt's CreateBucketIfNotExists: reuse the bucket, so that several
        # fixture files may contribute to one bucket, but never replace a plain key.
        _check_key(name)
        existing = self.entries.get(name)
        if existing is None:
            existing = self.entries[name] = Bucket()
        elif not isinstance(existing, Bucket):
            raise ValueError(f"{name!r} is a key, cannot also be a bucket")
        return existing

    def put(self, key: bytes, value: bytes) -> None:
        # Like bbolt's Put: a later value for the same key wins; a bucket cannot be overwritten.
        _check_key(key)
        if isinstance(self.entries.get(key), Bucket):
            raise ValueError(f"{key!r} is a bucket, cannot also be a key")
        self.entries[key] = value

    def sorted_items(self) -> list[tuple[bytes, Bucket | bytes]]:
        # bbolt binary-searches leaf elements with bytes.Compare, so order must be bytewise.
        return sorted(self.entries.items(), key=lambda item: item[0])

    def leaf_size(self) -> int:
        size = PAGE_HEADER.size
        for key, value in self.entries.items():
            vsize = BUCKET_HEADER.size if isinstance(value, Bucket) else len(value)
            size += LEAF_ELEMENT.size + len(key) + vsize
        return size

    def page_count(self) -> int:
        return max(1, math.ceil(self.leaf_size() / PAGE_SIZE))


def _check_key(key: bytes) -> None:
    if not key:
        raise ValueError("bbolt does not allow empty keys or bucket names")
    if len(key) > MAX_KEY_SIZE:
        raise ValueError(f"key longer than bbolt's MaxKeySize: {key[:40]!r}...")


# --- YAML fixtures -> buckets ---------------------------------------------------------------------


def _rfc3339(value: dt.datetime | dt.date) -> str:
    """Format like Go's time.RFC3339Nano, which Trivy's time.Time fields require when decoding."""
    if not isinstance(value, dt.datetime):
        # A bare date cannot be decoded into time.Time; midnight UTC is the least surprising reading.
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if value.tzinfo is None:
        # YAML 1.1 says a timestamp without a zone is UTC.
        value = value.replace(tzinfo=dt.UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    offset = value.utcoffset() or dt.timedelta(0)
    if not offset:
        return text + "Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _to_go_json(value: Any) -> Any:
    """Turn PyYAML's objects into what Go's json.Marshal would have printed for the same YAML."""
    if isinstance(value, dict):
        return {_text(k): _to_go_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_go_json(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        # Go prints float64(3) as "3"; "3.0" would not decode into the int fields Trivy uses
        # (VendorSeverity, Severity), so integral floats must lose their fraction.
        return int(value)
    if isinstance(value, dt.datetime | dt.date):
        # PyYAML turns unquoted timestamps into datetime objects; Trivy expects RFC 3339 strings.
        return _rfc3339(value)
    return value


def _text(value: Any) -> str:
    """A YAML scalar used as a key or name, spelled as Go would read it into a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return _rfc3339(value)
    if value is None:
        return ""
    return str(value)


def encode_value(value: Any) -> bytes:
    """Encode a fixture value the way bolt-fixtures does.

    Scalars are stored with fmt.Sprint (so a string is stored raw, not JSON-quoted: Trivy's Red Hat
    CPE bucket relies on that); everything else is json.Marshal'ed, which sorts map keys and uses no
    spaces. UTF-8 is written as is, like Go.
    """
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dt.datetime | dt.date):
        return _rfc3339(value).encode("ascii")
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return json.dumps(
        _to_go_json(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _load_pair(parent: Bucket, item: dict[str, Any], source: Path) -> None:
    if not isinstance(item, dict):
        raise ValueError(f"{source}: expected a mapping with 'bucket' or 'key', got {item!r}")
    # bolt-fixtures treats an entry as a bucket whenever its 'bucket' field is non-empty.
    name = _text(item.get("bucket"))
    if name:
        bucket = parent.child(name.encode("utf-8"))
        for pair in item.get("pairs") or []:
            _load_pair(bucket, pair, source)
        return
    if "key" not in item:
        raise ValueError(f"{source}: entry has neither 'bucket' nor 'key': {item!r}")
    # A missing value is Go's nil interface, which json.Marshal prints as "null".
    parent.put(_text(item["key"]).encode("utf-8"), encode_value(item.get("value")))


def load_fixtures(fixtures_dir: Path) -> Bucket:
    """Merge every ``*.yaml`` fixture file (in name order, like Go's filepath.Glob) into one tree."""
    files = sorted(Path(fixtures_dir).glob("*.yaml"))
    if not files:
        raise FileNotFoundError(f"no *.yaml fixtures in {fixtures_dir}")
    root = Bucket()
    for path in files:
        documents = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(documents, list):
            raise ValueError(f"{path}: expected a list of buckets")
        for entry in documents:
            # The root of a bbolt file can only hold buckets, never plain keys.
            if not isinstance(entry, dict) or not _text(entry.get("bucket")):
                raise ValueError(f"{path}: top-level entries must be buckets, got {entry!r}")
            _load_pair(root, entry, path)
    return root


# --- buckets -> bbolt file ------------------------------------------------------------------------


def _assign_pages(bucket: Bucket, next_pgid: int) -> int:
    """Give each bucket a run of contiguous pages, pre-order, children in key order."""
    bucket.pgid = next_pgid
    next_pgid += bucket.page_count()
    for _, value in bucket.sorted_items():
        if isinstance(value, Bucket):
            next_pgid = _assign_pages(value, next_pgid)
    return next_pgid


def _write_leaf(buf: bytearray, bucket: Bucket) -> None:
    items = bucket.sorted_items()
    if len(items) > MAX_LEAF_COUNT:
        # A single leaf cannot index more elements; this writer has no branch pages to split into.
        raise ValueError(f"bucket with {len(items)} keys exceeds one leaf page's {MAX_LEAF_COUNT}")
    base = bucket.pgid * PAGE_SIZE
    PAGE_HEADER.pack_into(buf, base, bucket.pgid, LEAF_PAGE_FLAG, len(items), bucket.page_count() - 1)
    data_offset = PAGE_HEADER.size + LEAF_ELEMENT.size * len(items)
    for index, (key, value) in enumerate(items):
        if isinstance(value, Bucket):
            flags, raw = BUCKET_LEAF_FLAG, BUCKET_HEADER.pack(value.pgid, 0)
        else:
            flags, raw = 0, value
        element_offset = PAGE_HEADER.size + LEAF_ELEMENT.size * index
        LEAF_ELEMENT.pack_into(
            buf, base + element_offset, flags, data_offset - element_offset, len(key), len(raw)
        )
        buf[base + data_offset : base + data_offset + len(key)] = key
        buf[base + data_offset + len(key) : base + data_offset + len(key) + len(raw)] = raw
        data_offset += len(key) + len(raw)
    for _, value in items:
        if isinstance(value, Bucket):
            _write_leaf(buf, value)


def _write_meta(buf: bytearray, pgid: int, txid: int, root_pgid: int, high_water: int) -> None:
    body = META_BODY.pack(MAGIC, BOLT_VERSION, PAGE_SIZE, 0, root_pgid, 0, FREELIST_PGID, high_water, txid)
    base = pgid * PAGE_SIZE
    PAGE_HEADER.pack_into(buf, base, pgid, META_PAGE_FLAG, 0, 0)
    buf[base + PAGE_HEADER.size : base + PAGE_HEADER.size + len(body)] = body
    CHECKSUM.pack_into(buf, base + PAGE_HEADER.size + len(body), fnv1a_64(body))


def bolt_bytes(root: Bucket) -> bytes:
    """Serialize a bucket tree as a complete bbolt file."""
    high_water = _assign_pages(root, FIRST_DATA_PGID)
    buf = bytearray(high_water * PAGE_SIZE)
    # Two valid metas describing the same tree. bbolt reads the one with the higher txid (page 0,
    # txid 2), and page ids follow bbolt's own rule that a meta lives on page txid % 2.
    _write_meta(buf, 0, 2, root.pgid, high_water)
    _write_meta(buf, 1, 1, root.pgid, high_water)
    # An empty freelist that is "synced" (freelist pgid != 0xFFFF...): a read-write open then has
    # nothing to rebuild and does not commit anything, so the file is never rewritten by Trivy.
    PAGE_HEADER.pack_into(buf, FREELIST_PGID * PAGE_SIZE, FREELIST_PGID, FREELIST_PAGE_FLAG, 0, 0)
    _write_leaf(buf, root)
    return bytes(buf)


def _write_atomically(path: Path, data: bytes) -> None:
    # Replace rather than overwrite so that a Trivy process holding the old file mapped never sees
    # a half-written database.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def metadata_bytes() -> bytes:
    metadata = {
        "Version": SCHEMA_VERSION,
        "NextUpdate": NEXT_UPDATE,
        "UpdatedAt": UPDATED_AT,
        "DownloadedAt": DOWNLOADED_AT,
    }
    return json.dumps(metadata, separators=(",", ":")).encode("ascii")


def build(fixtures_dir: Path, cache_dir: Path) -> Path:
    """Write ``cache_dir/db/trivy.db`` and ``metadata.json`` from the fixtures; return the db path."""
    root = load_fixtures(Path(fixtures_dir))
    db_dir = Path(cache_dir) / "db"
    db_dir.mkdir(parents=True, exist_ok=True)
    db_path = db_dir / "trivy.db"
    _write_atomically(db_path, bolt_bytes(root))
    _write_atomically(db_dir / "metadata.json", metadata_bytes())
    return db_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.trivydb",
        description="Build a Trivy vulnerability database (trivy.db + metadata.json) from YAML fixtures.",
    )
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=DEFAULT_FIXTURES,
        help=f"folder of bolt-fixtures *.yaml files (default: {DEFAULT_FIXTURES})",
    )
    parser.add_argument("cache_dir", type=Path, help="Trivy cache folder; the database goes to CACHE_DIR/db/")
    args = parser.parse_args(argv)
    try:
        db_path = build(args.fixtures, args.cache_dir)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(db_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
