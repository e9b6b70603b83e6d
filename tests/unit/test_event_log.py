"""The project's Dagster instance stores events with PooledSqliteEventLogStorage (connections
kept open between events) and they read back like Dagster's own SQLite storage."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetSpec,
    DagsterEventType,
    DagsterInstance,
    MaterializeResult,
    materialize,
    multi_asset,
)

from orchestration.event_log import PooledSqliteEventLogStorage
from orchestration.settings import PROJECT_ROOT

SPECS = [AssetSpec(f"asset_{i}") for i in range(5)]
CHECKS = [AssetCheckSpec(f"check_{j}", asset=s.key) for s in SPECS for j in range(3)]


@multi_asset(specs=SPECS, check_specs=CHECKS)
def assets_with_checks():
    for spec in SPECS:
        yield MaterializeResult(asset_key=spec.key)
    for check in CHECKS:
        yield AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=True)


@pytest.fixture
def project_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A DagsterInstance from the project's own dagster.yaml, in a scratch DAGSTER_HOME."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        yield instance


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
