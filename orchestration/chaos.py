"""`cdw chaos`: crash safety, proved by killing the nightly job and running it again.

On generated sample data in a scratch folder (never the project's own warehouse): build
every day but the last (the base), then run the last night once undisturbed (the
reference). Then, for each kill: copy the base, start that night's `cdw run`, kill its
whole process group (the job and dbt) with SIGKILL after a random delay within the
reference night's duration, run `cdw run` again to its end, and compare with the
reference:

- the same warehouse (DESIGN.md: every staging, intermediate and mart table's content
  hash, orchestration/quality/fingerprint.py);
- line accounting balanced for every loaded file (recounted from the tables);
- the gate's verdicts in `state` for the same deliveries with the same outcome, and every
  verdict row whole (DuckDB commits a transaction or nothing);
- the killed run marked failed in Dagster by the rerun (orchestration/schedules/dead_runs.py),
  when it had got as far as creating its run ("no run" in the report when it had not).

The phase a kill landed in is read from the job's output at the moment of the kill.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.settings import PROJECT_ROOT

CDW = [sys.executable, "-m", "orchestration.cli"]
# cdw run: 0 built, 3 built with some delivery held back by the gate.
BUILT = (0, 3)


@dataclass(frozen=True)
class Outcome:
    """What a finished night leaves, for comparison with the reference."""

    fingerprints: dict[str, dict[str, tuple[int, str]]]
    verdicts: list[tuple]
    unbalanced_files: list[tuple]
    unfinished_runs: int


@dataclass(frozen=True)
class Kill:
    number: int
    delay: float
    phase: str
    rerun_exit: int
    marked_failed: bool
    differences: list[str]

    @property
    def converged(self) -> bool:
        return self.rerun_exit in BUILT and self.marked_failed and not self.differences


class Workspace:
    """A warehouse, its Dagster instance and its GX project under one folder, reading a
    shared landing folder."""

    def __init__(self, root: Path, landing: Path) -> None:
        self.root = root
        self.landing = landing

    @property
    def warehouse(self) -> Path:
        return self.root / "data" / "warehouse.duckdb"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CDW_", "DAGSTER_"))}
        return env | {
            "CDW_DATA_DIR": str(self.root / "data"),
            "CDW_LANDING_DIR": str(self.landing),
            "CDW_GX_PROJECT_DIR": str(self.root / "expectations"),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
            "PYTHONUNBUFFERED": "1",
        }

    def create(self) -> None:
        (self.root / "data").mkdir(parents=True)
        (self.root / "dagster_home").mkdir()
        shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", self.root / "dagster_home")
        shutil.copytree(
            PROJECT_ROOT / "expectations",
            self.root / "expectations",
            ignore=shutil.ignore_patterns("uncommitted"),
        )

    def copy_to(self, root: Path) -> Workspace:
        shutil.copytree(self.root, root, symlinks=True)
        return Workspace(root, self.landing)

    def start(self, *args: str, log: Path) -> subprocess.Popen:
        with log.open("ab") as out:
            return subprocess.Popen(
                [*CDW, *args],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill reaches dbt too
            )

    def run(self, *args: str, log: Path) -> int:
        return self.start(*args, log=log).wait()

    def outcome(self) -> Outcome:
        from orchestration.ingest.assets import unbalanced_files
        from orchestration.ingest.sources import SOURCES
        from orchestration.quality.fingerprint import warehouse_fingerprints

        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            dates = [
                d
                for (d,) in con.execute("SELECT DISTINCT _partition FROM raw.load_audit").fetchall()
            ]
            unbalanced = [
                row for s in SOURCES for row in unbalanced_files(con, s, [min(dates), max(dates)])
            ]
            verdicts = con.execute(
                """
                SELECT source, delivery_date, passed_critical, held, critical_failed, warnings
                FROM state.delivery_verdicts
                QUALIFY row_number() OVER (PARTITION BY source, delivery_date
                                           ORDER BY validated_at DESC) = 1
                ORDER BY ALL
                """
            ).fetchall()
            fingerprints = warehouse_fingerprints(con)
        return Outcome(fingerprints, verdicts, unbalanced, self.unfinished_runs())

    def unfinished_runs(self) -> int:
        from orchestration.schedules.dead_runs import UNFINISHED

        return self.run_count(UNFINISHED)

    def run_count(self, statuses: list | None = None) -> int:
        """Runs in this workspace's Dagster instance (of `statuses`, or all)."""
        from dagster import DagsterInstance, RunsFilter
        from dagster._core.instance.ref import InstanceRef

        home = str(self.root / "dagster_home")
        before = os.environ.get("DAGSTER_HOME")
        os.environ["DAGSTER_HOME"] = home  # dagster.yaml names its folder by this variable
        try:
            with DagsterInstance.from_ref(InstanceRef.from_dir(home)) as instance:
                return len(instance.get_runs(filters=RunsFilter(statuses=statuses or [])))
        finally:
            if before is None:
                del os.environ["DAGSTER_HOME"]
            else:
                os.environ["DAGSTER_HOME"] = before


def differences(reference: Outcome, got: Outcome) -> list[str]:
    found = []
    for schema, tables in reference.fingerprints.items():
        for table in sorted(set(tables) | set(got.fingerprints.get(schema, {}))):
            if tables.get(table) != got.fingerprints.get(schema, {}).get(table):
                found.append(f"{table} differs")
    if got.verdicts != reference.verdicts:
        found.append("state.delivery_verdicts differ")
    if got.unbalanced_files:
        found.append(f"{len(got.unbalanced_files)} file(s) unbalanced")
    return found


PHASES = (
    # (output that starts the phase, phase); the last one seen at the kill is the phase
    ("Loading deliveries", "starting"),
    ("raw_deliveries - ", "loading"),
    ("gate: judging", "validation"),
    ("dbt build", "dbt"),
    ("model staging.", "dbt staging"),
    ("model intermediate.int_identity", "dbt identity"),
    ("model marts.", "dbt marts"),
    ("Dagster run ", "summary"),
)


def phase_of(output: str) -> str:
    """The phase the job was in when its output ended (PHASES)."""
    last, phase = -1, "start-up"
    for marker, name in PHASES:
        at = output.rfind(marker)
        if at > last:
            last, phase = at, name
    return phase


def _kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def kill_after(process: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL the process's group after `seconds`; False when it ended first."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return True


def wait_for_output(process: subprocess.Popen, log: Path, marker: str, timeout: float) -> bool:
    """True as soon as `marker` appears in the process's output while it runs; False when
    it ended (or `timeout` passed) first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if marker in log.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


def kill_when(process: subprocess.Popen, log: Path, marker: str, timeout: float) -> bool:
    """SIGKILL the process's group as soon as `marker` appears in its output; False when
    it ended (or `timeout` passed) first."""
    if wait_for_output(process, log, marker, timeout):
        _kill_group(process)
        return True
    return False


def prepare(scratch: Path, customers: int, days: int, seed: int) -> tuple[Workspace, date]:
    """Generated landing data and a base workspace built up to the day before the last."""
    from sample_data.generator import GeneratorConfig, generate

    end = date(2026, 11, 22)
    landing = scratch / "landing"
    generate(GeneratorConfig(customers, days, end, seed), landing, scratch / "truth")
    base = Workspace(scratch / "base", landing)
    base.create()
    code = base.run("run", "--to", (end - timedelta(days=1)).isoformat(), log=scratch / "base.log")
    if code not in BUILT:
        raise SystemExit(f"error: the base build failed ({code}); see {scratch / 'base.log'}")
    return base, end


def chaos(
    kills: int,
    customers: int,
    days: int,
    seed: int,
    scratch: Path,
    report: Callable[[str], None] = print,
) -> list[Kill]:
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    base, _ = prepare(scratch, customers, days, seed)
    reference = base.copy_to(scratch / "reference")
    started = time.perf_counter()
    code = reference.run("run", log=scratch / "reference.log")
    night = time.perf_counter() - started
    if code not in BUILT:
        raise SystemExit(f"error: the reference night failed ({code}); see {scratch}")
    expected = reference.outcome()
    report(f"reference night: {night:.1f} s; killing {kills} night(s) at random points")
    report(f"{'kill':>4} {'after':>8}  {'phase':<14}{'rerun':>6}  {'dead run':<9} result")
    rng = random.Random(seed)
    results = []
    for number in range(1, kills + 1):
        work = base.copy_to(scratch / "kill")
        log = scratch / "kill.log"
        log.unlink(missing_ok=True)
        delay = rng.uniform(0.02, 0.98) * night
        runs_before = work.run_count()
        process = work.start("run", log=log)
        killed = kill_after(process, delay)
        phase = phase_of(log.read_text(errors="replace")) if killed else "ended first"
        # Killed before it created its Dagster run: no run to mark failed.
        created = work.run_count() > runs_before
        rerun = work.run("run", log=log)
        marked = "marked failed in Dagster" in log.read_text(errors="replace") or not created
        got = work.outcome()
        found = differences(expected, got)
        if got.unfinished_runs:
            found.append(f"{got.unfinished_runs} run(s) still shown as started")
        kill = Kill(number, delay, phase, rerun, marked, found)
        results.append(kill)
        verdict = "converged" if kill.converged else "DIFFERS: " + "; ".join(found)[:200]
        report(
            f"{number:>4} {delay:>7.1f}s  {phase:<14}{rerun:>6}  "
            f"{('yes' if marked else 'NO') if created else 'no run':<9} {verdict}"
        )
        if kill.converged:
            shutil.rmtree(work.root)
        else:
            shutil.move(work.root, scratch / f"kill-{number}")  # kept for a look
            shutil.move(log, scratch / f"kill-{number}.log")
    ok = sum(k.converged for k in results)
    report(f"{ok} of {len(results)} kills converged to the reference warehouse")
    return results
