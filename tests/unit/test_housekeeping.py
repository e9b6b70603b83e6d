"""Housekeeping (orchestration/housekeeping.py): what is older than the retention goes —
Dagster runs with their events and compute logs, dbt invocation folders and rotated logs,
GX results and their Data Docs pages — and every run does it at its start, holding the
warehouse's run lock (orchestration/resources.py). `python -m benchmarks.housekeeping`
runs 30 real nights (docs/reliability.md, "Housekeeping")."""

import os
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    DagsterRunStatus,
    MaterializeResult,
    asset,
    materialize,
)
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.test_utils import create_run_for_test

from benchmarks.housekeeping import backdate_run
from orchestration.cli import ensure_dagster_home
from orchestration.housekeeping import Pruned, prune_artefacts
from orchestration.resources import WarehouseResource
from orchestration.run_lock import holder_path, read_holder
from orchestration.settings import Settings

OLD = time.time() - 8 * 86400  # older than a 7-day retention


def _file(path: Path, text: str = "x" * 100, old: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if old:
        os.utime(path, (OLD, OLD))
    return path


def _folder(path: Path, old: bool) -> Path:
    _file(path / "run_results.json", old=old)
    if old:
        os.utime(path, (OLD, OLD))
    return path


@asset(check_specs=[AssetCheckSpec("fine", asset="touched")])
def touched(context: AssetExecutionContext, warehouse: WarehouseResource):
    holder = read_holder(warehouse.settings.run_lock_path)
    assert holder is not None and holder.run_id == context.run.run_id  # held for the run
    print("a line for the compute log")
    yield MaterializeResult()
    yield AssetCheckResult(check_name="fine", passed=True)


def _check_rows(instance, run_id: str) -> int:
    table = AssetCheckExecutionsTable
    with instance.event_log_storage.index_connection() as conn:
        query = sa.select(sa.func.count()).where(table.c.run_id == run_id)
        return conn.execute(query).scalar_one()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(Settings.under(tmp_path / "data"), retention_days=7)


def _resource(settings: Settings) -> WarehouseResource:
    return WarehouseResource(
        database=str(settings.warehouse_path),
        artefacts_dir=str(settings.artefacts_dir),
        retention_days=settings.retention_days,
    )


def _run(instance, settings: Settings, old: bool = False) -> str:
    """A finished run (made `old` afterwards); it prunes nothing itself."""
    keep_all = replace(settings, retention_days=10**6)
    result = materialize([touched], resources={"warehouse": _resource(keep_all)}, instance=instance)
    assert result.success
    if old:
        backdate_run(instance, result.run_id, timedelta(days=8))
    return result.run_id


def test_what_is_older_than_the_retention_goes(project_instance, settings) -> None:
    instance = project_instance
    old_runs = [_run(instance, settings, old=True) for _ in range(2)]
    new_run = _run(instance, settings)
    unfinished = create_run_for_test(instance, job_name="nightly", status=DagsterRunStatus.STARTED)
    backdate_run(instance, unfinished.run_id, timedelta(days=8))
    logs = Path(os.environ["DAGSTER_HOME"]) / "storage"
    assert all((logs / run_id / "compute_logs").is_dir() for run_id in old_runs)
    assert all(_check_rows(instance, run_id) == 1 for run_id in old_runs)

    target = settings.dbt_target_dir
    old_build = _folder(target / "dbt_build-aaaaaaa-bbbbbbb", old=True)
    new_build = _folder(target / "dbt_build-ccccccc-ddddddd", old=False)
    manifest = _file(target / "manifest.json", old=True)  # dbt's own file: kept
    current_log = _file(settings.dbt_log_dir / "dbt.log", old=True)  # dbt writes to it
    rotated = _file(settings.dbt_log_dir / "dbt.log.1", old=True)
    recent_rotated = _file(settings.dbt_log_dir / "dbt.log.2")
    gx = settings.gx_artefacts_dir
    result_path = Path("raw_events", "2026-01-01..2026-01-02", "20260103T020000Z", "b1")
    old_result = _file((gx / "validations" / result_path).with_suffix(".json"), old=True)
    site = gx / "data_docs" / "local_site" / "validations"
    old_page = _file((site / result_path).with_suffix(".html"), old=True)
    new_result = _file(gx / "validations" / "raw_events" / "r2" / "t2" / "b2.json")
    new_page = _file(site / "raw_events" / "r2" / "t2" / "b2.html")
    orphan_old = _file(site / "raw_orders" / "r0" / "t0" / "b0.html", old=True)
    orphan_new = _file(site / "raw_orders" / "r9" / "t9" / "b9.html")
    index = _file(gx / "data_docs" / "local_site" / "index.html", old=True)

    pruned = prune_artefacts(settings, instance)
    assert pruned == Pruned(
        runs=2, dbt_invocations=1, validations=1, docs_pages=2, log_files=1, bytes=pruned.bytes
    )
    assert pruned.bytes == 5 * 100  # the folder's file, the log, result, page, orphan
    assert "removed 2 Dagster run(s), 1 dbt invocation folder(s)" in pruned.describe(7)
    kept = {r.run_id for r in instance.get_runs()}
    assert kept == {new_run, unfinished.run_id}  # unfinished runs are never removed
    for run_id in old_runs:
        assert instance.all_logs(run_id) == []  # their events, …
        assert _check_rows(instance, run_id) == 0  # … asset check rows (Dagster keeps them)
        assert not (logs / run_id).exists()  # … and compute logs went with them
    assert _check_rows(instance, new_run) == 1
    assert instance.all_logs(new_run) and (logs / new_run / "compute_logs").is_dir()
    for gone in (old_build, rotated, old_result, old_page, orphan_old):
        assert not gone.exists(), gone
    for there in (new_build, manifest, current_log, recent_rotated, new_result, new_page):
        assert there.exists(), there
    assert orphan_new.exists() and index.exists()
    assert not (gx / "validations" / result_path.parent).exists()  # emptied folders go
    assert not prune_artefacts(settings, instance)  # nothing more to do


def test_every_run_prunes_at_its_start_holding_the_run_lock(project_instance, settings) -> None:
    """A run launched by Dagster itself (the schedule, the UI): the warehouse resource takes
    the run lock and prunes before any step; the lock is free again afterwards."""
    instance = project_instance
    old = _run(instance, settings, old=True)
    old_build = _folder(settings.dbt_target_dir / "dbt_build-aaaaaaa-bbbbbbb", old=True)
    result = materialize([touched], resources={"warehouse": _resource(settings)}, instance=instance)
    assert result.success
    assert {r.run_id for r in instance.get_runs()} == {result.run_id}
    assert old not in {r.run_id for r in instance.get_runs()} and not old_build.exists()
    messages = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any("housekeeping (older than 7 days): removed 1 Dagster run(s)" in m for m in messages)
    assert not holder_path(settings.run_lock_path).exists()


def test_dagster_home_defaults_to_the_warehouses_own(settings, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(settings)
    assert home == settings.artefacts_dir / "dagster_home"
    assert os.environ["DAGSTER_HOME"] == str(home)
    assert (home / "dagster.yaml").read_text().startswith("# Dagster instance settings")
    other = replace(settings, warehouse_path=settings.data_dir / "other.duckdb")
    assert other.artefacts_dir != settings.artefacts_dir  # two warehouses share nothing
    assert {other.dbt_target_dir, other.gx_artefacts_dir, other.run_lock_path}.isdisjoint(
        {settings.dbt_target_dir, settings.gx_artefacts_dir, settings.run_lock_path}
    )
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir / "mine"))
    assert ensure_dagster_home(other) == settings.data_dir / "mine"  # an explicit one wins
