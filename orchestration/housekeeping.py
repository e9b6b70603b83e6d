"""Housekeeping: a warehouse's run artefacts older than the retention are removed.

Every run does it at its start, once it holds the run lock (`WarehouseResource`), and
`cdw prune` does it on demand. Older than `Settings.retention_days` (CDW_RETENTION_DAYS,
default 30):

- Dagster's finished runs, with their events and compute logs (`DagsterInstance.delete_run`,
  the compute log manager's `delete_logs`), in the instance the run records to;
- dbt's invocation folders under `<artefacts>/dbt/target/` (after each build only the newest
  five stay anyway, orchestration/dbt/target_dirs.py) and rotated `dbt.log` files;
- Great Expectations validation results (`<artefacts>/gx/validations/`) and their Data Docs
  pages; the Data Docs index drops them at its next rendering (GX lists the results that
  still exist).

What stays is bounded: a run's artefacts for each of the last N days, dbt's five newest
invocation folders, one manifest. `python -m benchmarks.housekeeping` runs 30 nights and
prints the sizes (docs/reliability.md, "Housekeeping"). Dagster's SQLite files do not shrink
when rows are deleted; SQLite reuses the freed pages, so they stop growing instead.

Ages are modification times for files and creation times for Dagster runs. Unfinished runs
are never removed (orchestration/schedules/dead_runs.py marks dead ones failed first).
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.dbt.target_dirs import invocation_dirs
from orchestration.settings import Settings

FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]


@dataclass(frozen=True)
class Pruned:
    runs: int = 0
    dbt_invocations: int = 0
    validations: int = 0
    docs_pages: int = 0
    log_files: int = 0
    bytes: int = 0  # of the files removed (Dagster's rows not counted)

    def __bool__(self) -> bool:
        return any((self.runs, self.dbt_invocations, self.validations, self.docs_pages,
                    self.log_files))  # fmt: skip

    def describe(self, retention_days: int) -> str:
        return (
            f"housekeeping (older than {retention_days} days): removed {self.runs} Dagster "
            f"run(s), {self.dbt_invocations} dbt invocation folder(s), {self.validations} "
            f"validation result(s), {self.docs_pages} Data Docs page(s), {self.log_files} "
            f"log file(s), {self.bytes / 1e6:.1f} MB"
        )


def prune_artefacts(
    settings: Settings,
    instance: DagsterInstance | None,
    now: datetime | None = None,
    keep_run_ids: tuple[str, ...] = (),
) -> Pruned:
    """Remove what is older than `settings.retention_days` at `now` (default: now)."""
    try:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.retention_days)
    except OverflowError:  # a retention longer than the calendar: nothing is that old
        return Pruned()
    runs = _prune_runs(instance, cutoff, keep_run_ids) if instance is not None else 0
    removed_bytes = 0

    folders = [p for p in invocation_dirs(settings.dbt_target_dir) if _older(p, cutoff)]
    for folder in folders:
        removed_bytes += _size(folder)
        shutil.rmtree(folder, ignore_errors=True)

    logs = [
        p
        for p in _files(settings.dbt_log_dir)
        if p.name.startswith("dbt.log.") and _older(p, cutoff)  # dbt's rotated backups
    ]
    for path in logs:
        removed_bytes += path.stat().st_size
        path.unlink(missing_ok=True)

    results_dir = settings.gx_artefacts_dir / "validations"
    site_results = settings.gx_artefacts_dir / "data_docs" / "local_site" / "validations"
    results = [p for p in _files(results_dir) if p.suffix == ".json" and _older(p, cutoff)]
    pages = 0
    for path in results:
        removed_bytes += path.stat().st_size
        path.unlink(missing_ok=True)
        page = (site_results / path.relative_to(results_dir)).with_suffix(".html")
        if page.is_file():
            removed_bytes += page.stat().st_size
            page.unlink()
            pages += 1
    # Pages whose result is gone (removed by hand, or before a crash) go too.
    for page in _files(site_results):
        source = (results_dir / page.relative_to(site_results)).with_suffix(".json")
        if page.suffix == ".html" and not source.exists() and _older(page, cutoff):
            removed_bytes += page.stat().st_size
            page.unlink()
            pages += 1
    for root in (results_dir, site_results):
        _remove_empty_folders(root)
    return Pruned(runs, len(folders), len(results), pages, len(logs), removed_bytes)


def _prune_runs(instance: DagsterInstance, cutoff: datetime, keep: tuple[str, ...]) -> int:
    records = instance.get_run_records(filters=RunsFilter(statuses=FINISHED, created_before=cutoff))
    removed = 0
    for record in records:
        run_id = record.dagster_run.run_id
        if run_id in keep:
            continue
        with contextlib.suppress(NotImplementedError):  # a manager that cannot delete
            instance.compute_log_manager.delete_logs(prefix=[run_id])
        instance.delete_run(run_id)
        removed += 1
    return removed


def _older(path: Path, cutoff: datetime) -> bool:
    try:
        return path.stat().st_mtime < cutoff.timestamp()
    except FileNotFoundError:
        return False


def _files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in _files(root)) if root.is_dir() else 0


def _remove_empty_folders(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty


def artefact_sizes(settings: Settings, dagster_home: Path | None = None) -> dict[str, int]:
    """Bytes on disk per kind of artefact (what the 30-night simulation prints)."""
    gx = settings.gx_artefacts_dir
    target = settings.dbt_target_dir
    own = [p for p in target.iterdir() if p.is_file()] if target.is_dir() else []
    sizes = {
        "dbt runs": sum(_size(p) for p in invocation_dirs(target)),  # invocation folders
        "dbt manifest": sum(p.stat().st_size for p in own),  # and partial parse
        "dbt logs": _size(settings.dbt_log_dir),
        "gx results": _size(gx / "validations"),
        "data docs": _size(gx / "data_docs"),
    }
    if dagster_home is not None:
        databases = [p for p in dagster_home.rglob("*.db*") if p.is_file()]
        sizes["dagster db"] = sum(p.stat().st_size for p in databases)  # runs, events
        sizes["dagster logs"] = _size(dagster_home / "storage")  # compute logs, outputs
    return sizes
