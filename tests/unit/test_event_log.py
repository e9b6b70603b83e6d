"""The project's Dagster instance stores events with PooledSqliteEventLogStorage (connections
kept open between events) and they read back like Dagster's own SQLite storage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetSpec,
    DagsterEventType,
    DagsterInstance,
    DailyPartitionsDefinition,
    MaterializeResult,
    materialize,
    multi_asset,
)
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orchestration.event_log import PooledSqliteEventLogStorage

SPECS = [AssetSpec(f"asset_{i}") for i in range(5)]
CHECKS = [AssetCheckSpec(f"check_{j}", asset=s.key) for s in SPECS for j in range(3)]


@multi_asset(specs=SPECS, check_specs=CHECKS)
def assets_with_checks():
    for spec in SPECS:
        yield MaterializeResult(asset_key=spec.key)
    for check in CHECKS:
        yield AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=True)


def test_project_instance_uses_the_pooled_storage(project_instance) -> None:
    assert isinstance(project_instance.event_log_storage, PooledSqliteEventLogStorage)


def test_events_read_back_in_this_process_and_another(project_instance) -> None:
    runs = [materialize([assets_with_checks], instance=project_instance) for _ in range(2)]
    assert all(r.success for r in runs)
    for run in runs:
        checks = project_instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        assert len(checks) == len(CHECKS)
        assert len(run.get_asset_materialization_events()) == len(SPECS)
    # Another process (as the webserver would be) sees every event of both runs.
    script = (
        "from dagster import DagsterInstance, DagsterEventType as T\n"
        "i = DagsterInstance.get()\n"
        "print(sum(len(i.get_records_for_run(r.run_id, of_type=T.ASSET_MATERIALIZATION)"
        ".records) for r in i.get_runs()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ, check=True
    )
    assert int(out.stdout.strip()) == 2 * len(SPECS)
    latest = project_instance.get_latest_materialization_event(SPECS[0].key)
    assert latest is not None and latest.run_id == runs[1].run_id


DAYS = DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-08")
DAILY_SPECS = [AssetSpec(f"daily_{i}", partitions_def=DAYS) for i in range(2)]
DAILY_CHECKS = [AssetCheckSpec(f"check_{j}", asset=s.key) for s in DAILY_SPECS for j in range(2)]


@multi_asset(specs=DAILY_SPECS, check_specs=DAILY_CHECKS, partitions_def=DAYS)
def daily_assets_with_checks(context):
    for spec in DAILY_SPECS:
        yield MaterializeResult(asset_key=spec.key)
    for check in DAILY_CHECKS:
        yield AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=True)


def _range_run_rows(instance: DagsterInstance) -> tuple[list[tuple], dict[str, list[str]]]:
    """A run over a 7-day range: its check execution rows and each asset's materialised
    partitions."""
    result = materialize(
        [daily_assets_with_checks],
        instance=instance,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: "2026-01-01",
            ASSET_PARTITION_RANGE_END_TAG: "2026-01-07",
        },
    )
    assert result.success
    storage = instance.event_log_storage
    with storage.index_connection() as conn:
        rows = conn.execute(
            sa.select(
                AssetCheckExecutionsTable.c.asset_key,
                AssetCheckExecutionsTable.c.check_name,
                AssetCheckExecutionsTable.c.partition,
                AssetCheckExecutionsTable.c.execution_status,
            )
        ).fetchall()
    partitions = {
        s.key.to_user_string(): sorted(instance.get_materialized_partitions(s.key))
        for s in DAILY_SPECS
    }
    return sorted((tuple(r) for r in rows), key=repr), partitions


def test_a_range_run_records_what_dagsters_own_storage_records(
    project_instance, tmp_path: Path
) -> None:
    """The planned-event shortcuts (one serialisation per planned check, one planned
    materialisation per asset for the range) leave the same check rows and partition
    statuses as ConsolidatedSqliteEventLogStorage, which dagster.yaml would otherwise use."""
    plain_home = tmp_path / "plain_home"
    plain_home.mkdir()
    with DagsterInstance.local_temp(str(plain_home)) as plain:
        assert type(plain.event_log_storage) is not PooledSqliteEventLogStorage
        expected = _range_run_rows(plain)
    rows, partitions = _range_run_rows(project_instance)
    assert (rows, partitions) == expected
    # one planned row per check and day (the results of a range run carry no partition)
    assert sum(r[3] == "PLANNED" for r in rows) == len(DAILY_CHECKS) * 7
    assert partitions["daily_0"] == [f"2026-01-0{d}" for d in range(1, 8)]
