"""Housekeeping over 30 nights: a warehouse's run artefacts stop growing.

    .venv/bin/python -m benchmarks.housekeeping --nights 30 --retention 7
    .venv/bin/python -m benchmarks.housekeeping --nights 30 --retention 7 --no-prune   # the same
                                                          nights without housekeeping

Generates N customers × `--nights` days and runs the real nightly job once per night,
each night landing one more day (`cdw run` in-process, orchestration.cli.run_job). Before
each night the clock is moved on a day: every artefact of the earlier nights is made a day
older (file modification times; the creation, start and end times of the Dagster runs in
the instance's run storage). The night's run then prunes, at its start, what is older than
`--retention` days, exactly as a real run does (WarehouseResource → housekeeping.py).
After each night it prints the size of every kind of artefact in the warehouse's artefacts
folder (dbt's target folder, its logs, GX results, Data Docs, Dagster's run history and
compute logs) and how many runs Dagster keeps.

With a retention of R days the sizes grow for R nights and then stay flat; the last
lines give the size per night (the slope before it flattens) and what the default
retention (30 days) comes to at this data size. Everything goes to a scratch folder
(default /tmp/cdw-housekeeping, replaced each time).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from dagster import DagsterInstance

from orchestration.cli import ensure_dagster_home, run_job
from orchestration.dbt.project import MARKER, PARTIAL_PARSE
from orchestration.housekeeping import artefact_sizes
from orchestration.settings import DEFAULT_RETENTION_DAYS, PROJECT_ROOT, Settings
from sample_data import GeneratorConfig, generate

DAY = timedelta(days=1)
# dbt's own files: made a day older, the manifest would look stale and be parsed again.
NOT_AGED = {"manifest.json", PARTIAL_PARSE, MARKER}


def age_artefacts(settings: Settings, instance: DagsterInstance, by: timedelta = DAY) -> None:
    """Make every artefact of the warehouse `by` older: the files' modification times and
    the Dagster runs' creation, update, start and end times."""
    seconds = by.total_seconds()
    for path in settings.artefacts_dir.rglob("*"):
        if path.name in NOT_AGED or path.is_symlink():
            continue
        stat = path.stat()
        os.utime(path, (stat.st_atime - seconds, stat.st_mtime - seconds))
    for record in instance.get_run_records():
        backdate_run(instance, record.dagster_run.run_id, by)


def backdate_run(instance: DagsterInstance, run_id: str, by: timedelta) -> None:
    """Move a run's times in Dagster's run storage `by` into the past (what housekeeping
    reads its age from: `RunsFilter(created_before=…)`)."""
    import sqlalchemy as sa
    from dagster._core.storage.runs.schema import RunsTable

    record = instance.get_run_record_by_id(run_id)
    assert record is not None, run_id
    values: dict = {
        "create_timestamp": record.create_timestamp.replace(tzinfo=None) - by,
        "update_timestamp": record.update_timestamp.replace(tzinfo=None) - by,
    }
    if record.start_time is not None:
        values["start_time"] = record.start_time - by.total_seconds()
    if record.end_time is not None:
        values["end_time"] = record.end_time - by.total_seconds()
    with instance.run_storage.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.update(RunsTable).where(RunsTable.c.run_id == run_id).values(**values))


def land(generated: Path, landing: Path, day: date) -> None:
    for folder in sorted(generated.glob(f"*/{day.isoformat()}")):
        shutil.copytree(folder, landing / folder.parent.name / folder.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--retention", type=int, default=7, help="CDW_RETENTION_DAYS")
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-prune", action="store_true", help="no housekeeping (retention ∞)")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/cdw-housekeeping"))
    args = parser.parse_args()

    root: Path = args.scratch
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    gx_copy = root / "expectations"  # the benchmark never writes into the project's
    shutil.copytree(
        PROJECT_ROOT / "expectations", gx_copy, ignore=shutil.ignore_patterns("uncommitted")
    )
    os.environ["CDW_GX_PROJECT_DIR"] = str(gx_copy)
    os.environ.pop("DAGSTER_HOME", None)  # the warehouse's own instance, as by default
    retention = 10**6 if args.no_prune else args.retention
    settings = replace(Settings.under(root / "data"), retention_days=retention)
    end = date(2026, 11, 22)
    config = GeneratorConfig(args.customers, args.nights, end, args.seed)
    generated = root / "generated"
    generate(config, generated / "landing", generated / "truth")
    days = [end - timedelta(days=n) for n in range(args.nights - 1, -1, -1)]
    settings.landing_dir.mkdir(parents=True)
    home = ensure_dagster_home(settings)
    instance = DagsterInstance.get()
    print(
        f"{args.nights} nights, {args.customers} customers, retention "
        f"{'none' if args.no_prune else f'{retention} days'}; artefacts in "
        f"{settings.artefacts_dir}",
        flush=True,
    )
    columns = list(artefact_sizes(settings, home))
    print(
        f"{'night':>5} {'run s':>6} {'exit':>4} {'runs':>5}  "
        + " ".join(f"{c:>12}" for c in columns)
        + f" {'total MB':>9}",
        flush=True,
    )
    totals: list[int] = []
    history: list[dict[str, int]] = []
    for night, day in enumerate(days, start=1):
        if night > 1:
            age_artefacts(settings, instance)
        land(generated / "landing", settings.landing_dir, day)
        log = root / "logs" / f"night-{night:02d}.log"
        log.parent.mkdir(exist_ok=True)
        started = time.perf_counter()
        with log.open("w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = run_job(settings=settings, instance=instance)
        seconds = time.perf_counter() - started
        sizes = artefact_sizes(settings, home)
        total = sum(sizes.values())
        totals.append(total)
        history.append(sizes)
        runs = len(instance.get_run_records())
        print(
            f"{night:>5} {seconds:>6.0f} {code:>4} {runs:>5}  "
            + " ".join(f"{sizes[c] / 1e6:>12.1f}" for c in columns)
            + f" {total / 1e6:>9.1f}",
            flush=True,
        )
        if code not in (0, 3):
            raise SystemExit(f"night {night} failed ({code}); see {log}")
    # What one more day of retention costs: each kind's growth per night before
    # housekeeping starts removing (nights 2 .. R + 1); dbt's invocation folders are
    # capped by count (the newest five), not by age.
    growing = min(len(history), retention + 1)
    if growing > 2 and not args.no_prune:
        per_night = {
            c: (history[growing - 1][c] - history[1][c]) / (growing - 2)
            for c in columns
            if c != "dbt runs"
        }
        slope = sum(per_night.values())
        projected = totals[-1] + max(DEFAULT_RETENTION_DAYS - retention, 0) * slope
        print(
            f"\nper night kept: {slope / 1e6:.2f} MB ("
            + ", ".join(f"{c} {v / 1e6:.2f}" for c, v in per_night.items())
            + f"); at the default retention ({DEFAULT_RETENTION_DAYS} days) this warehouse's "
            f"artefacts level off near {projected / 1e6:.0f} MB"
        )
    print(f"after night {len(totals)}: {totals[-1] / 1e6:.1f} MB (max {max(totals) / 1e6:.1f} MB)")
    print(f"logs of each night: {root / 'logs'}")


if __name__ == "__main__":
    main()
