"""Ground truth written outside the landing folder: identities, malformed records, manifest."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

IDENTIFIER_TYPES = (
    "anonymous_id",
    "device_id",
    "user_id",
    "email",
    "phone",
    "crm_id",
    "social_handle",
)


class Registry:
    """Every identifier the generator wrote, and whose it is."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, str]] = {t: {} for t in IDENTIFIER_TYPES}
        self.conflicts: list[tuple[str, str, str, str]] = []

    def add(self, person_id: str, id_type: str, value: str | None) -> None:
        if not value:
            return
        bucket = self._ids[id_type]
        owner = bucket.get(value)
        if owner is None:
            bucket[value] = person_id
        elif owner != person_id:
            self.conflicts.append((id_type, value, owner, person_id))

    def table(self, id_type: str) -> dict[str, str]:
        """Live value -> person_id map for one type (hot paths add to it directly)."""
        return self._ids[id_type]

    def rows(self) -> list[tuple[str, str, str]]:
        out = [(pid, t, v) for t, bucket in self._ids.items() for v, pid in bucket.items()]
        out.sort()
        return out

    def count(self) -> int:
        return sum(len(b) for b in self._ids.values())


@dataclass
class MalformedLog:
    rows: list[tuple[str, str, int, str]] = field(default_factory=list)

    def add(self, source: str, file: str, line: int, reason: str) -> None:
        self.rows.append((source, file, line, reason))


def write_identities(path: Path, registry: Registry) -> int:
    rows = registry.rows()
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("person_id", "identifier_type", "identifier_value"))
        w.writerows(rows)
    return len(rows)


def write_malformed(path: Path, log: MalformedLog) -> int:
    rows = sorted(log.rows, key=lambda r: (r[1], r[2]))
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("source", "file", "line", "reason"))
        w.writerows(rows)
    return len(rows)


def files_digest(files: dict[str, dict]) -> str:
    """One sha256 over every landing file's path and sha256 (the byte-identity contract)."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}:{files[rel]['sha256']}\n".encode())
    return h.hexdigest()


def write_manifest(path: Path, manifest: dict) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
