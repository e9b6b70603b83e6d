"""Deterministic file writers: same text -> same bytes (gzip without name or mtime)."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

CHUNK = 5_000  # lines per write


class _HashingSink:
    """A write-only file object that hashes and counts what passes through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


def _chunks(records: list[str], terminator: str, final_terminator: bool) -> Iterable[str]:
    n = len(records)
    for start in range(0, n, CHUNK):
        part = records[start : start + CHUNK]
        text = terminator.join(part)
        last = start + CHUNK >= n
        if not last or final_terminator:
            text += terminator
        yield text


def write_records(
    path: Path,
    records: list[str],
    *,
    gz: bool = False,
    terminator: str = "\n",
    final_terminator: bool = True,
) -> tuple[str, int]:
    """Write records joined by terminator; returns (sha256 of the file bytes, size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw:
        sink = _HashingSink(raw)
        if gz:
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=sink, mtime=0, compresslevel=5
            ) as out:  # type: ignore[arg-type]
                for text in _chunks(records, terminator, final_terminator):
                    out.write(text.encode("utf-8"))
        else:
            for text in _chunks(records, terminator, final_terminator):
                sink.write(text.encode("utf-8"))
    return sink.sha.hexdigest(), sink.size
