"""Hostile inputs for the hardening tests, generated on demand (never committed), and a private gate to
aim them at.

`build_corpus(root)` writes every hostile archive into `root` and describes it: what it tries, which
upload field carries it. Archive entries that would escape aim at `CANARY` folders beside the gate's
data directory, so a successful escape is visible as a file that should not exist.

`private_gate(...)` starts the API (and optionally a worker) like `tests.conftest.start_gate`, but on its
own fresh PostgreSQL database, its own Redis database number and with extra RELEASEGATE_* settings (such
as lower upload caps), so hostile, fuzzing and brute-force traffic never disturbs the shared gate.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tarfile
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from tests.conftest import PG_ADMIN_URL, Gate, start_gate, stop_gate

KiB = 1024
MiB = 1024 * KiB
CANARY = "canary"  # a folder beside the gate's data dir that nothing may ever write into
PWNED = "pwned-by-releasegate-test"  # the name every escaping entry tries to create


# --------------------------------------------------------------------------------------------- private gate


def fresh_database() -> str:
    name = f"rg_hostile_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_db(redis_url: str, number: int) -> str:
    """The same private Redis server, another database number: its queue is nobody else's."""
    return f"{redis_url.rsplit('/', 1)[0]}/{number}"


@contextmanager
def private_gate(
    tmp: Path,
    *,
    broker_url: str,
    trivy_cache: Path,
    worker: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Gate]:
    """A gate on a fresh database with `extra_env` on top of the usual service environment.

    Without a worker, accepted scans stay queued: nothing a fuzzer or a hostile reference submits is
    ever handed to a scanner (which could try to reach a registry).
    """
    database_url = fresh_database()
    try:
        gate = start_gate(
            tmp,
            database_url=database_url,
            broker_url=broker_url,
            trivy_cache=trivy_cache,
            worker=worker,
            env=extra_env,
        )
        try:
            yield gate
        finally:
            stop_gate(gate)
    finally:
        drop_database(database_url)


def alive(gate: Gate, timeout: float = 5.0) -> bool:
    try:
        return httpx.get(f"{gate.url}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


# ----------------------------------------------------------------------------------------- file snapshots


def tree_state(root: Path) -> dict[str, str]:
    """Every path under root with its kind and, for files, a content digest (links are not followed)."""
    state: dict[str, str] = {}
    if not root.exists():
        return state
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            state[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            state[rel] = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[rel] = "dir" if path.is_dir() else "other"
    return state


def escaped(*roots: Path) -> list[Path]:
    """Files named like the escape payload anywhere under the roots, or directly in /tmp (where the
    absolute entries and the YAML and reference payloads aim)."""
    found = list(Path("/tmp").glob(f"{PWNED}*"))
    for root in roots:
        found += root.glob(f"**/{PWNED}*")
    return found


# ------------------------------------------------------------------------------------------------ archives


@dataclass(frozen=True)
class Member:
    name: str
    kind: bytes = tarfile.REGTYPE
    data: bytes = b"pwned\n"
    link: str = ""
    size: int | None = None


def tar_bytes(members: Sequence[Member], *, gz: bool = True, benign_first: bool = True) -> bytes:
    """A tar with members written verbatim (tarfile.addfile keeps names that TarFile.add would clean)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.GNU_FORMAT) as tar:
        if benign_first:
            ok = tarfile.TarInfo("app/ok.py")
            ok.size = 4
            tar.addfile(ok, io.BytesIO(b"x=1\n"))
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = m.kind
            info.linkname = m.link
            info.mode = 0o644
            if m.kind in (tarfile.REGTYPE, tarfile.AREGTYPE):
                info.size = len(m.data) if m.size is None else m.size
                tar.addfile(info, io.BytesIO(m.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


@functools.lru_cache(maxsize=2)
def gzip_bomb(unpacked: int = 1024 * MiB) -> bytes:
    """One tar member of `unpacked` zero bytes, gzip-compressed: about 1 MiB per GiB."""
    header = tarfile.TarInfo("app/zeros.bin")
    header.size = unpacked
    header.mode = 0o644
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    out = [comp.compress(header.tobuf(format=tarfile.GNU_FORMAT))]
    zeros = bytes(MiB)
    for _ in range(unpacked // MiB):
        out.append(comp.compress(zeros))
    out.append(comp.compress(bytes(unpacked % MiB + (-unpacked) % 512 + 1024)))  # padding + end blocks
    out.append(comp.flush())
    return b"".join(out)


def many_files_tar(count: int = 100_000, per_dir: int = 1000) -> bytes:
    """`count` one-byte files in folders of `per_dir`, as `tar czf` of such a tree would hold them."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1, format=tarfile.GNU_FORMAT) as tar:
        for d in range(count // per_dir):
            folder = tarfile.TarInfo(f"tree/d{d:03d}")
            folder.type = tarfile.DIRTYPE
            folder.mode = 0o755
            tar.addfile(folder)
            for i in range(per_dir):
                info = tarfile.TarInfo(f"tree/d{d:03d}/f{i:04d}")
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
    return buf.getvalue()


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def multi_block_payload(size: int = 3 * MiB) -> bytes:
    """Text that bzip2 spreads over several 900 kB blocks, so corruption surfaces mid-stream."""
    seed = hashlib.sha256(b"releasegate").digest()
    lines = []
    total = 0
    n = 0
    while total < size:
        line = f"line {n} {hashlib.sha256(seed + str(n).encode()).hexdigest()}\n"
        lines.append(line)
        total += len(line)
        n += 1
    return "".join(lines).encode()


def corrupt_bzip2_tar() -> bytes:
    """A tar.bz2 whose first blocks are fine and whose later block is corrupt (bad CRC)."""
    buf = io.BytesIO()
    payload = multi_block_payload()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for i in range(3):
            info = tarfile.TarInfo(f"app/part{i}.txt")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    data = bytearray(buf.getvalue())
    middle = int(len(data) * 0.8)
    for offset in range(middle, middle + 64):
        data[offset] ^= 0x5A
    return bytes(data)


def corrupt_gzip_tar() -> bytes:
    """A tar.gz of text whose deflate stream has 64 flipped bytes in the middle: it cannot be inflated."""
    payload = multi_block_payload(MiB)
    data = bytearray(tar_bytes([Member(f"app/f{i}.txt", data=payload) for i in range(2)]))
    middle = len(data) // 2
    for offset in range(middle, middle + 64):
        data[offset] ^= 0xFF
    return bytes(data)


def gzip_crc_mismatch_tar() -> bytes:
    """A tar.gz whose members are stored (random bytes do not compress) and altered after the fact: every
    header still parses and only the gzip trailer's CRC-32 shows that the content is not what was sent."""
    data = bytearray(tar_bytes([Member(f"app/f{i}.bin", data=os.urandom(4096)) for i in range(40)]))
    middle = len(data) // 2
    for offset in range(middle, middle + 64):
        data[offset] ^= 0xFF
    return bytes(data)


def garbage_header_tar() -> bytes:
    """An uncompressed tar whose first header is noise."""
    return os.urandom(512) + tar_bytes([], gz=False)[512:]


def pax_redos_tar(digits: int = 150_000) -> bytes:
    """CVE-2024-6232: a pax header of digits makes Python < 3.11.10's tarfile backtrack quadratically
    (`re.search(rb"\\d+ hdrcharset=...")`). Gzip shrinks the upload to a few hundred bytes."""
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type = tarfile.XHDTYPE
    body = b"1" * digits
    pax.size = len(body)
    raw = io.BytesIO()
    raw.write(pax.tobuf(format=tarfile.USTAR_FORMAT))
    raw.write(body + bytes((-len(body)) % 512))
    info = tarfile.TarInfo("app/ok.py")
    info.size = 4
    raw.write(info.tobuf(format=tarfile.USTAR_FORMAT))
    raw.write(b"x=1\n" + bytes(508) + bytes(1024))
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    return comp.compress(raw.getvalue()) + comp.flush()


@dataclass(frozen=True)
class HostileArchive:
    name: str
    what: str
    path: Path
    field: str = "source_tar"  # or image_tar


# name -> (what it tries, the upload field that carries it)
ARCHIVES: dict[str, tuple[str, str]] = {
    "dotdot": ("an entry named ../../../../canary/...", "source_tar"),
    "dotdot-inner": ("an entry that climbs out from inside a folder", "source_tar"),
    "absolute": ("an entry with an absolute path into the canary folder", "source_tar"),
    "absolute-tmp": ("an entry at /tmp/...", "source_tar"),
    "symlink-absolute": ("a symlink to the canary by absolute path, then a file through it", "source_tar"),
    "symlink-relative": ("a symlink climbing out with ../, then a file through it", "source_tar"),
    "symlink-etc-passwd": ("a symlink to /etc/passwd", "source_tar"),
    "symlink-chain": ("two symlinks that together leave the tree, then a file through them", "source_tar"),
    "hardlink-absolute": ("a hard link to /etc/passwd", "source_tar"),
    "hardlink-outside": ("a hard link to a file outside the tree, then a write through it", "source_tar"),
    "char-device": ("a character device", "source_tar"),
    "block-device": ("a block device", "source_tar"),
    "fifo": ("a FIFO", "source_tar"),
    "duplicate-link-over-file": ("the same path twice: a file, then a symlink over it", "source_tar"),
    "duplicate-files": ("the same file twice", "source_tar"),
    "gzip-bomb": ("1 MiB of gzip expanding to 1 GiB (cap 64 MiB)", "source_tar"),
    "gzip-bomb-image": ("the same bomb as an image archive", "image_tar"),
    "many-files": ("100,000 one-byte files in 100 folders", "source_tar"),
    "corrupt-gzip": ("a tar.gz whose deflate stream has 64 flipped bytes", "source_tar"),
    "gzip-crc-mismatch": ("a tar.gz altered inside stored blocks: only its CRC-32 tells", "source_tar"),
    "truncated-gzip": ("a tar.gz cut short", "source_tar"),
    "truncated-tar": ("an uncompressed tar cut inside a member", "source_tar"),
    "garbage-header": ("a tar whose first header is noise", "source_tar"),
    "corrupt-bzip2": ("a tar.bz2 whose later block is corrupt", "source_tar"),
    "not-a-tar": ("64 KiB of random bytes", "source_tar"),
    "zip-file": ("a zip archive (with a zip-slip entry)", "source_tar"),
    "empty": ("an empty upload", "source_tar"),
    "not-a-tar-image": ("random bytes as an image archive", "image_tar"),
    "dotdot-image": ("a ../ entry in an image archive", "image_tar"),
}


def archive_bytes(name: str, *, canary: Path) -> bytes:
    """The bytes of one hostile archive. Escapes aim at `canary` (absolute) or at ../../../../canary,
    which is where the canary sits seen from the scan's folder data/scans/<id>/source/."""
    up = "../../../../"
    target = f"{CANARY}/{PWNED}"
    abs_canary = str(canary.resolve())
    sym, lnk = tarfile.SYMTYPE, tarfile.LNKTYPE
    builders = {
        "dotdot": lambda: tar_bytes([Member(up + target)]),
        "dotdot-inner": lambda: tar_bytes([Member("app/x/../../../../../" + target)]),
        "absolute": lambda: tar_bytes([Member(f"{abs_canary}/{PWNED}-abs")]),
        "absolute-tmp": lambda: tar_bytes([Member(f"/tmp/{PWNED}-tmp")]),
        "symlink-absolute": lambda: tar_bytes(
            [Member("app/out", sym, link=abs_canary), Member(f"app/out/{PWNED}-via-link")]
        ),
        "symlink-relative": lambda: tar_bytes(
            [Member("out", sym, link=up + CANARY), Member(f"out/{PWNED}-via-rel-link")]
        ),
        "symlink-etc-passwd": lambda: tar_bytes([Member("passwd", sym, link="/etc/passwd")]),
        "symlink-chain": lambda: tar_bytes(
            [
                Member("app/a", sym, link=".."),
                Member("app/b", sym, link="a/../.."),
                Member(f"app/b/{PWNED}-chain"),
            ]
        ),
        "hardlink-absolute": lambda: tar_bytes([Member("passwd", lnk, link="/etc/passwd")]),
        "hardlink-outside": lambda: tar_bytes(
            [Member("secret", lnk, link=up + f"{CANARY}/secret.txt"), Member("secret", data=b"overwritten\n")]
        ),
        "char-device": lambda: tar_bytes([Member("dev/null", tarfile.CHRTYPE)]),
        "block-device": lambda: tar_bytes([Member("dev/sda", tarfile.BLKTYPE)]),
        "fifo": lambda: tar_bytes([Member("app/pipe", tarfile.FIFOTYPE)]),
        "duplicate-link-over-file": lambda: tar_bytes(
            [Member("app/dup.py", data=b"a=1\n"), Member("app/dup.py", sym, link="/etc/shadow")]
        ),
        "duplicate-files": lambda: tar_bytes(
            [Member("app/dup.py", data=b"a=1\n"), Member("app/dup.py", data=b"a=2\n")]
        ),
        "gzip-bomb": gzip_bomb,
        "gzip-bomb-image": gzip_bomb,
        "many-files": many_files_tar,
        "corrupt-gzip": corrupt_gzip_tar,
        "gzip-crc-mismatch": gzip_crc_mismatch_tar,
        "truncated-gzip": lambda: truncated(
            tar_bytes([Member(f"f{i}", data=os.urandom(8192)) for i in range(8)])
        ),
        "truncated-tar": lambda: truncated(
            tar_bytes([Member("big", data=os.urandom(64 * KiB))], gz=False), 0.5
        ),
        "garbage-header": garbage_header_tar,
        "corrupt-bzip2": corrupt_bzip2_tar,
        "not-a-tar": lambda: os.urandom(64 * KiB),
        "zip-file": _zip_bytes,
        "empty": lambda: b"",
        "not-a-tar-image": lambda: os.urandom(64 * KiB),
        "dotdot-image": lambda: tar_bytes([Member(up + target)]),
    }
    return builders[name]()


def build_corpus(root: Path, *, canary: Path) -> dict[str, HostileArchive]:
    """Write every hostile archive into `root` (a tmp folder: the corpus is never committed)."""
    root.mkdir(parents=True, exist_ok=True)
    corpus = {}
    for name, (what, field) in ARCHIVES.items():
        path = root / f"{name}.bin"
        path.write_bytes(archive_bytes(name, canary=canary))
        corpus[name] = HostileArchive(name, what, path, field)
    return corpus


def _zip_bytes() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../" + PWNED, "zip slip\n")
    return buf.getvalue()


# -------------------------------------------------------------------------------------------- YAML policies


def billion_laughs(levels: int = 12, width: int = 10) -> str:
    """Anchors that expand to width**levels strings if anything copies them (10**12 here)."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines)


HOSTILE_POLICIES: dict[str, str] = {
    "billion-laughs-extra-keys": (
        "apiVersion: releasegate/v1\nkind: Policy\nname: prod\nenvironments: [prod]\n"
        + billion_laughs()
        + "\n"
    ),
    "billion-laughs-in-fields": (
        billion_laughs()
        + "\napiVersion: releasegate/v1\nkind: Policy\nname: prod\nenvironments: *l11\nrules: *l11\n"
    ),
    "merge-key-bomb": (
        "apiVersion: releasegate/v1\nkind: Policy\nname: prod\nenvironments: [prod]\n"
        + "m0: &m0 {a: 1, b: 2}\n"
        + "".join(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: {i}}}\n" for i in range(1, 30))
    ),
    "python-object-apply": (
        "apiVersion: releasegate/v1\nkind: Policy\n"
        f"name: !!python/object/apply:os.system ['touch /tmp/{PWNED}-yaml']\nenvironments: [prod]\n"
    ),
    "python-object-new": (
        "apiVersion: releasegate/v1\nkind: Policy\nname: prod\nenvironments: [prod]\n"
        "rules:\n  - !!python/object/new:subprocess.Popen [['touch', '/tmp/" + PWNED + "-yaml2']]\n"
    ),
    "python-name": "apiVersion: releasegate/v1\nkind: !!python/name:os.system\nname: prod\n",
    "deep-nesting": "apiVersion: releasegate/v1\nkind: Policy\nname: prod\nenvironments: "
    + "[" * 5000
    + "]" * 5000
    + "\n",
}
