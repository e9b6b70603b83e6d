"""Ground truth written outside the landing folder: identities, junk identifiers, malformed
records, manifest."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from identity import IDENTIFIER_TYPES

SHARED_DEVICE = "shared_device"


class Registry:
    """Every identifier the generator wrote, and whose it is.

    A value belongs to one person (identities.csv; a second owner is a conflict the generator
    raises on), unless it is *watched*: a junk value injected on purpose (a placeholder
    e-mail, the all-zero device id, a household's shared device) that belongs to nobody.
    For those the registry keeps the kind and every person whose records carry the value
    (junk_identifiers.csv). A watched shared-device value that only one person ended up
    using is that person's identifier after all.
    """

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, str]] = {t: {} for t in IDENTIFIER_TYPES}
        self._watched: dict[str, dict[str, tuple[str, set[str]]]] = {
            t: {} for t in IDENTIFIER_TYPES
        }
        self.conflicts: list[tuple[str, str, str, str]] = []

    def add(self, person_id: str, id_type: str, value: str | None) -> None:
        if not value:
            return
        watched = self._watched[id_type].get(value)
        if watched is not None:
            watched[1].add(person_id)
            return
        bucket = self._ids[id_type]
        owner = bucket.get(value)
        if owner is None:
            bucket[value] = person_id
        elif owner != person_id:
            self.conflicts.append((id_type, value, owner, person_id))

    def watch(self, id_type: str, value: str, kind: str) -> None:
        """Declare a junk / shared value before any record carries it."""
        if value in self._ids[id_type]:
            raise ValueError(f"{id_type} {value!r} already belongs to a person")
        self._watched[id_type].setdefault(value, (kind, set()))

    def table(self, id_type: str) -> dict[str, str]:
        """Live value -> person_id map for one type (hot paths add to it directly)."""
        return self._ids[id_type]

    def watched(self, id_type: str) -> dict[str, tuple[str, set[str]]]:
        """Live value -> (kind, people) map of watched values (hot paths check it first)."""
        return self._watched[id_type]

    def _single_owner(self, kind: str, people: set[str]) -> bool:
        return kind == SHARED_DEVICE and len(people) == 1

    def rows(self) -> list[tuple[str, str, str]]:
        out = [
            (pid, t, v)
            for t, bucket in self._ids.items()
            for v, pid in bucket.items()
            if v not in self._watched[t]
        ]
        for t, watched in self._watched.items():
            for v, (kind, people) in watched.items():
                if self._single_owner(kind, people):
                    out.append((next(iter(people)), t, v))
        out.sort()
        return out

    def junk_rows(self) -> list[tuple[str, str, str, int]]:
        """(identifier_type, identifier_value, kind, people) of every junk value written."""
        out = [
            (t, v, kind, len(people))
            for t, watched in self._watched.items()
            for v, (kind, people) in watched.items()
            if people and not self._single_owner(kind, people)
        ]
        out.sort()
        return out

    def junk_summary(self) -> dict[str, dict[str, int]]:
        """Per kind: junk values written and distinct people whose records carry them."""
        values: dict[str, int] = {}
        people: dict[str, set[str]] = {}
        for watched in self._watched.values():
            for kind, who in watched.values():
                if who and not self._single_owner(kind, who):
                    values[kind] = values.get(kind, 0) + 1
                    people.setdefault(kind, set()).update(who)
        return {k: {"values": values[k], "people": len(people[k])} for k in sorted(values)}

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


def write_junk(path: Path, registry: Registry) -> int:
    rows = registry.junk_rows()
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("identifier_type", "identifier_value", "kind", "people"))
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
