"""Two nightly runs on one warehouse (issue 18, item 5; docs/reliability.md, "Concurrency").

Real `cdw run` processes on a small generated landing folder: while the first runs, a
second is refused at once with a message naming the first (exit 4, nothing done, no
Dagster run created), and a third with `--wait` waits for it and then runs; both runs
succeed and the warehouse is whole. A process holding the warehouse file open (a notebook,
a DuckDB shell) makes `cdw run` and `cdw holds` say which process it is. Before, two runs
started together failed after 9 s (half-written shared manifest), and a second apart both
ran and failed every step on DuckDB's lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import duckdb
import pytest

from orchestration.chaos import BUILT, Workspace, wait_for_output
from orchestration.cli import BUSY_EXIT_CODE
from orchestration.run_lock import read_holder
from orchestration.settings import PROJECT_ROOT, Settings
from sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(customers=30, days=2, end_date=date(2026, 1, 10), seed=31)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory):
    scratch = tmp_path_factory.mktemp("concurrency")
    generate(CONFIG, scratch / "landing", scratch / "truth")
    return scratch


def _settings(work: Workspace) -> Settings:
    return Settings.under(work.warehouse.parent)


def test_a_second_run_is_refused_and_a_waiting_one_runs_after(landing) -> None:
    work = Workspace(landing / "work", landing / "landing")
    work.create()
    logs = {name: landing / f"{name}.log" for name in ("first", "second", "third")}
    for log in logs.values():
        log.touch()
    first = work.start("run", log=logs["first"])
    third = None
    try:
        assert wait_for_output(first, logs["first"], "raw_deliveries - ", timeout=600)
        holder = read_holder(_settings(work).run_lock_path)
        assert holder is not None and holder.pid == first.pid and holder.run_id  # mid-run

        assert work.run("run", log=logs["second"]) == BUSY_EXIT_CODE
        refused = logs["second"].read_text()
        assert first.poll() is None  # refused while the first still ran
        assert f"error: another run holds the warehouse {work.warehouse}" in refused
        assert f"process {first.pid} on " in refused
        assert f"`cdw run`, Dagster run {holder.run_id}), started " in refused
        assert "Nothing was done" in refused and "cdw run --wait SECONDS" in refused
        assert "Traceback" not in refused

        third = work.start("run", "--wait", "900", log=logs["third"])
        assert wait_for_output(third, logs["third"], "Waiting up to 900 s", timeout=300)
        assert first.poll() is None  # the third waits while the first runs
        assert f"for the run that holds {work.warehouse}: process {first.pid}" in (
            logs["third"].read_text()
        )
        assert first.wait(timeout=900) in BUILT
        assert third.wait(timeout=900) in BUILT
    finally:
        for process in (first, third):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    waited = logs["third"].read_text()
    assert "Nothing new in the landing folder since the last run." in waited
    assert "dbt build skipped: " in waited  # the first's manifest and build were whole

    got = work.outcome()
    assert got.unbalanced_files == [] and got.unfinished_runs == 0
    assert sum(len(t) for t in got.fingerprints.values()) > 20  # the marts are there
    assert work.run_count() == 2  # the first and the third; the refused one made none
    # Each warehouse's artefacts are its own: none in the GX project or the dbt project.
    settings = _settings(work)
    assert (settings.gx_artefacts_dir / "data_docs" / "local_site" / "index.html").is_file()
    assert not (work.root / "expectations" / "uncommitted").exists()
    assert (settings.dbt_target_dir / "manifest.json").is_file()
    assert str(settings.gx_artefacts_dir / "data_docs") in waited  # where `cdw run` says


HOLD_FILE = """
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(600)
"""


def test_a_process_holding_the_warehouse_file_is_named(landing) -> None:
    """A notebook (here: a Python process) keeps the warehouse open: `cdw run` refuses at
    once, naming it, instead of failing every step after DuckDB's retries."""
    work = Workspace(landing / "held", landing / "landing")
    work.create()
    duckdb.connect(str(work.warehouse)).close()
    notebook = subprocess.Popen(
        [sys.executable, "-c", HOLD_FILE, str(work.warehouse)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        assert notebook.stdout is not None and notebook.stdout.readline().strip() == "held"
        log = landing / "held.log"
        assert work.run("run", log=log) == BUSY_EXIT_CODE
        said = log.read_text()
        assert f"error: the warehouse file {work.warehouse} is held by another process" in said
        assert f"process {notebook.pid} (" in said and "-c" in said
        assert "Close that connection" in said and "Traceback" not in said
        assert work.run_count() == 0  # nothing was started

        holds = landing / "holds.log"
        assert work.run("holds", log=holds) == BUSY_EXIT_CODE
        assert f"process {notebook.pid} (" in holds.read_text()
    finally:
        notebook.kill()
        notebook.wait()
