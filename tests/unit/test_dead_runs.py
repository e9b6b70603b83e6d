"""A `cdw` run whose process died is marked failed by the next run; live ones are not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from dagster._core.test_utils import create_run_for_test

from orchestration.schedules.dead_runs import HOST_TAG, PID_TAG, fail_dead_runs


@pytest.fixture
def instance(tmp_path: Path):
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        yield instance


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_runs_of_dead_processes_on_this_host_are_failed(instance) -> None:
    host = socket.gethostname()
    dead_pid = _dead_pid()

    def started(
        pid: int, on: str = host, status: DagsterRunStatus = DagsterRunStatus.STARTED
    ) -> str:
        tags = {PID_TAG: str(pid), HOST_TAG: on}
        run = create_run_for_test(instance, job_name="nightly", status=status, tags=tags)
        return run.run_id

    dead = started(dead_pid)
    # killed between creating its run and starting it
    never_started = started(dead_pid, status=DagsterRunStatus.NOT_STARTED)
    alive = started(os.getppid())  # pytest's parent: alive while the test runs
    elsewhere = started(dead_pid, on=f"not-{host}")  # another host's process: not judged
    untagged = create_run_for_test(instance, job_name="nightly", status=DagsterRunStatus.STARTED)
    assert sorted(fail_dead_runs(instance)) == sorted([dead, never_started])
    status = {r.run_id: r.status for r in instance.get_runs()}
    assert status[dead] == status[never_started] == DagsterRunStatus.FAILURE
    assert status[alive] == status[elsewhere] == status[untagged.run_id] == DagsterRunStatus.STARTED
    assert fail_dead_runs(instance) == []  # once
