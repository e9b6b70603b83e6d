"""Finding deliveries under the landing folder and making them readable by DuckDB.

Layout: `<landing>/<source>/<YYYY-MM-DD>/<files>`. Files may be plain or gzip (detected by
magic bytes). DuckDB's `read_text` reads plain UTF-8 only, so gzip files are streamed to a
temporary plain copy first (chunked, never line by line).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class LandingFile:
    source: str
    partition: date
    path: Path
    relative: str  # path relative to the landing root, forward slashes

    @property
    def size(self) -> int:
        return self.path.stat().st_size


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


def files_for(landing_dir: Path, source: str, partition: date) -> list[LandingFile]:
    """The delivery's files, sorted by name; hidden files (`.*`) are not deliveries."""
    folder = landing_dir / source / partition.isoformat()
    if not folder.is_dir():
        return []
    return [
        LandingFile(source, partition, p, p.relative_to(landing_dir).as_posix())
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    ]


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
                    if leaf.is_dir():
                        problems.append(
                            LandingProblem(
                                leaf.relative_to(landing_dir).as_posix(), "nested folder"
                            )
                        )
    return problems


def fingerprint(files: list[LandingFile]) -> str:
    """Changes when a file is added, removed, replaced or rewritten (name, size, mtime)."""
    digest = hashlib.sha256()
    for f in files:
        stat = f.path.stat()
        digest.update(f"{f.relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def readable_copy(file: LandingFile, tmp_dir: Path) -> Path:
    """A plain-text path DuckDB can `read_text`: the file itself, or a decompressed copy."""
    if not is_gzip(file.path):
        return file.path
    target = tmp_dir / (hashlib.sha1(file.relative.encode()).hexdigest() + ".txt")
    with gzip.open(file.path, "rb") as src, target.open("wb") as dst:
        shutil.copyfileobj(src, dst, length=4 << 20)
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


def batch_deliveries(
    deliveries: list[tuple[date, list[LandingFile]]], limit: int = BATCH_TEXT_BYTES
) -> list[list[tuple[date, list[LandingFile]]]]:
    """Consecutive delivery dates grouped into batches of at most `limit` estimated text
    bytes (a single larger day is a batch of its own)."""
    batches: list[list[tuple[date, list[LandingFile]]]] = []
    current: list[tuple[date, list[LandingFile]]] = []
    current_bytes = 0
    for day, files in deliveries:
        size = sum(f.size * (GZIP_RATIO_ESTIMATE if is_gzip(f.path) else 1) for f in files)
        if current and current_bytes + size > limit:
            batches.append(current)
            current, current_bytes = [], 0
        current.append((day, files))
        current_bytes += size
    if current:
        batches.append(current)
    return batches
