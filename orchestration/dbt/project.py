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
    """`dbt parse` when the manifest is missing or older than the project's files."""
    manifest = Path(DBT_PROJECT.manifest_path)
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime():
        return manifest
    env = {**os.environ, "CDW_WAREHOUSE_PATH": str(settings.warehouse_path)}
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
    return manifest
