"""One run at a time per warehouse (orchestration/run_lock.py): a second holder waits or is
refused with a message naming the first; the lock goes with its process; DuckDB's own
file lock is reported with the process that holds the file. The two real `cdw run`
processes are in tests/integration/test_concurrency.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dagster import asset

from orchestration.resources import WarehouseResource
from orchestration.run_lock import (
    WarehouseBusy,
    holder_path,
    read_holder,
    run_lock,
    wait_for_file,
)
from orchestration.settings import PROJECT_ROOT

HOLD_LOCK = """
import sys, time
from pathlib import Path
from orchestration.run_lock import run_lock
with run_lock(Path(sys.argv[1]), Path(sys.argv[2]), run_id="run-1234", command="cdw run --test"):
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""

HOLD_FILE = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _start(script: str, *args: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


STEPS: list[str] = []


@asset
def step(warehouse: WarehouseResource) -> None:
    STEPS.append("ran")


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "warehouse.duckdb.artefacts" / "run.lock", tmp_path / "warehouse.duckdb"


def test_a_second_holder_is_refused_naming_the_first(paths) -> None:
    lock, warehouse = paths
    other = _start(HOLD_LOCK, str(lock), str(warehouse), "60")
    try:
        with pytest.raises(WarehouseBusy) as refused, run_lock(lock, warehouse):
            pytest.fail("acquired a lock another process holds")
        message = str(refused.value)
        assert f"another run holds the warehouse {warehouse}" in message
        assert f"process {other.pid} on " in message
        assert "`cdw run --test`, Dagster run run-1234" in message
        assert "UTC" in message and "Nothing was done" in message
        assert "cdw run --wait SECONDS" in message

        started = time.monotonic()
        waits: list[str] = []
        with (
            pytest.raises(WarehouseBusy, match="after waiting 1 s"),
            run_lock(lock, warehouse, wait=1.0, on_wait=waits.append),
        ):
            pass
        assert time.monotonic() - started >= 1.0
        assert len(waits) == 1 and f"process {other.pid}" in waits[0]
    finally:
        other.kill()
        other.wait()


def test_a_waiting_run_goes_on_when_the_first_ends(paths) -> None:
    lock, warehouse = paths
    other = _start(HOLD_LOCK, str(lock), str(warehouse), "1.5")
    waits: list[str] = []
    with run_lock(lock, warehouse, wait=60, on_wait=waits.append) as holder:
        assert holder.pid == os.getpid()
        assert read_holder(lock) == holder
    assert other.wait() == 0
    assert len(waits) == 1 and "Waiting up to 60 s" in waits[0]
    assert not holder_path(lock).exists()  # gone with its holder


def test_the_lock_goes_with_a_killed_process(paths) -> None:
    lock, warehouse = paths
    other = _start(HOLD_LOCK, str(lock), str(warehouse), "60")
    os.kill(other.pid, signal.SIGKILL)
    other.wait()
    assert holder_path(lock).exists()  # left behind by the killed process …
    assert read_holder(lock) is None  # … and not taken for a live holder
    with run_lock(lock, warehouse, run_id="next") as holder:
        assert read_holder(lock) == holder and holder.run_id == "next"


def test_re_entrant_within_a_process(paths) -> None:
    lock, warehouse = paths
    with run_lock(lock, warehouse, command="cdw run") as outer:
        assert outer.run_id is None
        with run_lock(lock, warehouse, run_id="abc") as inner:
            assert inner.pid == os.getpid() and inner.run_id == "abc"
            assert read_holder(lock).run_id == "abc"  # the run id is added for others
        assert read_holder(lock) is not None  # still held by the outer block
    assert not holder_path(lock).exists()
    # … and released: another process takes it at once.
    other = _start(HOLD_LOCK, str(lock), str(warehouse), "0")
    assert other.wait() == 0


def test_a_process_holding_the_warehouse_file_is_named(paths) -> None:
    lock, warehouse = paths
    duckdb.connect(str(warehouse)).close()
    other = _start(HOLD_FILE, str(warehouse), "60")
    try:
        with pytest.raises(WarehouseBusy) as refused:
            wait_for_file(warehouse, 0.0, lock)
        message = str(refused.value)
        assert f"the warehouse file {warehouse} is held by another process" in message
        assert f"process {other.pid} (" in message and "-c" in message  # its command line
        assert "Close that connection" in message
        waits: list[str] = []
        started = time.monotonic()
        with pytest.raises(WarehouseBusy):
            wait_for_file(warehouse, 1.0, lock, waits.append)
        assert time.monotonic() - started >= 1.0 and len(waits) == 1
    finally:
        other.kill()
        other.wait()
    wait_for_file(warehouse, 0.0, lock)  # free again
    wait_for_file(warehouse.with_name("missing.duckdb"), 0.0, lock)  # nothing to open yet


def test_the_file_holder_is_named_as_a_run_when_it_holds_the_run_lock(paths) -> None:
    """`cdw holds` during a run: DuckDB names the run's process, which holds the run lock."""
    lock, warehouse = paths
    duckdb.connect(str(warehouse)).close()
    script = HOLD_LOCK.replace(
        'print("held"', f'import duckdb; con = duckdb.connect({str(warehouse)!r}); print("held"'
    )
    other = _start(script, str(lock), str(warehouse), "60")
    try:
        with pytest.raises(WarehouseBusy, match="a run of this warehouse: process"):
            wait_for_file(warehouse, 0.0, lock)
    finally:
        other.kill()
        other.wait()


def test_a_step_that_cannot_open_the_file_says_who_holds_it(paths, monkeypatch) -> None:
    """The job's warehouse resource turns DuckDB's lock error (after dagster-duckdb's
    retries, ~100 s; one try here) into the same message."""
    import dagster_duckdb.resource

    lock, warehouse = paths
    duckdb.connect(str(warehouse)).close()
    monkeypatch.setattr(
        dagster_duckdb.resource, "backoff", lambda fn, retry_on, kwargs, **_: fn(**kwargs)
    )
    resource = WarehouseResource(database=str(warehouse), artefacts_dir=str(lock.parent))
    other = _start(HOLD_FILE, str(warehouse), "60")
    try:
        with pytest.raises(WarehouseBusy, match=f"process {other.pid} "), resource.get_connection():
            pass
    finally:
        other.kill()
        other.wait()
    with resource.get_connection() as con:  # free again; closed after the block, error or not
        assert con.sql("SELECT 42").fetchall() == [(42,)]


def test_a_run_dagster_launches_fails_before_its_steps_naming_the_holder(
    paths, project_instance
) -> None:
    """The schedule, the sensor or the UI launch runs through Dagster: the job's warehouse
    resource takes the lock when Dagster initialises it, so such a run fails before any
    step, with the same message, while `cdw run` (or another run) holds the warehouse."""
    from dagster import DagsterEventType, materialize

    lock, warehouse = paths
    STEPS.clear()
    resource = WarehouseResource(database=str(warehouse), artefacts_dir=str(lock.parent))
    other = _start(HOLD_LOCK, str(lock), str(warehouse), "60")
    try:
        result = materialize(
            [step], resources={"warehouse": resource}, instance=project_instance,
            raise_on_error=False,
        )  # fmt: skip
    finally:
        other.kill()
        other.wait()
    assert not result.success and STEPS == []
    failures = [
        e.event_specific_data.error
        for e in result.all_events
        if e.event_type in (DagsterEventType.RESOURCE_INIT_FAILURE, DagsterEventType.STEP_FAILURE)
    ]
    messages = []
    for error in failures:
        while error is not None:
            messages.append(error.message)
            error = error.cause
    assert any(f"process {other.pid} on " in m and "run-1234" in m for m in messages), messages
