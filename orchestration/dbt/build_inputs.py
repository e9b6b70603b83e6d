"""What a `dbt build` reads, as two keys: the project and the data.

dbt's models read the warehouse only through the `visible` views and the seeds, and none
depends on the clock (no `now()`, `current_date`, `run_started_at`: a test in
tests/dbt/test_build_inputs.py keeps it so). So the output is a function of

- the **project**: the parsed manifest (every model, macro, test, unit test and seed
  checksum), dbt_project.yml (whose vars the manifest does not hold), the Python the
  dbt Python models and the dbt-duckdb plugin import (the `identity` and `privacy`
  packages) and the pseudonym key (by its key id: a new key changes every pseudonym, so a
  key rotation builds everything, docs/privacy.md);
- the **data**: the deliveries dbt can see (state.delivery_status: accepted and released
  loads).

After a successful build of the whole project both keys are recorded in
`incremental.dbt_builds`; a failed build records nothing, so the next run builds again.
The nightly dbt asset (orchestration/dbt/assets.py) compares them with the last recorded
build: both equal, the build would change nothing and is skipped; the project equal, seeds
(and tests of seeds alone) cannot change with the data, so the build leaves them out
(`plan_build`). Unit tests never run here (`WITHOUT_UNIT_TESTS`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.settings import DBT_PROJECT_FILE, PROJECT_ROOT

BUILDS_TABLE = "incremental.dbt_builds"
# The libraries the dbt Python models import (int_identity__components, __match_edges) and
# the dbt-duckdb plugin that defines the pseudonym functions (privacy.dbt_plugin).
PYTHON_MODEL_LIBRARIES = (PROJECT_ROOT / "identity", PROJECT_ROOT / "privacy")
# Manifest fields a parse rewrites without any change to the project: when it parsed
# (`metadata.generated_at`, `invocation_id`, each node's `created_at`) and the catalogue
# name DuckDB gives the warehouse file (`database`, and `relation_name` built from it).
_VOLATILE_MANIFEST_FIELDS = frozenset({"created_at", "database", "relation_name"})
# Unit tests never run in the nightly job: their inputs are static, so the data cannot change
# their outcome (dbt Labs recommends running them in development and CI only; `make test`
# runs them, tests/dbt/test_dbt_build.py).
WITHOUT_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
# What a build also leaves out when the project did not change since the last whole build:
# the seeds and the data tests of seeds alone. `cautious` indirect selection keeps a test
# that also reads a model (a relationships test from a model to a seed, a singular test
# over both): dbt's default (eager) would drop every test with an excluded parent, and
# with it checks of the new data.
# One --exclude value: dagster-dbt takes --select / --exclude out of the arguments one
# value per flag (and splits it at spaces) before it adds its own selection.
UNCHANGED_PROJECT_ARGS = (
    "--exclude",
    "resource_type:seed",
    "--indirect-selection",
    "cautious",
    *WITHOUT_UNIT_TESTS,
)


@dataclass(frozen=True)
class BuildKey:
    project: str
    data: str

    @property
    def combined(self) -> str:
        return hashlib.sha256(f"{self.project}|{self.data}".encode()).hexdigest()


@dataclass(frozen=True)
class BuildPlan:
    """What the dbt asset does this run: skip the build, or `dbt build` plus `args`."""

    skip: bool
    args: tuple[str, ...]
    reason: str


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE_MANIFEST_FIELDS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def project_key(manifest_path: Path, pseudonym_key_id: str = "") -> str:
    """The project part: the manifest without what every parse rewrites, dbt_project.yml,
    the source of the libraries the Python models and the plugin import, and the id of the
    pseudonym key (privacy.PseudonymKey.key_id: names the key, reveals nothing of it)."""
    manifest = json.loads(manifest_path.read_text())
    manifest.pop("metadata", None)
    digest = hashlib.sha256()
    digest.update(json.dumps(_stable(manifest), sort_keys=True).encode())
    digest.update(DBT_PROJECT_FILE.read_bytes())
    for library in PYTHON_MODEL_LIBRARIES:
        for path in sorted(library.rglob("*.py")):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    if pseudonym_key_id:
        digest.update(f"pseudonym key {pseudonym_key_id}".encode())
    return digest.hexdigest()


def data_key(con: duckdb.DuckDBPyConnection) -> str:
    """The data part: every delivery load dbt can see."""
    digest = hashlib.sha256()
    for row in con.execute(
        "SELECT source, delivery_date, loaded_at FROM state.delivery_status "
        "WHERE status IN ('accepted', 'released') ORDER BY ALL"
    ).fetchall():
        digest.update(repr(row).encode())
    return digest.hexdigest()


def build_inputs_key(
    con: duckdb.DuckDBPyConnection, manifest_path: Path, pseudonym_key_id: str = ""
) -> BuildKey:
    return BuildKey(project=project_key(manifest_path, pseudonym_key_id), data=data_key(con))


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS incremental")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} "
        "(build_key VARCHAR NOT NULL, built_at TIMESTAMPTZ NOT NULL, run_id VARCHAR)"
    )
    # Warehouses built before the key was split hold the combined key only: their last
    # build then matches neither part, and the next build is a whole one.
    con.execute(f"ALTER TABLE {BUILDS_TABLE} ADD COLUMN IF NOT EXISTS project_key VARCHAR")
    con.execute(f"ALTER TABLE {BUILDS_TABLE} ADD COLUMN IF NOT EXISTS data_key VARCHAR")


def last_build_key(con: duckdb.DuckDBPyConnection) -> BuildKey | None:
    """The keys of the last successful whole build (None before the first)."""
    _ensure_table(con)
    rows = con.execute(
        f"SELECT project_key, data_key FROM {BUILDS_TABLE} "
        "WHERE project_key IS NOT NULL ORDER BY built_at DESC LIMIT 1"
    ).fetchall()
    return BuildKey(project=rows[0][0], data=rows[0][1]) if rows else None


def record_build(con: duckdb.DuckDBPyConnection, key: BuildKey, run_id: str) -> None:
    _ensure_table(con)
    con.execute(
        f"INSERT INTO {BUILDS_TABLE} (build_key, built_at, run_id, project_key, data_key) "
        "VALUES (?, now(), ?, ?, ?)",
        [key.combined, run_id, key.project, key.data],
    )


def plan_build(key: BuildKey, last: BuildKey | None, *, full_refresh: bool) -> BuildPlan:
    """Skip, build without seeds, or build everything (never the unit tests)."""
    if full_refresh:
        return BuildPlan(
            False, ("--full-refresh", *WITHOUT_UNIT_TESTS), "full refresh: everything, rebuilt"
        )
    if last is None:
        return BuildPlan(False, WITHOUT_UNIT_TESTS, "first recorded build: everything")
    if key.project != last.project:
        return BuildPlan(
            False,
            WITHOUT_UNIT_TESTS,
            "the project (or the pseudonym key) changed since the last build: everything",
        )
    if key.data == last.data:
        return BuildPlan(
            True, (), "nothing became visible and the project did not change since the last build"
        )
    return BuildPlan(
        False,
        UNCHANGED_PROJECT_ARGS,
        "the project did not change since the last build: seeds left out (they cannot "
        "change with the data)",
    )
