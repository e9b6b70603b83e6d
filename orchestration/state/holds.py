"""Held deliveries: what is held and why, and a steward's release (`cdw holds`, `cdw release`).

A release is recorded in `state.delivery_releases` with who, when and why, for the version
of the delivery now in raw (its fingerprint). The next run's `dbt build` sees it through
the `visible.<source>` views; nothing is reloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb


class ReleaseError(ValueError):
    """The delivery named cannot be released (unknown, or not held)."""


@dataclass(frozen=True)
class DeliveryStatus:
    source: str
    delivery_date: date
    status: str
    critical_failed: tuple[str, ...]
    released_by: str | None
    release_reason: str | None


def delivery_statuses(
    con: duckdb.DuckDBPyConnection, statuses: tuple[str, ...] = ("held", "released")
) -> list[DeliveryStatus]:
    """Deliveries in raw with one of `statuses`, by source and date."""
    rows = con.execute(
        """
        SELECT source, delivery_date, status, coalesce(critical_failed, []), released_by,
               release_reason
        FROM state.delivery_status WHERE list_contains($statuses, status)
        ORDER BY source, delivery_date
        """,
        {"statuses": list(statuses)},
    ).fetchall()
    return [DeliveryStatus(s, d, st, tuple(c), by, why) for s, d, st, c, by, why in rows]


def release(
    con: duckdb.DuckDBPyConnection, source: str, day: date, released_by: str, reason: str
) -> DeliveryStatus:
    """Release the held delivery `source` × `day` (its current version)."""
    if not released_by.strip() or not reason.strip():
        raise ReleaseError("a release needs who (--by) and why (--why)")
    rows = con.execute(
        "SELECT status, delivery_fingerprint FROM state.delivery_status "
        "WHERE source = $source AND delivery_date = $day",
        {"source": source, "day": day},
    ).fetchall()
    if not rows:
        raise ReleaseError(f"no delivery of {source} dated {day} is loaded")
    ((status, version),) = rows
    if status != "held":
        raise ReleaseError(f"{source} {day} is {status}, not held: nothing to release")
    con.execute(
        "INSERT INTO state.delivery_releases VALUES ($source, $day, $version, $at, $by, $why)",
        {
            "source": source,
            "day": day,
            "version": version,
            "at": datetime.now(UTC),
            "by": released_by.strip(),
            "why": reason.strip(),
        },
    )
    (released,) = [
        s
        for s in delivery_statuses(con, ("released",))
        if (s.source, s.delivery_date) == (source, day)
    ]
    return released
