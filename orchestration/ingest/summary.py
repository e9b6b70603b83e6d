"""The run summary: per source, files, records, rows loaded, rows quarantined by reason,
files not read (by name, with the reason), the loader's warnings (schema drift, by file)
and deliveries not loaded because their files changed while they were read.

Built from `raw.load_audit`, `raw.quarantine`, `raw.load_warnings` and `raw.load_skipped`
only — counts, reasons, field and file names, never record contents, so it is safe to
print and log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb


@dataclass
class SourceSummary:
    source: str
    partitions: int = 0
    files: int = 0
    records: int = 0
    loaded: int = 0
    quarantined: int = 0
    suppressed: int = 0
    blank_lines: int = 0
    balanced: bool = True
    reasons: dict[str, int] = field(default_factory=dict)
    # (file, reason) of every file that was not read
    files_not_read: list[tuple[str, str]] = field(default_factory=list)
    # (delivery date, what changed) of every delivery not loaded: changed while read
    not_loaded: list[tuple[date, str]] = field(default_factory=list)
    # (file, kind, field, records) of every warning the loader raised (raw.load_warnings)
    warnings: list[tuple[str, str, str, int]] = field(default_factory=list)


def summarise(
    con: duckdb.DuckDBPyConnection, first: date, last: date, sources: list[str]
) -> list[SourceSummary]:
    """Per source, what the deliveries dated first..last hold in the warehouse now."""
    params = {"first": first, "last": last}
    summaries = {s: SourceSummary(s) for s in sources}
    for row in con.execute(
        """
        SELECT source, count(DISTINCT _partition), count(*), sum(records_in), sum(raw_rows),
               sum(quarantined_rows), sum(suppressed_rows), sum(blank_lines), bool_and(balanced)
        FROM raw.load_audit WHERE _partition BETWEEN $first AND $last
        GROUP BY source
        """,
        params,
    ).fetchall():
        if row[0] in summaries:
            s = summaries[row[0]]
            (
                s.partitions,
                s.files,
                s.records,
                s.loaded,
                s.quarantined,
                s.suppressed,
                s.blank_lines,
                s.balanced,
            ) = row[1:]
    for source, reason, count in con.execute(
        """
        SELECT source, reason, count(*) FROM raw.quarantine
        WHERE _partition BETWEEN $first AND $last GROUP BY ALL ORDER BY ALL
        """,
        params,
    ).fetchall():
        if source in summaries:
            summaries[source].reasons[reason] = count
    refused = (
        con.execute(
            """
            SELECT source, _file, refused_reason FROM raw.load_audit
            WHERE _partition BETWEEN $first AND $last AND refused_reason IS NOT NULL
            ORDER BY ALL
            """,
            params,
        ).fetchall()
        if _has_column(con, "raw", "load_audit", "refused_reason")
        else []  # a warehouse not loaded since file-level safety came
    )
    for source, file, reason in refused:
        if source in summaries:
            summaries[source].files_not_read.append((file, reason))
    skipped = (
        con.execute(
            """
            SELECT source, _partition, detail FROM raw.load_skipped
            WHERE _partition BETWEEN $first AND $last ORDER BY ALL
            """,
            params,
        ).fetchall()
        if _has_column(con, "raw", "load_skipped", "detail")
        else []
    )
    for source, day, detail in skipped:
        if source in summaries:
            summaries[source].not_loaded.append((day, detail))
    warned = (
        con.execute(
            """
            SELECT source, _file, kind, field, sum(records)::BIGINT FROM raw.load_warnings
            WHERE _partition BETWEEN $first AND $last GROUP BY ALL ORDER BY ALL
            """,
            params,
        ).fetchall()
        if _has_column(con, "raw", "load_warnings", "kind")
        else []  # a warehouse not loaded since the loader's warnings came
    )
    for source, file, kind, name, records in warned:
        if source in summaries:
            summaries[source].warnings.append((file, kind, name, records))
    return [summaries[s] for s in sources]


def _has_column(con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? AND column_name = ?",
            [schema, table, column],
        ).fetchone()[0]
    )


def render(summaries: list[SourceSummary], first: date, last: date, warehouse: Path) -> str:
    """A fixed-width table for terminals and logs."""
    header = (
        f"{'source':<18}{'days':>6}{'files':>7}{'records':>11}{'loaded':>11}"
        f"{'quarantined':>13}  quarantine reasons"
    )
    lines = [
        f"Raw load, deliveries {first} .. {last}",
        header,
        "-" * len(header),
    ]
    for s in summaries:
        reasons = ", ".join(f"{r} {n:,}" for r, n in s.reasons.items()) or "-"
        flag = "" if s.balanced else "  ACCOUNTING MISMATCH"
        lines.append(
            f"{s.source:<18}{s.partitions:>6}{s.files:>7}{s.records:>11,}{s.loaded:>11,}"
            f"{s.quarantined:>13,}  {reasons}{flag}"
        )
    total_records = sum(s.records for s in summaries)
    total_loaded = sum(s.loaded for s in summaries)
    total_quarantined = sum(s.quarantined for s in summaries)
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<18}{'':>6}{sum(s.files for s in summaries):>7}{total_records:>11,}"
        f"{total_loaded:>11,}{total_quarantined:>13,}"
    )
    balanced = all(s.balanced for s in summaries)
    lines.append(
        "Line accounting: every record is a raw row, a quarantine row or a suppression"
        if balanced
        else "Line accounting: MISMATCH — see raw.load_audit where not balanced"
    )
    not_read = [f"  {file}: {reason}" for s in summaries for file, reason in s.files_not_read]
    lines += _section(
        f"Files not read ({len(not_read)}; each holds its delivery back, consent and "
        "privacy requests excepted; reasons in raw.load_audit.refused_detail):",
        not_read,
    )
    warned = [
        f"  {file}: {kind} {name} ({records:,} record{'s' * (records != 1)})"
        for s in summaries
        for file, kind, name, records in s.warnings
    ]
    lines += _section(
        f"Warnings ({len(warned)}; never hold a delivery; raw.load_warnings, "
        'docs/landing.md "Schema drift"):',
        warned,
    )
    not_loaded = [
        f"  {s.source} {day}: {detail}" for s in summaries for day, detail in s.not_loaded
    ]
    lines += _section(
        f"Deliveries NOT loaded ({len(not_loaded)}): their files changed while they were "
        "read; the next run reads them again:",
        not_loaded,
    )
    lines.append(f"Warehouse: {warehouse}  (tables raw.<source>, raw.quarantine, raw.load_audit)")
    return "\n".join(lines)


def _section(heading: str, items: list[str]) -> list[str]:
    """A heading and its lines, or nothing when there are none."""
    return [heading, *items] if items else []
