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

from orchestration.ingest.landing import LandingFile, readable_copy, repair_encoding
from orchestration.ingest.parsing import parsed_sql, records_sql, sql_literal
from orchestration.ingest.sources import SOURCES, Kind, Source

log = logging.getLogger(__name__)

METADATA_COLUMNS = {
    "_extra": ("JSON", "Unknown extra columns / JSON fields of the record, kept as delivered."),
    "_file": ("VARCHAR NOT NULL", "Landing file, relative to the landing folder."),
    "_line": (
        "BIGINT NOT NULL",
        "Physical line where the record starts (1-based; a CSV header is line 1).",
    ),
    "_partition": ("DATE NOT NULL", "Delivery date (the landing folder's date)."),
    "_loaded_at": ("TIMESTAMPTZ NOT NULL", "When the run that loaded it started."),
}

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
    run_id VARCHAR
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
    for source in sources:
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
    """`_lines(file, line_no, text, bad_encoding)` for every physical line of the files."""
    readable = {f.relative: readable_copy(f, tmp_dir) for f in files}
    bad_lines: dict[str, list[int]] = {}
    try:
        _read_lines(con, readable)
    except duckdb.InvalidInputException as error:
        if "UTF-8" not in str(error):
            raise
        # Some file is not valid UTF-8: find the bad lines of each such file, quarantine them.
        for relative, path in list(readable.items()):
            try:
                path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                readable[relative], bad_lines[relative] = repair_encoding(path, tmp_dir)
        _read_lines(con, readable)
    con.execute("CREATE OR REPLACE TEMP TABLE _bad_lines (file VARCHAR, line_no BIGINT)")
    rows = [(rel, n) for rel, numbers in bad_lines.items() for n in numbers]
    if rows:
        con.executemany("INSERT INTO _bad_lines VALUES (?, ?)", rows)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lines AS
        SELECT l.file, l.line_no, l.text, b.line_no IS NOT NULL AS bad_encoding
        FROM _lines_read l LEFT JOIN _bad_lines b USING (file, line_no)
        """
    )


def _read_lines(con: duckdb.DuckDBPyConnection, readable: dict[str, Path]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _files (read_path VARCHAR, file VARCHAR)")
    paths = [str(p) for p in readable.values()]
    if paths:
        con.executemany(
            "INSERT INTO _files VALUES (?, ?)", [(str(p), rel) for rel, p in readable.items()]
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _lines_read (file VARCHAR, line_no BIGINT, text VARCHAR)"
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
        SELECT c.file, u.line_no, rtrim(u.text, chr(13)) AS text
        FROM contents c, unnest(c.lines) WITH ORDINALITY AS u(text, line_no)
        """,
        [paths],
    )


def load_partition(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    partition: date,
    files: list[LandingFile],
    loaded_at: datetime,
    run_id: str | None = None,
) -> list[FileAudit]:
    """Replace `source`'s rows for `partition` with the delivery in `files`."""
    configure(con)
    columns = source.column_names()
    with tempfile.TemporaryDirectory(prefix="cdw-load-") as tmp:
        # Read before the transaction: a file DuckDB refuses (bad UTF-8) must not abort it.
        _stage_lines(con, files, Path(tmp))
        con.execute("BEGIN TRANSACTION")
        try:
            for table in (source.table, "raw.quarantine", "raw.load_audit"):
                source_filter = "" if table == source.table else " AND source = ?"
                params = [partition] if table == source.table else [partition, source.name]
                con.execute(f"DELETE FROM {table} WHERE _partition = ?{source_filter}", params)
            con.execute(records_sql(source))
            con.execute(parsed_sql(source))
            meta = [partition, loaded_at]
            con.execute(
                f"""
                INSERT INTO {source.table} ({", ".join(columns)}, _extra, _file, _line,
                                            _partition, _loaded_at)
                SELECT {", ".join(columns)}, _extra, file, line, ?, ?
                FROM _parsed WHERE problem IS NULL ORDER BY file, line
                """,
                meta,
            )
            con.execute(
                """
                INSERT INTO raw.quarantine
                SELECT ?, file, line, ?, ?, problem.reason, problem.detail, text
                FROM _parsed WHERE problem IS NOT NULL ORDER BY file, line
                """,
                [source.name, *meta],
            )
            audits = _audit(con, source, partition, files, loaded_at, run_id)
            unbalanced = [a for a in audits if not a.balanced]
            if unbalanced:
                raise AccountingError(
                    f"{source.name} {partition}: records in ≠ rows out for "
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


def _audit(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    partition: date,
    files: list[LandingFile],
    loaded_at: datetime,
    run_id: str | None,
) -> list[FileAudit]:
    """Records in (from the split) against rows out (counted in the target tables)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _audit_files (file VARCHAR, file_bytes BIGINT)")
    if files:
        con.executemany(
            "INSERT INTO _audit_files VALUES (?, ?)", [(f.relative, f.size) for f in files]
        )
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
            WHERE _partition = $partition GROUP BY ALL
        ),
        quarantined AS (
            SELECT _file AS file, count(*) AS quarantined_rows FROM raw.quarantine
            WHERE _partition = $partition AND source = $source GROUP BY ALL
        )
        SELECT $source, $partition, f.file, f.file_bytes,
               coalesce(records_in, 0), coalesce(header_records, 0), coalesce(blank_lines, 0),
               coalesce(raw_rows, 0), coalesce(quarantined_rows, 0), 0 AS suppressed_rows,
               coalesce(records_in, 0) = coalesce(raw_rows, 0) + coalesce(quarantined_rows, 0),
               $loaded_at, $run_id
        FROM _audit_files f
        LEFT JOIN records_in USING (file)
        LEFT JOIN raw_rows USING (file) LEFT JOIN quarantined USING (file)
        ORDER BY f.file
        """,
        {"source": source.name, "partition": partition, "loaded_at": loaded_at, "run_id": run_id},
    )
    rows = con.execute(
        """
        SELECT _file, records_in, raw_rows, quarantined_rows, suppressed_rows, blank_lines
        FROM raw.load_audit WHERE source = ? AND _partition = ? ORDER BY _file
        """,
        [source.name, partition],
    ).fetchall()
    return [FileAudit(source.name, partition, *row) for row in rows]
