"""Finding deliveries under the landing folder and making them readable by DuckDB.

Layout: `<landing>/<source>/<YYYY-MM-DD>/<files>`. Files may be plain or gzip (detected by
magic bytes). DuckDB's `read_text` reads plain UTF-8 only, so gzip files are streamed to a
temporary plain copy first (chunked, never line by line).

File-level safety (docs/reliability.md, "File-level safety"):

* A landing file is read by its literal path, never as a pattern: DuckDB's readers treat a
  path as a glob, so the loader hands them `literal_pattern(path)` (glob characters
  bracketed) and checks that each pattern read exactly its own file.
* Nothing outside the landing folder is read. A symbolic link (to a file or a folder,
  pointing inside the landing folder or out of it) is refused, as is anything that is not
  a regular file; a refused entry is listed with its reason and never opened.
* The same file under two names in one delivery (hard links) is read once: the first name
  in name order loads, every other name is refused as `duplicate_file`.
* Each entry carries what `lstat` said when the folder was listed, so the delivery's
  fingerprint is that of the files as listed and the loader can tell a file that changed
  while it was read.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import re
import shutil
import stat
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
# Open the file itself, never what a symbolic link names; never wait on a pipe.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
# Byte-order marks of encodings other than UTF-8: such a file is not text the contract
# allows, and every line of it would be garbage.
FOREIGN_BOMS = {
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\xfe\xff": "UTF-16",
    b"\xff\xfe": "UTF-16",
}


class FileRefused(Exception):
    """A landing file the loader does not read (or cannot read at all): its reason code
    (docs/landing.md, "Files that are not read") and a detail that names the file."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class LandingFile:
    source: str
    partition: date
    path: Path
    relative: str  # path relative to the landing root, forward slashes
    size: int = 0  # lstat at listing time
    mtime_ns: int = 0
    inode: tuple[int, int] = (0, 0)  # (device, inode)
    refused: tuple[str, str] | None = None  # (reason, detail) decided at listing time

    @property
    def root(self) -> Path:
        """The landing root the file was listed under."""
        return Path(str(self.path)[: -len(self.relative)] or ".")

    def changed_on_disk(self) -> str | None:
        """What differs between the file now and the file as listed (None: the same)."""
        try:
            now = os.lstat(self.path)
        except FileNotFoundError:
            return "removed"
        except OSError as error:
            return f"cannot be checked ({error.strerror})"
        if (now.st_dev, now.st_ino) != self.inode:
            return "replaced"
        if now.st_size != self.size:
            return f"size {self.size:,} → {now.st_size:,} bytes"
        if now.st_mtime_ns != self.mtime_ns:
            return "rewritten (modification time changed)"
        return None


@dataclass(frozen=True)
class LandingProblem:
    """Something in the landing folder that the loader cannot place (reported, not fatal)."""

    path: str
    problem: str


def _parse_date(name: str) -> date | None:
    try:
        return date.fromisoformat(name) if len(name) == 10 else None
    except ValueError:
        return None


def delivery_dates(landing_dir: Path, source: str) -> list[date]:
    """Delivery dates present for a source, ascending."""
    source_dir = landing_dir / source
    if not source_dir.is_dir():
        return []
    dates = [_parse_date(p.name) for p in source_dir.iterdir() if p.is_dir()]
    return sorted(d for d in dates if d is not None)


def all_delivery_dates(landing_dir: Path, sources: list[str]) -> list[date]:
    return sorted({d for s in sources for d in delivery_dates(landing_dir, s)})


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _link_refusal(path: Path, relative: str, root: Path) -> tuple[str, str]:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    if path.exists() and _inside(path, root):
        return (
            "symlink",
            f"{relative} is a symbolic link (to {target}): a link is not a delivery, and "
            "the file it names is read under its own name",
        )
    return (
        "symlink_outside_landing",
        f"{relative} is a symbolic link to {target}, outside the landing folder "
        "(or missing): not read",
    )


def files_for(landing_dir: Path, source: str, partition: date) -> list[LandingFile]:
    """The delivery's files, sorted by name; hidden files (`.*`) are not deliveries.

    Entries that are not read are listed too, with their reason (`refused`): symbolic
    links, anything that is not a regular file, a second name of the same file. A source
    or date folder that is a symbolic link is one refused entry (its contents are not
    listed). Sub-folders are not files (`landing_problems` reports them)."""
    folder = landing_dir / source / partition.isoformat()
    relative_folder = f"{source}/{partition.isoformat()}"
    for level, rel in ((landing_dir / source, source), (folder, relative_folder)):
        if level.is_symlink():
            st = os.lstat(level)
            return [
                LandingFile(
                    source, partition, level, rel,
                    size=st.st_size, mtime_ns=st.st_mtime_ns, inode=(st.st_dev, st.st_ino),
                    refused=_link_refusal(level, rel, landing_dir),
                )
            ]  # fmt: skip
    if not folder.is_dir():
        return []
    files: list[LandingFile] = []
    seen: dict[tuple[int, int], str] = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith("."):
            continue
        path = folder / name
        relative = f"{relative_folder}/{name}"
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue  # gone while listing: not part of the delivery
        identity = (st.st_dev, st.st_ino)
        refused: tuple[str, str] | None = None
        if stat.S_ISDIR(st.st_mode):
            continue
        if stat.S_ISLNK(st.st_mode):
            refused = _link_refusal(path, relative, landing_dir)
        elif not stat.S_ISREG(st.st_mode):
            refused = ("not_a_regular_file", f"{relative} is not a regular file (a pipe, socket "
                       "or device): not read")  # fmt: skip
        elif identity in seen:
            refused = (
                "duplicate_file",
                f"{relative} is the same file as {seen[identity]} (a hard link): read once, "
                f"under the name {seen[identity]}",
            )
        else:
            seen[identity] = relative
        files.append(
            LandingFile(
                source, partition, path, relative,
                size=st.st_size, mtime_ns=st.st_mtime_ns, inode=identity, refused=refused,
            )
        )  # fmt: skip
    return files


def landing_problems(landing_dir: Path, sources: list[str]) -> list[LandingProblem]:
    """Entries the loader will not read: unknown source folders, misnamed date folders,
    files outside a date folder, nested folders."""
    problems: list[LandingProblem] = []
    if not landing_dir.is_dir():
        return [LandingProblem(str(landing_dir), "landing folder does not exist")]
    for entry in sorted(landing_dir.iterdir()):
        rel = entry.relative_to(landing_dir).as_posix()
        if entry.name.startswith("."):
            continue
        if not entry.is_dir() or entry.name not in sources:
            problems.append(LandingProblem(rel, "not a known source folder"))
            continue
        for sub in sorted(entry.iterdir()):
            srel = sub.relative_to(landing_dir).as_posix()
            if sub.name.startswith("."):
                continue
            if not sub.is_dir():
                problems.append(LandingProblem(srel, "file outside a YYYY-MM-DD folder"))
            elif _parse_date(sub.name) is None:
                problems.append(LandingProblem(srel, "folder name is not a YYYY-MM-DD date"))
            else:
                for leaf in sorted(sub.iterdir()):
                    if leaf.is_dir() and not leaf.is_symlink():
                        problems.append(
                            LandingProblem(
                                leaf.relative_to(landing_dir).as_posix(), "nested folder"
                            )
                        )
    return problems


def fingerprint(files: list[LandingFile]) -> str:
    """Changes when a file is added, removed, replaced or rewritten (name, size, mtime as
    listed)."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.relative}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def literal_pattern(path: Path | str) -> str:
    """`path` as a DuckDB file pattern that matches that one file: the glob characters
    `*`, `?` and `[` are bracketed (`[*]`, `[?]`, `[[]`). A path with a backslash has no
    reliable escape (the loader copies such a file to a plain name first)."""
    return re.sub(r"([*?\[])", r"[\1]", str(path))


def _open_regular(file: LandingFile) -> int:
    """A descriptor of the landing file itself: never through a symbolic link, never a
    pipe (opening one could block), never a file other than the one listed."""
    try:
        fd = os.open(file.path, OPEN_FLAGS)
    except FileNotFoundError as error:
        raise FileRefused(
            "file_vanished", f"{file.relative} was listed but is gone: not read"
        ) from error
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise FileRefused(*_link_refusal(file.path, file.relative, file.root)) from error
        raise FileRefused(
            "unreadable", f"{file.relative} cannot be opened ({error.strerror})"
        ) from error
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise FileRefused("not_a_regular_file", f"{file.relative} is not a regular file")
    return fd


def _check_encoding(file: LandingFile, head: bytes) -> None:
    for bom, encoding in FOREIGN_BOMS.items():
        if head.startswith(bom):
            raise FileRefused(
                "unsupported_encoding",
                f"{file.relative} starts with a {encoding} byte-order mark: landing files "
                "are UTF-8",
            )


def readable_copy(file: LandingFile, tmp_dir: Path) -> Path:
    """A plain-text path DuckDB can `read_text`: the file itself, or a decompressed copy
    (gzip) or plain-named copy (a name with a backslash) in `tmp_dir`.

    Raises FileRefused for an entry refused at listing time, a file that is gone, cannot
    be opened, is not a regular file, is a corrupt or truncated gzip stream, or is in a
    foreign encoding (UTF-16 / UTF-32): the reason names the file."""
    if file.refused:
        raise FileRefused(*file.refused)
    fd = _open_regular(file)
    with os.fdopen(fd, "rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        target = tmp_dir / (hashlib.sha1(file.relative.encode()).hexdigest() + ".txt")
        if head[:2] != GZIP_MAGIC:
            _check_encoding(file, head)
            if "\\" not in str(file.path):
                return file.path
            with target.open("wb") as dst:
                shutil.copyfileobj(handle, dst, length=4 << 20)
            return target
        try:
            with gzip.GzipFile(fileobj=handle, mode="rb") as src, target.open("wb") as dst:
                _check_encoding(file, src.peek(4)[:4])
                shutil.copyfileobj(src, dst, length=4 << 20)
        except FileRefused:
            target.unlink(missing_ok=True)
            raise
        except EOFError as error:
            target.unlink(missing_ok=True)
            raise FileRefused(
                "gzip_truncated",
                f"{file.relative}: the gzip stream ends before its end marker (a truncated "
                "file): not read",
            ) from error
        except (gzip.BadGzipFile, zlib.error, OSError) as error:
            target.unlink(missing_ok=True)
            raise FileRefused(
                "gzip_corrupt", f"{file.relative}: not a readable gzip stream ({error}): not read"
            ) from error
    return target


def repair_encoding(path: Path, tmp_dir: Path) -> tuple[Path, list[int]]:
    """For a file that is not valid UTF-8: a copy whose undecodable lines have their bad
    bytes replaced (U+FFFD), and the 1-based numbers of those lines, which the loader
    quarantines as `invalid_encoding`. Runs only for files DuckDB refused."""
    data = path.read_bytes()
    bad_lines: list[int] = []
    fixed: list[str] = []
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            fixed.append(raw_line.decode("utf-8"))
        except UnicodeDecodeError:
            bad_lines.append(number)
            fixed.append(raw_line.decode("utf-8", errors="replace"))
    target = tmp_dir / (hashlib.sha1(str(path).encode()).hexdigest() + ".utf8.txt")
    target.write_text("\n".join(fixed), encoding="utf-8")
    return target, bad_lines


# How much text one set-based load statement takes at once: bounded so a long backfill of
# a big source never holds its whole history in memory, large so small sources load a whole
# range in one go. Gzip text is estimated at 8× its compressed size.
BATCH_TEXT_BYTES = 512 << 20
GZIP_RATIO_ESTIMATE = 8


def _estimated_text_bytes(file: LandingFile) -> int:
    if file.refused:
        return 0
    try:
        fd = os.open(file.path, OPEN_FLAGS)
    except OSError:
        return 0  # the loader will say why
    with os.fdopen(fd, "rb") as handle:
        gz = handle.read(2) == GZIP_MAGIC
    return file.size * (GZIP_RATIO_ESTIMATE if gz else 1)


def batch_deliveries(
    deliveries: list[tuple[date, list[LandingFile]]], limit: int = BATCH_TEXT_BYTES
) -> list[list[tuple[date, list[LandingFile]]]]:
    """Consecutive delivery dates grouped into batches of at most `limit` estimated text
    bytes (a single larger day is a batch of its own)."""
    batches: list[list[tuple[date, list[LandingFile]]]] = []
    current: list[tuple[date, list[LandingFile]]] = []
    current_bytes = 0
    for day, files in deliveries:
        size = sum(_estimated_text_bytes(f) for f in files)
        if current and current_bytes + size > limit:
            batches.append(current)
            current, current_bytes = [], 0
        current.append((day, files))
        current_bytes += size
    if current:
        batches.append(current)
    return batches
