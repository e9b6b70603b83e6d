"""Load one delivery (source × date) into `raw.<source>` and `raw.quarantine`.

A reload replaces the partition: the delete, the inserts and the accounting check run in
one transaction, so a partition is either fully the new delivery or untouched.
"""

from __future__ import annotations

import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.landing import (
    OPEN_FLAGS,
    FileRefused,
    LandingFile,
    files_for,
    fingerprint,
    literal_pattern,
    readable_copy,
    repair_encoding,
)
from orchestration.ingest.parsing import parsed_sql, records_sql, sql_literal
from orchestration.ingest.sources import LOAD_METADATA, SOURCES, Kind, Source
from orchestration.settings import Settings

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
    delivery_fingerprint VARCHAR,
    refused_reason VARCHAR,
    refused_detail VARCHAR
)
"""

# Deliveries a run did not load because their files changed while it read them (one row
# per attempt; deleted when the delivery loads). The delivery keeps its earlier load, if
# any; the next run reads it again.
SKIPPED_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_skipped (
    source VARCHAR NOT NULL,
    _partition DATE NOT NULL,
    reason VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
)
"""

# The loader's warnings on the records it loaded (docs/landing.md, "Schema drift"): one row
# per file × kind × field (× detail), with the number of records and the first line. The
# gate reports them on the file's delivery; they never hold anything.
WARNINGS_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_warnings (
    source VARCHAR NOT NULL,
    _partition DATE NOT NULL,
    _file VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    detail VARCHAR,
    records BIGINT NOT NULL,
    first_line BIGINT NOT NULL,
    _loaded_at TIMESTAMPTZ NOT NULL,
    run_id VARCHAR
)
"""

AUDIT_COLUMNS = (
    "source, _partition, _file, file_bytes, records_in, header_records, blank_lines, "
    "raw_rows, quarantined_rows, suppressed_rows, balanced, _loaded_at, run_id, "
    "delivery_fingerprint, refused_reason, refused_detail"
)


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
    refused_reason: str | None = None
    refused_detail: str | None = None

    @property
    def balanced(self) -> bool:
        return self.records_in == self.raw_rows + self.quarantined_rows + self.suppressed_rows


class AccountingError(RuntimeError):
    """Records in ≠ raw rows + quarantined rows + suppressed rows for some file."""


class LiteralReadError(RuntimeError):
    """DuckDB's reader returned other files than the ones named (a path read as a pattern)."""


@dataclass(frozen=True)
class SkippedDelivery:
    """A delivery not loaded: its files changed while they were read."""

    source: str
    partition: date
    detail: str


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
    # Added with file-level safety: why a file was not read (NULL: it was read).
    con.execute("ALTER TABLE raw.load_audit ADD COLUMN IF NOT EXISTS refused_reason VARCHAR")
    con.execute("ALTER TABLE raw.load_audit ADD COLUMN IF NOT EXISTS refused_detail VARCHAR")
    con.execute(SKIPPED_DDL)
    con.execute(WARNINGS_DDL)
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


def _stage_lines(
    con: duckdb.DuckDBPyConnection, files: list[LandingFile], tmp_dir: Path
) -> list[SkippedDelivery]:
    """`_files(read_path, file, partition, file_bytes, delivery_fingerprint, refused_reason,
    refused_detail)` and `_lines(file, line_no, _text, bad_encoding)` for every physical line
    of the files that could be read.

    A file that is not read (refused at listing, or unreadable) is a `_files` row without a
    `read_path`, its reason naming the file. A delivery whose files changed on disk while
    they were read is left out of both and returned: it must not be loaded half."""
    readable: dict[str, Path] = {}
    refusals: dict[str, FileRefused] = {}

    def copy(f: LandingFile) -> Path | FileRefused:
        try:
            return readable_copy(f, tmp_dir)
        except FileRefused as refused:
            return refused

    # Decompressing is most of a gzip file's read and zlib releases the GIL: one file per core.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for f, copied in zip(files, pool.map(copy, files), strict=True):
            if isinstance(copied, FileRefused):
                refusals[f.relative] = copied
            else:
                readable[f.relative] = copied
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _files (read_path VARCHAR, file VARCHAR, "
        "partition DATE, file_bytes BIGINT, delivery_fingerprint VARCHAR, "
        "refused_reason VARCHAR, refused_detail VARCHAR)"
    )
    if files:
        versions = {
            day: fingerprint([f for f in files if f.partition == day])
            for day in {f.partition for f in files}
        }
        con.execute(
            "INSERT INTO _files SELECT unnest($read_path), unnest($file), unnest($partition), "
            "unnest($bytes), unnest($version), unnest($reason), unnest($detail)",
            {
                "read_path": [_path_or_none(readable.get(f.relative)) for f in files],
                "file": [f.relative for f in files],
                "partition": [f.partition for f in files],
                "bytes": [f.size for f in files],
                "version": [versions[f.partition] for f in files],
                "reason": [_refusal(refusals, f, "reason") for f in files],
                "detail": [_refusal(refusals, f, "detail") for f in files],
            },
        )
    bad_lines: dict[str, list[int]] = {}
    try:
        try:
            _read_lines(con, tmp_dir)
        except (duckdb.IOException, LiteralReadError):
            # A file went away (or was swapped) after it was checked: account it, read the rest.
            if not _recheck(con, files, readable, refusals):
                raise
            _read_lines(con, tmp_dir)
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
        _read_lines(con, tmp_dir)
    skipped = _changed_while_read(con, files, refusals)
    rows = [(rel, n) for rel, numbers in bad_lines.items() for n in numbers]
    if not rows:
        # The common case: no copy of the text, just a flag column.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW _lines AS "
            "SELECT file, line_no, _text, FALSE AS bad_encoding FROM _lines_read"
        )
        return skipped
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
    return skipped


def _recheck(
    con: duckdb.DuckDBPyConnection,
    files: list[LandingFile],
    readable: dict[str, Path],
    refusals: dict[str, FileRefused],
) -> bool:
    """After DuckDB failed to open a file: the files that can no longer be opened as they
    were listed become refusals (`file_vanished`, …). False when every file is still fine."""
    found = False
    for f in files:
        path = readable.get(f.relative)
        if path is None or path != f.path:
            continue  # refused already, or a copy of our own
        try:
            fd = os.open(path, OPEN_FLAGS)
            os.close(fd)
            continue
        except FileNotFoundError:
            refused = FileRefused("file_vanished", f"{f.relative} was listed but is gone: not read")
        except OSError as error:
            refused = FileRefused("unreadable", f"{f.relative} cannot be opened ({error.strerror})")
        found = True
        refusals[f.relative] = refused
        del readable[f.relative]
        con.execute(
            "UPDATE _files SET read_path = NULL, refused_reason = $reason, "
            "refused_detail = $detail WHERE file = $file",
            {"reason": refused.reason, "detail": refused.detail, "file": f.relative},
        )
    return found


def _path_or_none(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _refusal(refusals: dict[str, FileRefused], f: LandingFile, part: str) -> str | None:
    refused = refusals.get(f.relative)
    return None if refused is None else getattr(refused, part)


def _changed_while_read(
    con: duckdb.DuckDBPyConnection, files: list[LandingFile], refusals: dict[str, FileRefused]
) -> list[SkippedDelivery]:
    """Deliveries whose folder, listed again after reading, differs from the listing the
    loader read: a file added, removed, replaced, grown or rewritten. (A file that was gone
    when it was to be read is accounted as `file_vanished`, not a change.) Their files are
    dropped from `_files` and `_lines_read`."""
    skipped: list[SkippedDelivery] = []
    by_day: dict[tuple[str, date], list[LandingFile]] = {}
    for f in files:
        by_day.setdefault((f.source, f.partition), []).append(f)
    for (source, day), listed in sorted(by_day.items()):
        vanished = {
            f.relative for f in listed
            if f.relative in refusals and refusals[f.relative].reason == "file_vanished"
        }  # fmt: skip
        changes = [
            f"{f.relative}: {change}"
            for f in listed
            if f.relative not in vanished and (change := f.changed_on_disk())
        ]
        names = {f.relative for f in listed}
        changes += [
            f"{f.relative}: added"
            for f in files_for(listed[0].root, source, day)
            if f.relative not in names
        ]
        if changes:
            skipped.append(SkippedDelivery(source, day, "; ".join(changes)))
    if skipped:
        dropped = [s.partition for s in skipped]
        con.execute(
            "DELETE FROM _lines_read WHERE file IN "
            "(SELECT file FROM _files WHERE list_contains($days, partition))",
            {"days": dropped},
        )
        con.execute("DELETE FROM _files WHERE list_contains($days, partition)", {"days": dropped})
    return skipped


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    kinds = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = $name "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = $name",
        {"name": name},
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} {name}")


def _read_lines(con: duckdb.DuckDBPyConnection, tmp_dir: Path) -> None:
    """`_lines_read(file, line_no, _text)`: every physical line of every readable file,
    each file read by its literal path (never as a glob pattern)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _lines_read (file VARCHAR, line_no BIGINT, _text VARCHAR)"
    )
    paths = [
        p for (p,) in con.execute(
            "SELECT read_path FROM _files WHERE read_path IS NOT NULL ORDER BY file"
        ).fetchall()
    ]  # fmt: skip
    if not paths:
        return
    patterns = [literal_pattern(p) for p in paths]
    # What each pattern names (file names only: no content is read here). A pattern that
    # matches another file, or none, would lose or double a file while the books balance.
    named = con.execute(
        "SELECT filename, count(*) FROM read_text($patterns) GROUP BY ALL",
        {"patterns": patterns},
    ).fetchall()
    if sorted(named) != sorted((p, 1) for p in paths):
        wrong = sorted(set(paths) ^ {name for name, _ in named})
        raise LiteralReadError(f"files read by pattern differ from the files named: {wrong}")
    con.execute(
        """
        INSERT INTO _lines_read
        WITH split AS (
            -- unnest in the select list, zipped with the subscripts (a lateral
            -- `unnest … WITH ORDINALITY` costs about three times as much), and no
            -- whole-content string functions: they are linear in the file's size
            SELECT f.file, len(t.lines) AS line_count,
                   unnest(t.lines) AS _text, generate_subscripts(t.lines, 1) AS line_no
            FROM (SELECT filename, string_split(content, chr(10)) AS lines
                  FROM read_text($patterns)) AS t
            JOIN _files AS f ON t.filename = f.read_path
        )
        , unmarked AS (
            -- a UTF-8 byte-order mark belongs to the file, not to its first line
            SELECT file, line_no,
                   CASE WHEN line_no = 1 AND starts_with(_text, chr(65279))
                        THEN substr(_text, 2) ELSE _text END AS _text
            FROM split
            -- the newline ending the last line does not start another line
            WHERE line_no < line_count OR _text <> ''
        )
        -- carriage returns before the newline (CRLF) are not the line's (suffix() is a byte
        -- test; rtrim(…, chr(13)) walks the whole line, so only lines that end in one pay)
        SELECT file, line_no,
               CASE WHEN suffix(_text, chr(13)) THEN rtrim(_text, chr(13))
                    ELSE _text END AS _text
        FROM unmarked
        """,
        {"patterns": patterns},
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


def unvalidated_dates(
    con: duckdb.DuckDBPyConnection, source: str | None, dates: list[date] | None = None
) -> list[date]:
    """Delivery dates whose current load has no verdict yet (`state.delivery_status`
    'unvalidated': a run loaded them and ended before its gate), of `source` (None: any)
    within `dates` (None: any)."""
    return [
        d
        for (d,) in con.execute(
            "SELECT DISTINCT delivery_date FROM state.delivery_status "
            "WHERE status = 'unvalidated' AND ($source IS NULL OR source = $source) "
            "AND ($dates IS NULL OR list_contains($dates, delivery_date)) ORDER BY 1",
            {"source": source, "dates": dates},
        ).fetchall()
    ]


def pending_dates(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, dates: list[date]
) -> list[date]:
    """Delivery dates (of `dates` or already loaded) whose deliveries of some source are
    new, changed or withdrawn, or loaded but not yet judged by the gate: what a run without
    a range has to do."""
    loaded = [
        d for (d,) in con.execute("SELECT DISTINCT _partition FROM raw.load_audit").fetchall()
    ]
    candidates = sorted(set(dates) | set(loaded))
    pending: set[date] = set()
    for source in SOURCES:
        delivered = [(d, files_for(landing_dir, source.name, d)) for d in candidates]
        pending |= {d for d, _ in changed_deliveries(con, source, delivered)}
    return sorted(pending | set(unvalidated_dates(con, None)))


def load_deliveries(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    deliveries: list[tuple[date, list[LandingFile]]],
    loaded_at: datetime,
    run_id: str | None = None,
    first_delivery_date: date | None = None,
) -> list[FileAudit]:
    """Replace `source`'s rows for each delivery date with the files delivered that day.

    A date with no files is cleared (its delivery was withdrawn). All dates of the batch are
    parsed together, set-based, and written in one transaction.

    A file that cannot be read at all (docs/landing.md, "Files that are not read") is one
    audit row with its reason and no rows; the rest of its delivery loads (and the gate
    holds the delivery). A delivery whose files changed while they were read is not loaded
    (its earlier load, if any, stays): it is recorded in `raw.load_skipped` and logged.

    `first_delivery_date` is the lower bound of a timestamp's plausible range (default:
    the setting CDW_FIRST_DELIVERY_DATE); the loader's warnings go to `raw.load_warnings`.
    """
    configure(con)
    if first_delivery_date is None:
        first_delivery_date = Settings.from_env().first_delivery_date
    columns = source.column_names()
    files = [f for _, day_files in deliveries for f in day_files]
    with tempfile.TemporaryDirectory(prefix="cdw-load-") as tmp:
        # Read before the transaction: a file DuckDB refuses (bad UTF-8) must not abort it.
        skipped = _stage_lines(con, files, Path(tmp))
        skipped_days = {s.partition for s in skipped}
        dates = [day for day, _ in deliveries if day not in skipped_days]
        for s in skipped:
            log.warning(
                f"{source.name} {s.partition}: not loaded, its files changed while they were "
                f"read ({s.detail}); the next run reads it again"
            )
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "DELETE FROM raw.load_skipped WHERE source = $source "
                "AND list_contains($dates, _partition)",
                {"source": source.name, "dates": [day for day, _ in deliveries]},
            )
            if skipped:
                con.execute(
                    "INSERT INTO raw.load_skipped SELECT $source, unnest($days), "
                    "'changed_while_read', unnest($details), $loaded_at, $run_id",
                    {
                        "source": source.name,
                        "days": [s.partition for s in skipped],
                        "details": [s.detail for s in skipped],
                        "loaded_at": loaded_at,
                        "run_id": run_id,
                    },
                )
            for table in (source.table, "raw.quarantine", "raw.load_audit", "raw.load_warnings"):
                source_filter = "" if table == source.table else " AND source = $source"
                con.execute(
                    f"DELETE FROM {table} WHERE list_contains($dates, _partition){source_filter}",
                    {"dates": dates} | ({} if table == source.table else {"source": source.name}),
                )
            _drop_temp(con, "_records")  # a table for CSV, a view for line formats
            con.execute(records_sql(source))
            con.execute(parsed_sql(source, first_delivery_date))
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
            con.execute(
                """
                INSERT INTO raw.load_warnings
                SELECT $source, f.partition, w.file, w.flag.kind, w.flag.field, w.flag.detail,
                       count(*), min(w.line), $loaded_at, $run_id
                FROM (SELECT file, line, unnest(flags) AS flag FROM _parsed
                      WHERE flags IS NOT NULL) AS w
                JOIN _files f USING (file)
                GROUP BY ALL ORDER BY ALL
                """,
                {"source": source.name, "loaded_at": loaded_at, "run_id": run_id},
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
    first_delivery_date: date | None = None,
) -> list[FileAudit]:
    """Replace `source`'s rows for one delivery date."""
    return load_deliveries(
        con, source, [(partition, files)], loaded_at, run_id, first_delivery_date
    )


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
        INSERT INTO raw.load_audit ({AUDIT_COLUMNS})
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
               $loaded_at, $run_id, f.delivery_fingerprint, f.refused_reason, f.refused_detail
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
               blank_lines, refused_reason, refused_detail
        FROM raw.load_audit WHERE source = $source AND list_contains($dates, _partition)
        ORDER BY _partition, _file
        """,
        {"source": source.name, "dates": dates},
    ).fetchall()
    return [FileAudit(source.name, *row) for row in rows]
