"""The dbt project and its manifest (what dagster-dbt builds the asset graph from).

The project is shared; what dbt writes — manifest, partial-parse file, invocation folders,
logs — goes to the warehouse's own artefacts folder (`Settings.dbt_target_dir`). dbt run
from a shell (README) still writes to `dbt_project/target/` and `dbt_project/logs/` as dbt
does by default; the pipeline never reads those.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from filelock import FileLock

from orchestration.settings import PROJECT_ROOT, Settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# What the manifest is compiled from: a change to any of these makes it stale.
_SOURCES_OF_MANIFEST = ("models", "macros", "tests", "snapshots", "dbt_project.yml")
PARTIAL_PARSE = "partial_parse.msgpack"
MARKER = "partial_parse.warehouse"  # the warehouse path the partial-parse file was made for


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in (*_SOURCES_OF_MANIFEST, "../seeds"):
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


def ensure_manifest(settings: Settings) -> Path:
    """The manifest of the warehouse's dbt target folder (`<artefacts>/dbt/target/`), parsed
    again (`dbt parse`) when it is missing or older than the project's files, or when the
    partial-parse file was written for another warehouse.

    Each warehouse has its own target folder, so two warehouses (a test, a benchmark,
    another CDW_WAREHOUSE_PATH) on one checkout never parse over each other. Within one
    warehouse, a parse runs under `<artefacts>/dbt/parse.lock` into a scratch folder, and
    the partial-parse file and then the manifest are moved into place (`os.replace`): a
    process reading the manifest meanwhile (a code-location load beside a run) reads the old
    one or the new one, never half of one — what two `cdw run` started together used to hit
    (orjson.JSONDecodeError in dagster-dbt's read_manifest_path).

    dbt keeps a partial-parse file beside the manifest, and every dagster-dbt step starts
    from a copy of it. dbt throws it away when the profile differs ("profile has changed"),
    and the profile includes the warehouse path. A marker records the path of the last
    parse here. If the partial-parse file is newer than the marker, another dbt run wrote
    it, so it is parsed again.
    """
    target = settings.dbt_target_dir
    manifest = target / "manifest.json"
    if _manifest_is_current(target, settings):
        return manifest
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(target.parent / "parse.lock", thread_local=False):
        if _manifest_is_current(target, settings):  # another process parsed meanwhile
            return manifest
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=target.parent))
        try:
            _parse(settings, scratch)
            os.replace(scratch / PARTIAL_PARSE, target / PARTIAL_PARSE)
            os.replace(scratch / "manifest.json", manifest)
            (target / MARKER).write_text(str(settings.warehouse_path))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return manifest


def _manifest_is_current(target: Path, settings: Settings) -> bool:
    manifest = target / "manifest.json"
    partial_parse = target / PARTIAL_PARSE
    marker = target / MARKER
    return (
        manifest.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime()
        and marker.exists()
        and marker.read_text() == str(settings.warehouse_path)
        and partial_parse.exists()
        and partial_parse.stat().st_mtime <= marker.stat().st_mtime
    )


def _parse(settings: Settings, target: Path) -> None:
    env = {**os.environ, "CDW_WAREHOUSE_PATH": str(settings.warehouse_path)}
    for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):  # the flags below decide
        env.pop(name, None)
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
            "--target-path",
            str(target),
            "--log-path",
            str(settings.dbt_log_dir),
        ],
        check=True,
        env=env,
        cwd=DBT_PROJECT_DIR,
    )
