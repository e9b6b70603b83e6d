"""Source freshness: is each source's newest visible delivery recent enough?

The thresholds are the landing contract's (`Source.freshness` in sources.py, which also
generates the dbt sources YAML, so `dbt source freshness` run by hand judges the same).
The nightly job computes them in one query instead of starting `dbt source freshness`
(a dbt process, ~7 s), so a night with nothing new still says which source went quiet.
A source never delivered is reported as such — never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.ingest.sources import SOURCES


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    newest: date | None  # newest visible (accepted or released) delivery date
    age_days: int | None
    verdict: str  # pass | warn | error | never delivered

    @property
    def fresh(self) -> bool:
        return self.verdict == "pass"


def source_freshness(con: duckdb.DuckDBPyConnection, today: date) -> list[SourceFreshness]:
    newest = dict(
        con.execute(
            "SELECT source, max(delivery_date) FROM state.delivery_status "
            "WHERE status IN ('accepted', 'released') GROUP BY source"
        ).fetchall()
    )
    verdicts = []
    for source in SOURCES:
        day = newest.get(source.name)
        age = (today - day).days if day else None
        if age is None:
            verdict = "never delivered"
        elif age > source.freshness.error_after_days:
            verdict = "error"
        elif age > source.freshness.warn_after_days:
            verdict = "warn"
        else:
            verdict = "pass"
        verdicts.append(SourceFreshness(source.name, day, age, verdict))
    return verdicts


def render_freshness(verdicts: list[SourceFreshness], today: date) -> str:
    stale = [v for v in verdicts if not v.fresh]
    head = f"Source freshness on {today}: " + (
        "every source fresh."
        if not stale
        else f"{len(stale)} not fresh (reported, never a failure):"
    )
    return "\n".join(
        [head]
        + [
            f"  {v.source}: {v.verdict}"
            + (f" (newest delivery {v.newest}, {v.age_days} days old)" if v.newest else "")
            for v in stale
        ]
    )
