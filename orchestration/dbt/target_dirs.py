"""dagster-dbt's per-invocation target folders, pruned after each build.

dagster-dbt gives every dbt invocation its own folder in the warehouse's dbt target folder
(`<artefacts>/dbt/target/dbt_build-<run>-<id>`, or `<id>` alone outside a run: the
manifest, run results, compiled SQL and dbt.log of that invocation, ~9 MB at the demo
size) and never removes one: 943 MB had gathered after a day of runs. After each build the newest
KEPT_INVOCATIONS folders stay (the one just written among them, for a failure to be read),
the older ones are removed; housekeeping.py also removes any older than the retention.
dbt's own files in `target/` (manifest, partial parse) are not invocation folders and stay.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

KEPT_INVOCATIONS = 5

# `<op>-<run id prefix>-<uuid prefix>` or `<uuid prefix>` (dagster-dbt 0.29,
# DbtCliResource._get_unique_target_path)
_INVOCATION_FOLDER = re.compile(r"(?:\w+-[0-9a-f]{7}-)?[0-9a-f]{7}")


def invocation_dirs(target_dir: Path) -> list[Path]:
    """dagster-dbt's invocation folders in `target_dir` (none when it does not exist)."""
    if not target_dir.is_dir():
        return []
    return [
        p
        for p in target_dir.iterdir()
        if _INVOCATION_FOLDER.fullmatch(p.name) and p.is_dir() and not p.is_symlink()
    ]


def prune_invocation_dirs(target_dir: Path, keep: int = KEPT_INVOCATIONS) -> list[Path]:
    """Remove all but the `keep` newest invocation folders of `target_dir`; the removed."""
    folders = invocation_dirs(target_dir)
    folders.sort(key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    removed = folders[keep:]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed
