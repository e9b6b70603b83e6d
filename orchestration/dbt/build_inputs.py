"""What a `dbt build` reads, as one key: a build whose key equals the last successful
build's would compute the same warehouse, so the nightly job skips it.

dbt's models read the warehouse only through the `visible` views and the seeds, and none
depends on the clock (no `now()`, `current_date`, `run_started_at`: a test in
tests/dbt/test_build_inputs.py keeps it so). So the output is a function of the project
(the parsed manifest: every model, macro, test, seed checksum; plus dbt_project.yml, whose
vars the manifest does not hold) and of the deliveries dbt can see (state.delivery_status:
accepted and released loads). The key hashes exactly those. After a successful build the
key is recorded in `incremental.dbt_builds`; a failed build records nothing, so the next
run builds again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from orchestration.settings import DBT_PROJECT_FILE

BUILDS_TABLE = "incremental.dbt_builds"


def build_inputs_key(con: duckdb.DuckDBPyConnection, manifest_path: Path) -> str:
    digest = hashlib.sha256()
    digest.update(manifest_path.read_bytes())
    digest.update(DBT_PROJECT_FILE.read_bytes())
    for row in con.execute(
        "SELECT source, delivery_date, loaded_at FROM state.delivery_status "
        "WHERE status IN ('accepted', 'released') ORDER BY ALL"
    ).fetchall():
        digest.update(repr(row).encode())
    return digest.hexdigest()


def last_build_key(con: duckdb.DuckDBPyConnection) -> str | None:
    con.execute("CREATE SCHEMA IF NOT EXISTS incremental")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} "
        "(build_key VARCHAR NOT NULL, built_at TIMESTAMPTZ NOT NULL, run_id VARCHAR)"
    )
    rows = con.execute(
        f"SELECT build_key FROM {BUILDS_TABLE} ORDER BY built_at DESC LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else None


def record_build(con: duckdb.DuckDBPyConnection, key: str, run_id: str) -> None:
    last_build_key(con)  # creates the table when missing
    con.execute(f"INSERT INTO {BUILDS_TABLE} VALUES (?, now(), ?)", [key, run_id])
