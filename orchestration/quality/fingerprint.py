""" "Same warehouse" (DESIGN.md): an ordered content hash per table over its columns.

Floats are rounded to `FLOAT_DIGITS` decimals before hashing; columns that record *when*
something was loaded (`_loaded_at`) or by which run are left out, since they differ between
two builds of the same data by definition.
"""

from __future__ import annotations

import duckdb

FLOAT_DIGITS = 9
# What "the same warehouse" compares; `state` (what a rebuild cannot re-derive) is apart.
COMPARED_SCHEMAS = ("staging", "intermediate", "marts")
# delivery_fingerprint hashes file modification times: a copy of the same files differs.
VOLATILE_COLUMNS = frozenset({"_loaded_at", "run_id", "delivery_fingerprint"})


def table_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    """(row count, md5 over the rows sorted by their text) for `schema.table`."""
    schema, name = table.split(".")
    columns = con.execute(
        """
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
        """,
        [schema, name],
    ).fetchall()
    parts = [
        f'round("{c}", {FLOAT_DIGITS})::VARCHAR'
        if t in ("DOUBLE", "FLOAT", "REAL")
        else f'"{c}"::VARCHAR'
        for c, t in columns
        if c not in VOLATILE_COLUMNS
    ]
    # NULL is hashed as a marker distinct from '' ; fields are joined with a unit separator.
    row_text = "concat_ws(chr(31), " + ", ".join(f"coalesce({p}, '\\N')" for p in parts) + ")"
    count, digest = con.execute(
        f"""
        SELECT count(*), md5(coalesce(string_agg(row_hash, '' ORDER BY row_hash), ''))
        FROM (SELECT md5({row_text}) AS row_hash FROM {table})
        """
    ).fetchone()
    return count, digest


def schema_fingerprints(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, tuple[int, str]]:
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
        [schema],
    ).fetchall()
    return {f"{schema}.{t}": table_fingerprint(con, f"{schema}.{t}") for (t,) in tables}


def warehouse_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple[int, str]]]:
    """Every table of the compared schemas: {schema: {schema.table: (rows, md5)}}."""
    return {schema: schema_fingerprints(con, schema) for schema in COMPARED_SCHEMAS}
