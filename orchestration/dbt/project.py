"""The dbt project and its manifest (what dagster-dbt builds the asset graph from)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import PROJECT_ROOT, Settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# What the manifest is compiled from: a change to any of these makes it stale.
_SOURCES_OF_MANIFEST = ("models", "macros", "tests", "snapshots", "dbt_project.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in (*_SOURCES_OF_MANIFEST, "../seeds"):
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def ensure_manifest(settings: Settings) -> Path:
    """`dbt parse` when the manifest is missing or older than the project's files, or when
    the partial-parse file was written for another warehouse.

    dbt keeps a partial-parse file beside the manifest, and every dagster-dbt step starts
    from a copy of it. dbt throws it away when the profile differs ("profile has changed"),
    and the profile includes the warehouse path. A parse for another file (the tests, a
    benchmark, another CDW_WAREHOUSE_PATH) would then cost every dbt step of the run a full
    parse. A marker records the path of the last parse here. If the partial-parse file is
    newer than the marker, another dbt run wrote it, so it is parsed again.
    """
    manifest = Path(DBT_PROJECT.manifest_path)
    partial_parse = manifest.with_name("partial_parse.msgpack")
    marker = manifest.with_name("partial_parse.warehouse")
    warehouse = str(settings.warehouse_path)
    if (
        manifest.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime()
        and marker.exists()
        and marker.read_text() == warehouse
        and partial_parse.exists()
        and partial_parse.stat().st_mtime <= marker.stat().st_mtime
    ):
        return manifest
    env = {**os.environ, "CDW_WAREHOUSE_PATH": warehouse}
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [
            str(dbt),
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        check=True,
        env=env,
        cwd=DBT_PROJECT_DIR,
    )
    marker.write_text(warehouse)
    return manifest
