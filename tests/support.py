"""Helpers shared by test modules (import as `tests.support`; fixtures live in conftest.py)."""

from __future__ import annotations

import csv
from pathlib import Path


def personal_identifiers(truth_dir: Path, types: set[str] | None = None) -> set[str]:
    """Every personal identifier value the generator wrote: identities.csv, plus the
    devices and cookies shared by a household (truth/junk_identifiers.csv, kind
    shared_device: they belong to two people, and are personal data all the same).
    Placeholders such as 'undefined' or test@test.com are not personal and not included."""
    values: set[str] = set()
    with (truth_dir / "identities.csv").open(newline="") as handle:
        values |= {
            row["identifier_value"]
            for row in csv.DictReader(handle)
            if types is None or row["identifier_type"] in types
        }
    junk = truth_dir / "junk_identifiers.csv"
    if junk.exists():
        with junk.open(newline="") as handle:
            values |= {
                row["identifier_value"]
                for row in csv.DictReader(handle)
                if row["kind"] == "shared_device"
                and (types is None or row["identifier_type"] in types)
            }
    return values
