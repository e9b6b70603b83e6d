"""The gate per delivery: Great Expectations judges each new delivery (source × date) and
a delivery that fails a critical expectation is held back (docs/quality.md).

    verdicts, results = judge_deliveries(warehouse_path, "events", [date(2026, 1, 9)], loaded)

One validation covers every delivery of the run (the suite's partition range), so a
backfill of many days costs one pass per source. A range must hold nothing but the
deliveries being judged, so the run's deliveries are cut where another loaded delivery
lies between two of them (a re-delivered old day and tonight's day are two passes). Only
when a pass fails a critical expectation is its range split in two and each half
validated again, down to the single deliveries that fail: k bad deliveries among n cost
about 1 + 2·k·log2(n) passes, and the verdicts name the delivery, never "the run".

A file of the delivery that could not be read at all (a corrupt or truncated archive, a
foreign encoding, a file gone before it was read, a symbolic link: `refused_reason` in
raw.load_audit) fails the delivery too, named: `[critical] file not read: <file> (<reason>)`.

The loader's warnings on a delivery (raw.load_warnings: a missing CSV column, a JSON type
change, a timestamp without a UTC offset, a spreadsheet formula; docs/landing.md "Schema
drift") are added to its verdict's warnings, named: `[warning] <kind>: <field> in <file>
(<n> records from line <l>)`.

Warnings never hold anything; they are recorded with the range whose validation saw them.
Consent and privacy-request deliveries are never held (state.schema.NEVER_HELD): their
failures are reported the same way and their rows flow on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.state.schema import NEVER_HELD


@dataclass(frozen=True)
class DeliveryVerdict:
    source: str
    delivery_date: date
    passed_critical: bool
    held: bool
    critical_failed: tuple[str, ...]
    warnings: tuple[str, ...]
    validated_first: date
    validated_last: date


def judge_deliveries(
    warehouse_path: Path,
    source: str,
    deliveries: list[date],
    loaded: list[date],
    project: Path | None = None,
    artefacts: Path | None = None,
) -> tuple[list[DeliveryVerdict], list]:
    """A verdict for each delivery date of `source` in `deliveries` (loaded in raw), and
    the GateResults of the validations that decided them. `loaded` is every delivery date
    of the source in raw (judged or not). `judge_sources` for one source."""
    return judge_sources(warehouse_path, {source: (deliveries, loaded)}, project, artefacts)


def judge_sources(
    warehouse_path: Path,
    judged: dict[str, tuple[list[date], list[date]]],
    project: Path | None = None,
    artefacts: Path | None = None,
) -> tuple[list[DeliveryVerdict], list]:
    """Verdicts for the deliveries of every source in `judged` ({source: (deliveries,
    loaded)}, as in `judge_deliveries`), validated in one Great Expectations session, and
    the GateResults that decided them (stored in `artefacts`, the warehouse's GX folder;
    their Data Docs pages are not rendered yet: pass them to `gx_gate.render_data_docs`
    once).

    The caller must hold no connection to the warehouse file (the GX gate opens it).
    """
    # Importing GX takes seconds: only when there is something to judge.
    from orchestration.quality.gx_gate import GateSession
    from orchestration.quality.gx_suites import raw_suite_name

    # Read before GX opens the file (one configuration per file per process).
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        notes = {
            source: (file_refusals(con, source, days), load_warnings(con, source, days))
            for source, (days, _) in judged.items()
        }
    verdicts: list[DeliveryVerdict] = []
    results: list = []

    def judge(session: GateSession, source: str, days: list[date]) -> list[DeliveryVerdict]:
        # Each result is stored in `artefacts`; its Data Docs page is rendered later.
        result = session.validate(raw_suite_name(source), f"raw.{source}", days[0], days[-1])
        results.append(result)
        if result.passed_critical or len(days) == 1:
            return [_verdict(source, day, result) for day in days]
        middle = len(days) // 2
        halves = judge(session, source, days[:middle]) + judge(session, source, days[middle:])
        if all(v.passed_critical for v in halves):
            # The range fails but neither half does (an expectation over the whole batch):
            # no single delivery is to blame, so the whole range is judged by that failure.
            return [_verdict(source, day, result) for day in days]
        return halves

    with GateSession(warehouse_path, project, artefacts) as session:
        for source, (deliveries, loaded) in judged.items():
            refusals, warned = notes[source]
            verdicts += [
                with_load_warnings(
                    with_file_refusals(v, refusals.get(v.delivery_date, ())),
                    warned.get(v.delivery_date, ()),
                )
                for run in contiguous_runs(deliveries, loaded)
                for v in judge(session, source, run)
            ]
    return verdicts, results


def file_refusals(
    con: duckdb.DuckDBPyConnection, source: str, days: list[date]
) -> dict[date, tuple[str, ...]]:
    """Per delivery date, a critical failure for each file of its current load that was not
    read (raw.load_audit.refused_reason), naming the file and the reason."""
    found: dict[date, tuple[str, ...]] = {}
    for day, file, reason in con.execute(
        """
        SELECT _partition, _file, refused_reason FROM raw.load_audit
        WHERE source = $source AND list_contains($days, _partition)
          AND refused_reason IS NOT NULL
        ORDER BY _partition, _file
        """,
        {"source": source, "days": list(days)},
    ).fetchall():
        found[day] = (*found.get(day, ()), f"[critical] file not read: {file} ({reason})")
    return found


def load_warnings(
    con: duckdb.DuckDBPyConnection, source: str, days: list[date]
) -> dict[date, tuple[str, ...]]:
    """Per delivery date, a warning for each kind × field × file the loader flagged
    (raw.load_warnings), naming the file, the field and how many records."""
    (exists,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
        "AND table_name = 'load_warnings'"
    ).fetchone()
    if not exists:
        return {}  # a warehouse last loaded before the loader's warnings came
    found: dict[date, tuple[str, ...]] = {}
    for day, file, kind, field, detail, records, first_line in con.execute(
        """
        SELECT _partition, _file, kind, field, detail, records, first_line
        FROM raw.load_warnings
        WHERE source = $source AND list_contains($days, _partition)
        ORDER BY _partition, _file, kind, field, detail
        """,
        {"source": source, "days": list(days)},
    ).fetchall():
        what = f"{field} ({detail})" if detail else field
        label = (
            f"[warning] {kind}: {what} in {file} ({records} record{'s' * (records != 1)} "
            f"from line {first_line})"
        )
        found[day] = (*found.get(day, ()), label)
    return found


def with_load_warnings(verdict: DeliveryVerdict, warnings: tuple[str, ...]) -> DeliveryVerdict:
    """The verdict with the loader's warnings on its delivery added (a warning never
    holds anything)."""
    if not warnings:
        return verdict
    return replace(verdict, warnings=(*verdict.warnings, *warnings))


def with_file_refusals(verdict: DeliveryVerdict, refusals: tuple[str, ...]) -> DeliveryVerdict:
    """The verdict of a delivery some of whose files were not read: failed, and held unless
    its source is never held (reported only)."""
    if not refusals:
        return verdict
    return replace(
        verdict,
        passed_critical=False,
        held=verdict.source not in NEVER_HELD,
        critical_failed=(*refusals, *verdict.critical_failed),
    )


def contiguous_runs(deliveries: list[date], loaded: list[date]) -> list[list[date]]:
    """`deliveries` cut into runs whose date range holds no other loaded delivery."""
    others = sorted(set(loaded) - set(deliveries))
    runs: list[list[date]] = []
    for day in sorted(set(deliveries)):
        if runs and not any(runs[-1][-1] < other < day for other in others):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _verdict(source: str, day: date, result) -> DeliveryVerdict:
    return DeliveryVerdict(
        source=source,
        delivery_date=day,
        passed_critical=result.passed_critical,
        held=not result.passed_critical and source not in NEVER_HELD,
        critical_failed=tuple(o.label for o in result.failed_critical),
        warnings=tuple(o.label for o in result.failed_warnings),
        validated_first=result.first,
        validated_last=result.last,
    )


def record_verdicts(
    con: duckdb.DuckDBPyConnection,
    verdicts: list[DeliveryVerdict],
    run_id: str | None,
) -> None:
    """Append the verdicts to state.delivery_verdicts, each for the delivery's current load
    (state.delivery_status, the one definition of it) — one statement, one transaction."""
    if not verdicts:
        return
    con.execute(
        """
        INSERT INTO state.delivery_verdicts
        SELECT v.source, v.delivery_date, a.loaded_at, coalesce(a.delivery_fingerprint, ''),
               v.passed_critical, v.held, v.critical_failed, v.warnings,
               v.validated_first, v.validated_last, $validated_at, $run_id
        FROM (
            SELECT unnest($source) AS source, unnest($day) AS delivery_date,
                   unnest($passed) AS passed_critical, unnest($held) AS held,
                   unnest($critical) AS critical_failed, unnest($warnings) AS warnings,
                   unnest($first) AS validated_first, unnest($last) AS validated_last
        ) AS v
        JOIN state.delivery_status AS a USING (source, delivery_date)
        ORDER BY v.source, v.delivery_date
        """,
        {
            "source": [v.source for v in verdicts],
            "day": [v.delivery_date for v in verdicts],
            "passed": [v.passed_critical for v in verdicts],
            "held": [v.held for v in verdicts],
            "critical": [list(v.critical_failed) for v in verdicts],
            "warnings": [list(v.warnings) for v in verdicts],
            "first": [v.validated_first for v in verdicts],
            "last": [v.validated_last for v in verdicts],
            "validated_at": datetime.now(UTC),
            "run_id": run_id,
        },
    )
