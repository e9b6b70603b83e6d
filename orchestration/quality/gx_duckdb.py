"""Great Expectations on DuckDB: every DuckDB-specific adaptation of GX lives here.

Verified on great_expectations 1.24.1, duckdb-engine 0.17.0, duckdb 1.5.6, SQLAlchemy 2.1.9
(all pinned in pyproject.toml). Re-verify `tests/quality/test_gx_gate.py` before changing
any of them: it compares every figure GX reports with the same figure computed in plain SQL.

1. **The persisted connection** (upstream great_expectations issues #10738 and #11579).
   `SqlAlchemyExecutionEngine.execute_query()` runs a query inside
   `with engine.connect() as connection:` and returns the *unfetched* result; the caller
   calls `fetchall()` after the block, when the connection has already gone back to the
   pool. The pool resets (rolls back) a returned connection, and for duckdb-engine that
   discards the pending result: every metric comes back empty and every expectation fails
   with "list index out of range" (or "'NoneType' object is not subscriptable" for
   `UnexpectedRowsExpectation`). GX already works around this for sqlite, SQL Server,
   BigQuery and Databricks: for the dialects in `_PERSISTED_CONNECTION_DIALECTS` it builds
   the engine on a `StaticPool` and keeps one connection open for the engine's lifetime.
   `enable_persisted_connection()` adds DuckDB to that list. With it every query runs, and
   is fetched, on one live connection: validation is pushed down as SQL into DuckDB.

   The price: that connection stays open until the execution engine is closed, so
   `release()` must run after the last validation of a session (the gate does it on
   leaving `GateSession`, also on error).

2. **One configuration per file per process.** duckdb-engine always sets DuckDB's
   `custom_user_agent` option, so its connections never share a database instance with a
   plain `duckdb.connect(path)` (or dagster-duckdb's `DuckDBResource`) in the same process:
   DuckDB refuses with "Can't open a connection to same database file with a different
   configuration than existing connections", whether GX asks for read-only or read-write.
   So the gate runs while *no other connection to the file is open in the process*, and it
   opens the file **read-only** (`connect_args: {read_only: true}` in the datasource): the
   gate can never modify the warehouse, and several processes may validate at once. After
   `release()` nothing of GX's is left open, so the next step may open the file for writing
   (tested in the same process and from a subprocess). Across processes DuckDB's usual rule
   holds: nobody can open the file while another process writes to it.

3. **The partition range as session variables.** Each partitioned asset is a committed
   query that reads `getvariable('cdw_gx_first')` / `getvariable('cdw_gx_last')`
   (`partition_filter()`); `set_partition_range()` sets them on the persisted connection
   before each validation. Unset (NULL) means the whole table, so running a checkpoint straight
   from GX validates everything. The committed GX configuration never changes at run time.

4. GX 1.24 has no regex support for the DuckDB dialect
   (`expect_column_values_to_match_regex` raises "Regex is not supported for dialect
   duckdb"): the suites use `UnexpectedRowsExpectation` with DuckDB's `regexp_full_match`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from great_expectations.execution_engine import sqlalchemy_execution_engine as _gx_sql

DIALECT = "duckdb"
FIRST_VARIABLE = "cdw_gx_first"
LAST_VARIABLE = "cdw_gx_last"


class _DialectName(str):
    """A dialect name GX can hold beside its `GXSqlDialect` members.

    GX compares engine dialect names with `in _PERSISTED_CONNECTION_DIALECTS` (plain string
    equality) and, when it builds the engine, tests `connection_string.startswith(d.value)`;
    `GXSqlDialect` has no DuckDB member and an Enum cannot be extended, so this string
    carries its own `.value`.
    """

    @property
    def value(self) -> str:
        return str(self)


def enable_persisted_connection() -> None:
    """Put DuckDB on GX's list of dialects that keep one persisted connection. Idempotent."""
    current = getattr(_gx_sql, "_PERSISTED_CONNECTION_DIALECTS", None)
    if not isinstance(current, tuple):
        raise RuntimeError(
            "great_expectations no longer has SqlAlchemyExecutionEngine's "
            "_PERSISTED_CONNECTION_DIALECTS: the DuckDB fix in orchestration/quality/"
            "gx_duckdb.py must be re-checked against this GX version"
        )
    if DIALECT in current:  # already patched, or fixed upstream
        return
    _gx_sql._PERSISTED_CONNECTION_DIALECTS = (*current, _DialectName(DIALECT))


def persisted_connection_enabled() -> bool:
    return DIALECT in _gx_sql._PERSISTED_CONNECTION_DIALECTS


def connection_string() -> str:
    """The committed datasource URL: the file comes from `CDW_WAREHOUSE_PATH` at run time."""
    return "duckdb:///${CDW_WAREHOUSE_PATH}"


# create_engine() kwargs of the committed datasource (plain data: it is stored as YAML).
ENGINE_KWARGS: dict[str, Any] = {"connect_args": {"read_only": True}}


def partition_filter(column: str) -> str:
    """SQL condition: `column` within the run's range, or true for every row when unset."""
    return (
        f"{column} BETWEEN coalesce(CAST(getvariable('{FIRST_VARIABLE}') AS DATE), "
        f"DATE '0001-01-01') AND coalesce(CAST(getvariable('{LAST_VARIABLE}') AS DATE), "
        "DATE '9999-12-31')"
    )


def _date_literal(value: date | None) -> str:
    return "NULL::DATE" if value is None else f"DATE '{value.isoformat()}'"


def set_partition_range(execution_engine: Any, first: date | None, last: date | None) -> None:
    """Set the range (NULL, NULL = whole table) on GX's persisted connection.

    Runs on the connection the next validation reads with, so one connection serves many
    validations of different ranges (the gate reads it back before each: `_check_connection`
    in gx_gate.py)."""
    for variable, value in ((FIRST_VARIABLE, first), (LAST_VARIABLE, last)):
        execution_engine.execute_query(sa.text(f"SET VARIABLE {variable} = {_date_literal(value)}"))


def release(datasource: Any) -> None:
    """Close every connection GX holds for `datasource` (a fluent SQL datasource).

    Two engines: the execution engine's (StaticPool, the persisted connection) and the
    datasource's own (`get_engine()`, a queue pool GX uses to test connections), which
    keeps returned connections open until it is disposed. A released datasource is not
    reused: each `GateSession` loads a fresh GX context.
    """
    try:
        if datasource.execution_engine is not None:
            datasource.execution_engine.close()
    finally:
        datasource.get_engine().dispose()
