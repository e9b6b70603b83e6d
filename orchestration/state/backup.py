"""Back up and restore the `state` schema (`cdw state backup DIR`, `cdw state restore DIR`).

One Parquet file per state table (DuckDB's COPY), so a backup is readable by any tool and
survives a rebuilt or lost warehouse file. A restore replaces each table's rows in one
transaction.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.ingest.loader import ensure_tables
from orchestration.state.schema import STATE_SCHEMA, ensure_state


def state_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The base tables of the state schema (views are re-derived, never backed up)."""
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = $schema "
            "ORDER BY table_name",
            {"schema": STATE_SCHEMA},
        ).fetchall()
    ]


def _literal_path(path: Path) -> str:
    # DuckDB's readers take a path as a glob pattern: refuse pattern characters rather than
    # read another file than the one named.
    if any(c in str(path) for c in "*?[]{}"):
        raise ValueError(f"{path}: the backup folder's path must not hold * ? [ ] {{ }}")
    return "'" + str(path).replace("'", "''") + "'"


def backup_state(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Write every state table to `folder/<table>.parquet`; rows per table."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table in state_tables(con):
        target = folder / f"{table}.parquet"
        con.execute(f"COPY {STATE_SCHEMA}.{table} TO {_literal_path(target)} (FORMAT parquet)")
        (counts[table],) = con.execute(f"SELECT count(*) FROM {STATE_SCHEMA}.{table}").fetchone()
    return counts


def restore_state(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Replace each state table's rows with `folder/<table>.parquet`; rows per table.

    Tables without a file in the backup are left as they are (and named in the error if
    the backup holds a table the warehouse does not know).
    """
    ensure_tables(con)
    ensure_state(con)
    known = set(state_tables(con))
    files = {p.stem: p for p in sorted(folder.glob("*.parquet"))}
    unknown = sorted(set(files) - known)
    if unknown:
        raise ValueError(f"backup has tables this warehouse's state does not: {unknown}")
    counts = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table, path in files.items():
            con.execute(f"DELETE FROM {STATE_SCHEMA}.{table}")
            con.execute(
                f"INSERT INTO {STATE_SCHEMA}.{table} SELECT * FROM read_parquet("
                f"{_literal_path(path)})"
            )
            (counts[table],) = con.execute(
                f"SELECT count(*) FROM {STATE_SCHEMA}.{table}"
            ).fetchone()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts
