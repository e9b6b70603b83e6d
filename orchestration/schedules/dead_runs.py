"""Runs whose process died (killed, power cut) are marked failed by the next `cdw run`.

`cdw run` executes the job in its own process (`execute_in_process`). A process killed
mid-run never writes its run's end, and Dagster would show the run as started forever.
Each run started by `cdw` carries its process id and host as tags; the next `cdw run` on
the same host marks every still-started run whose process is gone as failed, with a
message, and says so in its output. A process id the system has since given to another
process hides a dead run until that process ends. (Runs the Dagster daemon launches run in
a run worker Dagster itself launched and does not tag; they are not judged here.)
"""

from __future__ import annotations

import os
import socket

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

PID_TAG = "cdw/pid"
HOST_TAG = "cdw/host"
# NOT_STARTED too: a process killed between creating its run and starting it leaves that.
UNFINISHED = [
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]


def runner_tags() -> dict[str, str]:
    """The tags that let a later run find this process's run if the process dies."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def fail_dead_runs(instance: DagsterInstance) -> list[str]:
    """Mark this host's unfinished `cdw` runs whose process is gone as failed; their ids."""
    host = socket.gethostname()
    dead = []
    for run in instance.get_runs(filters=RunsFilter(statuses=UNFINISHED)):
        pid = run.tags.get(PID_TAG)
        if run.tags.get(HOST_TAG) != host or not pid or not pid.isdigit():
            continue
        if int(pid) == os.getpid() or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run,
            f"process {pid} on {host} ended before the run did (killed or crashed); "
            "marked failed by the next `cdw run`, which redoes its work",
        )
        dead.append(run.run_id)
    return dead
