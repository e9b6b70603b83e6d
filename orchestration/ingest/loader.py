"""Load one delivery (source × date) into `raw.<source>` and `raw.quarantine`.

A reload replaces the partition: the delete, the inserts and the accounting check run in
one transaction, so a partition is either fully the new delivery or untouched.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.landing import (
    LandingFile,
    files_for,
    fingerprint,
    readable_copy,
    repair_encoding,
)
from orchestration.ingest.parsing import parsed_sql, records_sql, sql_literal
from orchestration.ingest.sources import LOAD_METADATA, SOURCES, Kind, Source

log = logging.getLogger(__name__)

# name -> (DDL, description); the columns are defined in the contract (sources.py).
METADATA_COLUMNS = {c.name: (c.ddl, c.description) for c in LOAD_METADATA}

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS raw.quarantine (
    source VARCHAR NOT NULL,
    _file VARCHAR NOT NULL,
    _line BIGINT NOT NULL,
    _partition DATE NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL,
    reason VARCHAR NOT NULL,
    detail VARCHAR,
    raw_text VARCHAR
)
"""

AUDIT_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_audit (
    source VARCHAR NOT NULL,
    _partition DATE NOT NULL,
    _file VARCHAR NOT NULL,
    file_bytes BIGINT NOT NULL,
    records_in BIGINT NOT NULL,
    header_records BIGINT NOT NULL,
    blank_lines BIGINT NOT NULL,
    raw_rows BIGINT NOT NULL,
    quarantined_rows BIGINT NOT NULL,
    suppressed_rows BIGINT NOT NULL,
    balanced BOOLEAN NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR,
    delivery_fingerprint VARCHAR
)
"""


@dataclass(frozen=True)
class FileAudit:
    source: str
    partition: date
    file: str
    records_in: int
    raw_rows: int
    quarantined_rows: int
    suppressed_rows: int
    blank_lines: int

    @property
    def balanced(self) -> bool:
        return self.records_in == self.raw_rows + self.quarantined_rows + self.suppressed_rows


class AccountingError(RuntimeError):
    """Records in ≠ raw rows + quarantined rows + suppressed rows for some file."""


def configure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")


def ensure_tables(con: duckdb.DuckDBPyConnection, sources: tuple[Source, ...] = SOURCES) -> None:
    """Create the raw schema; add columns a newer contract introduced (never drop)."""
    configure(con)
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(QUARANTINE_DDL)
    con.execute(AUDIT_DDL)
    # Added after the first warehouses were built: the version of the delivery (its files'
    # names, sizes and times) that a steward's release names.
    con.execute("ALTER TABLE raw.load_audit ADD COLUMN IF NOT EXISTS delivery_fingerprint VARCHAR")
    existing = {
        (table, column)
        for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw'"
        ).fetchall()
    }
    for source in sources:
        wanted = {(source.name, f.column) for f in source.fields}
        if wanted <= existing:
            continue  # up to date: skip the catalog writes
        columns = [
            f"{f.column} {'JSON' if f.kind is Kind.JSON else 'VARCHAR'}" for f in source.fields
        ] + [f"{name} {ddl}" for name, (ddl, _) in METADATA_COLUMNS.items()]
        con.execute(f"CREATE TABLE IF NOT EXISTS {source.table} ({', '.join(columns)})")
        for f in source.fields:
            kind = "JSON" if f.kind is Kind.JSON else "VARCHAR"
            con.execute(f"ALTER TABLE {source.table} ADD COLUMN IF NOT EXISTS {f.column} {kind}")
        con.execute(f"COMMENT ON TABLE {source.table} IS {sql_literal(source.description)}")
        for f in source.fields:
            con.execute(
                f"COMMENT ON COLUMN {source.table}.{f.column} IS {sql_literal(f.description)}"
            )
        for name, (_, description) in METADATA_COLUMNS.items():
            con.execute(f"COMMENT ON COLUMN {source.table}.{name} IS {sql_literal(description)}")


def _stage_lines(con: duckdb.DuckDBPyConnection, files: list[LandingFile], tmp_dir: Path) -> None:
    """`_files(read_path, file, partition, file_bytes)` and `_lines(file, line_no, _text,
    bad_encoding)` for every physical line of the files."""
    readable = {f.relative: readable_copy(f, tmp_dir) for f in files}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _files (read_path VARCHAR, file VARCHAR, "
        "partition DATE, file_bytes BIGINT, delivery_fingerprint VARCHAR)"
    )
    if files:
        versions = {
            day: fingerprint([f for f in files if f.partition == day])
            for day in {f.partition for f in files}
        }
        # One literal VALUES insert: executemany costs ~10 ms a row, list parameters ~3 ms.
        values = ", ".join(
            f"({sql_literal(str(readable[f.relative]))}, {sql_literal(f.relative)}, "
            f"DATE '{f.partition.isoformat()}', {f.size}, {sql_literal(versions[f.partition])})"
            for f in files
        )
        con.execute(f"INSERT INTO _files VALUES {values}")
    bad_lines: dict[str, list[int]] = {}
    try:
        _read_lines(con)
    except duckdb.InvalidInputException as error:
        if "UTF-8" not in str(error):
            raise
        # Some file is not valid UTF-8: find the bad lines of each such file, quarantine them.
        for relative, path in list(readable.items()):
            try:
                path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                repaired, bad_lines[relative] = repair_encoding(path, tmp_dir)
                con.execute(
                    "UPDATE _files SET read_path = ? WHERE file = ?", [str(repaired), relative]
                )
        _read_lines(con)
    rows = [(rel, n) for rel, numbers in bad_lines.items() for n in numbers]
    if not rows:
        # The common case: no copy of the text, just a flag column.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _lines AS "
            "SELECT file, line_no, _text, FALSE AS bad_encoding FROM _lines_read"
        )
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _bad_lines (file VARCHAR, line_no BIGINT)")
    con.execute(
        "INSERT INTO _bad_lines SELECT unnest($files), unnest($lines)",
        {"files": [r[0] for r in rows], "lines": [r[1] for r in rows]},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP VIEW _lines AS
        SELECT l.file, l.line_no, l._text, b.line_no IS NOT NULL AS bad_encoding
        FROM _lines_read l LEFT JOIN _bad_lines b USING (file, line_no)
        """
    )


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    kinds = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = $name "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = $name",
        {"name": name},
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} {name}")


def _read_lines(con: duckdb.DuckDBPyConnection) -> None:
    paths = [p for (p,) in con.execute("SELECT read_path FROM _files").fetchall()]
    if not paths:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _lines_read (file VARCHAR, line_no BIGINT, _text VARCHAR)"
        )
        return
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lines_read AS
        WITH contents AS (
            SELECT f.file,
                   -- the newline ending the last line does not start another line
                   CASE WHEN t.content = '' THEN []
                        WHEN suffix(t.content, chr(10))
                        THEN string_split(left(t.content, length(t.content) - 1), chr(10))
                        ELSE string_split(t.content, chr(10)) END AS lines
            FROM read_text(?) t JOIN _files f ON t.filename = f.read_path
        )
        SELECT c.file, u.line_no, rtrim(u._text, chr(13)) AS _text
        FROM contents c, unnest(c.lines) WITH ORDINALITY AS u(_text, line_no)
        """,
        [paths],
    )


def changed_deliveries(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    delivered: list[tuple[date, list[LandingFile]]],
) -> list[tuple[date, list[LandingFile]]]:
    """The deliveries whose files differ from the version in raw (raw.load_audit's
    fingerprint): new, re-delivered, or withdrawn (no files left, rows still loaded).

    Unchanged deliveries are not read again, so a run costs what its new data costs and a
    steward's release of the loaded version stays in force. (A new loader or contract
    version needs `cdw run --reload`.)
    """
    loaded = dict(
        con.execute(
            "SELECT _partition, max(delivery_fingerprint) FROM raw.load_audit "
            "WHERE source = $source AND list_contains($dates, _partition) GROUP BY ALL",
            {"source": source.name, "dates": [day for day, _ in delivered]},
        ).fetchall()
    )
    changed = []
    for day, files in delivered:
        if not files:
            if day in loaded:  # withdrawn: clear it
                changed.append((day, files))
        elif loaded.get(day) != fingerprint(files):
            changed.append((day, files))
    return changed


def pending_dates(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, dates: list[date]
) -> list[date]:
    """Delivery dates (of `dates` or already loaded) whose deliveries of some source are
    new, changed or withdrawn: what a run without a range has to load."""
    loaded = [
        d for (d,) in con.execute("SELECT DISTINCT _partition FROM raw.load_audit").fetchall()
    ]
    candidates = sorted(set(dates) | set(loaded))
    pending: set[date] = set()
    for source in SOURCES:
        delivered = [(d, files_for(landing_dir, source.name, d)) for d in candidates]
        pending |= {d for d, _ in changed_deliveries(con, source, delivered)}
    return sorted(pending)


def load_deliveries(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    deliveries: list[tuple[date, list[LandingFile]]],
    loaded_at: datetime,
    run_id: str | None = None,
) -> list[FileAudit]:
    """Replace `source`'s rows for each delivery date with the files delivered that day.

    A date with no files is cleared (its delivery was withdrawn). All dates of the batch are
    parsed together, set-based, and written in one transaction.
    """
    configure(con)
    columns = source.column_names()
    dates = [day for day, _ in deliveries]
    files = [f for _, day_files in deliveries for f in day_files]
    with tempfile.TemporaryDirectory(prefix="cdw-load-") as tmp:
        # Read before the transaction: a file DuckDB refuses (bad UTF-8) must not abort it.
        _stage_lines(con, files, Path(tmp))
        con.execute("BEGIN TRANSACTION")
        try:
            for table in (source.table, "raw.quarantine", "raw.load_audit"):
                source_filter = "" if table == source.table else " AND source = $source"
                con.execute(
                    f"DELETE FROM {table} WHERE list_contains($dates, _partition){source_filter}",
                    {"dates": dates} | ({} if table == source.table else {"source": source.name}),
                )
            _drop_temp(con, "_records")  # a table for CSV, a view for line formats
            con.execute(records_sql(source))
            con.execute(parsed_sql(source))
            con.execute(
                f"""
                INSERT INTO {source.table} ({", ".join(columns)}, _extra, _file, _line,
                                            _partition, _loaded_at)
                SELECT {", ".join(f"p.{c}" for c in columns)}, p._extra, p.file, p.line,
                       f.partition, $loaded_at
                FROM _parsed p JOIN _files f USING (file)
                WHERE p.problem IS NULL ORDER BY f.partition, p.file, p.line
                """,
                {"loaded_at": loaded_at},
            )
            con.execute(
                """
                INSERT INTO raw.quarantine
                SELECT $source, p.file, p.line, f.partition, $loaded_at, p.problem.reason,
                       p.problem.detail, p._text
                FROM _parsed p JOIN _files f USING (file)
                WHERE p.problem IS NOT NULL ORDER BY f.partition, p.file, p.line
                """,
                {"source": source.name, "loaded_at": loaded_at},
            )
            audits = _audit(con, source, dates, loaded_at, run_id)
            unbalanced = [a for a in audits if not a.balanced]
            if unbalanced:
                raise AccountingError(
                    f"{source.name}: records in ≠ rows out for "
                    + ", ".join(
                        f"{a.file} ({a.records_in} in, {a.raw_rows} raw, "
                        f"{a.quarantined_rows} quarantined, {a.suppressed_rows} suppressed)"
                        for a in unbalanced
                    )
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return audits


def load_partition(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    partition: date,
    files: list[LandingFile],
    loaded_at: datetime,
    run_id: str | None = None,
) -> list[FileAudit]:
    """Replace `source`'s rows for one delivery date."""
    return load_deliveries(con, source, [(partition, files)], loaded_at, run_id)


def _audit(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dates: list[date],
    loaded_at: datetime,
    run_id: str | None,
) -> list[FileAudit]:
    """Records in (from the split) against rows out (counted in the target tables)."""
    con.execute(
        f"""
        INSERT INTO raw.load_audit
        WITH records_in AS (
            SELECT file, count(*) FILTER (WHERE NOT is_header AND NOT is_blank) AS records_in,
                   count(*) FILTER (WHERE is_header) AS header_records,
                   count(*) FILTER (WHERE is_blank) AS blank_lines
            FROM _records GROUP BY file
        ),
        raw_rows AS (
            SELECT _file AS file, count(*) AS raw_rows FROM {source.table}
            WHERE list_contains($dates, _partition) GROUP BY ALL
        ),
        quarantined AS (
            SELECT _file AS file, count(*) AS quarantined_rows FROM raw.quarantine
            WHERE list_contains($dates, _partition) AND source = $source GROUP BY ALL
        )
        SELECT $source, f.partition, f.file, f.file_bytes,
               coalesce(records_in, 0), coalesce(header_records, 0), coalesce(blank_lines, 0),
               coalesce(raw_rows, 0), coalesce(quarantined_rows, 0), 0 AS suppressed_rows,
               coalesce(records_in, 0) = coalesce(raw_rows, 0) + coalesce(quarantined_rows, 0),
               $loaded_at, $run_id, f.delivery_fingerprint
        FROM _files f
        LEFT JOIN records_in USING (file)
        LEFT JOIN raw_rows USING (file) LEFT JOIN quarantined USING (file)
        ORDER BY f.partition, f.file
        """,
        {"source": source.name, "dates": dates, "loaded_at": loaded_at, "run_id": run_id},
    )
    # Rows that belong to no delivered file (cannot happen unless the tables were edited)
    # would escape the per-file count above; count them too.
    (orphans,) = con.execute(
        f"""
        SELECT count(*) FROM (
            SELECT _file FROM {source.table} WHERE list_contains($dates, _partition)
            UNION ALL
            SELECT _file FROM raw.quarantine
            WHERE list_contains($dates, _partition) AND source = $source
        ) WHERE _file NOT IN (SELECT file FROM _files)
        """,
        {"source": source.name, "dates": dates},
    ).fetchone()
    if orphans:
        raise AccountingError(f"{source.name}: {orphans} rows belong to no delivered file")
    rows = con.execute(
        """
        SELECT _partition, _file, records_in, raw_rows, quarantined_rows, suppressed_rows,
               blank_lines
        FROM raw.load_audit WHERE source = $source AND list_contains($dates, _partition)
        ORDER BY _partition, _file
        """,
        {"source": source.name, "dates": dates},
    ).fetchall()
    return [FileAudit(source.name, *row) for row in rows]
