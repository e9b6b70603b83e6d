"""Nightly-job benchmark: generate N customers × D days, run the whole `nightly` job over
every delivery date in one run (load, gates, dbt), then a nightly increment (the last
delivery date again). Prints wall times and Dagster's per-step durations.

    .venv/bin/python -m benchmarks.nightly --customers 2000 --days 90
    .venv/bin/python -m benchmarks.nightly --customers 120000 --days 90   # ~10M+ events

Everything goes to a scratch folder (default /tmp/cdw-bench, replaced each time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from orchestration.cli import run_job
from orchestration.settings import Settings
from sample_data import GeneratorConfig, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/cdw-bench"))
    parser.add_argument("--keep-landing", action="store_true", help="reuse generated data")
    args = parser.parse_args()

    root: Path = args.scratch
    settings = Settings.under(root)
    config = GeneratorConfig(args.customers, args.days, args.end_date, args.seed)
    if not (args.keep_landing and settings.landing_dir.is_dir()):
        shutil.rmtree(root, ignore_errors=True)
        started = time.perf_counter()
        generate(config, settings.landing_dir, settings.truth_dir)
        print(f"generate: {time.perf_counter() - started:.1f} s")
    settings.warehouse_path.unlink(missing_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(root / "dagster_home"))
    os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
    instance = DagsterInstance.get()

    started = time.perf_counter()
    assert run_job(settings=settings, instance=instance) == 0
    full = time.perf_counter() - started
    full_steps = _step_seconds(instance)

    last = args.end_date
    started = time.perf_counter()
    assert run_job(last, last, settings=settings, instance=instance) == 0
    nightly = time.perf_counter() - started
    nightly_steps = _step_seconds(instance)

    with duckdb.connect(str(settings.warehouse_path)) as con:
        records, events = con.execute(
            "SELECT sum(records_in), sum(records_in) FILTER (WHERE source = 'events') "
            "FROM raw.load_audit"
        ).fetchone()
    landing_bytes = sum(p.stat().st_size for p in settings.landing_dir.rglob("*") if p.is_file())
    print()
    print(f"config          {args.customers:,} customers × {args.days} days, seed {args.seed}")
    print(f"landing         {landing_bytes / 1e6:,.0f} MB, {records:,} records ({events:,} events)")
    print(f"full load       {full:,.1f} s  ({records / full:,.0f} records/s), one Dagster run")
    print(f"nightly reload  {nightly:,.1f} s  (delivery {last}, one Dagster run)")
    print(f"warehouse       {settings.warehouse_path.stat().st_size / 1e6:,.0f} MB")
    print("\nstep                                full (s)  nightly (s)")
    for step in sorted(full_steps, key=lambda k: -full_steps[k]):
        print(f"{step:<36}{full_steps[step]:>9.1f}{nightly_steps.get(step, 0.0):>13.1f}")


def _step_seconds(instance: DagsterInstance) -> dict[str, float]:
    """Per-step wall time of the latest run, from Dagster's own step statistics."""
    (run,) = instance.get_runs(limit=1)
    return {
        s.step_key: (s.end_time or 0) - (s.start_time or 0)
        for s in instance.get_run_step_stats(run.run_id)
    }


if __name__ == "__main__":
    main()
