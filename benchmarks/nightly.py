"""Nightly-job benchmark: the cost of a full build, of one more night, and of a night with
nothing new, beside the single-scan floor of the same files.

    .venv/bin/python -m benchmarks.nightly --customers 2000 --days 90
    .venv/bin/python -m benchmarks.nightly --customers 100000 --days 90   # ~10M events

Generates N customers × D days, holds the last day's deliveries back, runs the `nightly`
job over the first D-1 days (the full build), lands the last day and runs again (one more
night: only the new deliveries are read), then runs once more with nothing new. Before
that it reads every delivered file once with DuckDB (the floor: no job can load the files
faster than reading them). Prints wall times, Dagster's per-step durations, the time the
Great Expectations gate took, and the peak memory of the job's process (VmHWM) and of its
largest child process (dbt).

Everything goes to a scratch folder (default /tmp/cdw-bench, replaced each time).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from orchestration.cli import run_job
from orchestration.settings import PROJECT_ROOT, Settings
from sample_data import GeneratorConfig, generate

# The raw step's own timing line (orchestration/ingest/assets.py): the gate's seconds are
# every validation plus the one Data Docs rendering.
GATE_LINE = re.compile(r"^load [\d.]+s, gate ([\d.]+)s")


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
    # Validation results and Data Docs of benchmark data go to a copy of the GX project.
    gx_copy = root / "expectations"
    shutil.rmtree(gx_copy, ignore_errors=True)
    shutil.copytree(
        PROJECT_ROOT / "expectations", gx_copy, ignore=shutil.ignore_patterns("uncommitted")
    )
    os.environ["CDW_GX_PROJECT_DIR"] = str(gx_copy)
    settings = Settings.under(root)
    config = GeneratorConfig(args.customers, args.days, args.end_date, args.seed)
    if not (args.keep_landing and settings.landing_dir.is_dir()):
        for generated in (settings.landing_dir, settings.truth_dir):
            shutil.rmtree(generated, ignore_errors=True)
        started = time.perf_counter()
        generate(config, settings.landing_dir, settings.truth_dir)
        print(f"generate: {time.perf_counter() - started:.1f} s", flush=True)
    for stale in root.glob("warehouse.duckdb*"):
        stale.unlink()
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    shutil.rmtree(os.environ["DAGSTER_HOME"], ignore_errors=True)
    os.makedirs(os.environ["DAGSTER_HOME"])
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", os.environ["DAGSTER_HOME"])
    instance = DagsterInstance.get()

    floor, landing_bytes = single_scan_floor(settings.landing_dir)
    print(f"single-scan floor: {floor:.1f} s", flush=True)

    last = args.end_date
    held_back = hold_back(settings.landing_dir, last, root / "held_back")
    runs = {}
    try:
        for name, action in (
            ("full build", lambda: None),
            ("one more night", lambda: restore(held_back, settings.landing_dir)),
            ("nothing new", lambda: None),
        ):
            action()
            started = time.perf_counter()
            code = run_job(settings=settings, instance=instance)
            seconds = time.perf_counter() - started
            assert code == 0, f"{name}: cdw run exited {code}"
            runs[name] = (seconds, *step_and_gate_seconds(instance))
            print(f"{name}: {seconds:.1f} s", flush=True)
    finally:
        restore(held_back, settings.landing_dir)  # the landing folder as it was generated

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        records, events = con.execute(
            "SELECT sum(records_in), sum(records_in) FILTER (WHERE source = 'events') "
            "FROM raw.load_audit"
        ).fetchall()[0]
    full = runs["full build"][0]
    print()
    print(f"config          {args.customers:,} customers × {args.days} days, seed {args.seed}")
    print(f"landing         {landing_bytes / 1e6:,.0f} MB, {records:,} records ({events:,} events)")
    print(f"floor           {floor:,.1f} s  (DuckDB reads every delivered file once)")
    for name, (seconds, _, gate) in runs.items():
        share = (
            f"{seconds / full:.1%} of the full build"
            if name != "full build"
            else (f"{seconds / floor:.1f}× the floor")
        )
        print(
            f"{name:<16}{seconds:>7.1f} s  ({share}; GX gate {gate:.1f} s = {gate / seconds:.0%})"
        )
    own, child = peak_rss_gb()
    print(f"peak memory     {own:.2f} GB the job's process, {child:.2f} GB its largest child (dbt)")
    print(f"warehouse       {settings.warehouse_path.stat().st_size / 1e6:,.0f} MB")
    print("\nstep                                full (s)  one more night (s)  nothing new (s)")
    steps = runs["full build"][1]
    for step in sorted(steps, key=lambda k: -steps[k]):
        night, idle = (runs[n][1].get(step, 0.0) for n in ("one more night", "nothing new"))
        print(f"{step:<36}{steps[step]:>9.1f}{night:>20.1f}{idle:>17.1f}")


def single_scan_floor(landing_dir: Path) -> tuple[float, int]:
    """Seconds for DuckDB to read every delivered file once (gzip decompressed), and the
    files' bytes. Each file is read as lines, nothing parsed."""
    files = sorted(p for p in landing_dir.rglob("*") if p.is_file())
    started = time.perf_counter()
    with duckdb.connect() as con:
        for batch in (files[i : i + 500] for i in range(0, len(files), 500)):
            con.execute(
                "SELECT count(*) FROM read_csv(?, columns = {'line': 'VARCHAR'}, header = false,"
                " delim = chr(1), quote = '', escape = '', auto_detect = false,"
                " strict_mode = false, null_padding = true, ignore_errors = true)",
                [[str(p) for p in batch]],
            ).fetchall()
    return time.perf_counter() - started, sum(p.stat().st_size for p in files)


def hold_back(landing_dir: Path, day: date, aside: Path) -> list[tuple[Path, Path]]:
    """Move every source's delivery of `day` aside (it lands 'tonight'). Deliveries an
    interrupted benchmark left aside go back to the landing folder first."""
    left_aside = [(t, landing_dir / t.parent.name / t.name) for t in sorted(aside.glob("*/*"))]
    if left_aside:
        print(f"restoring {len(left_aside)} delivery folder(s) an interrupted run left aside")
        restore(left_aside, landing_dir)
    moved = []
    for folder in sorted(landing_dir.glob(f"*/{day.isoformat()}")):
        target = aside / folder.parent.name / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)
        moved.append((target, folder))
    assert moved, f"no delivery dated {day}"
    return moved


def restore(moved: list[tuple[Path, Path]], landing_dir: Path) -> None:
    for target, folder in moved:
        if target.exists():
            shutil.move(target, folder)


def step_and_gate_seconds(instance: DagsterInstance) -> tuple[dict[str, float], float]:
    """Per-step wall time of the latest run (Dagster's step statistics) and the seconds
    the Great Expectations gate took (validations and Data Docs: the raw step's log line)."""
    (run,) = instance.get_runs(limit=1)
    steps = {
        s.step_key: (s.end_time or 0) - (s.start_time or 0)
        for s in instance.get_run_step_stats(run.run_id)
    }
    gate = sum(
        float(m.group(1))
        for e in instance.all_logs(run.run_id)
        if e.dagster_event is None and (m := GATE_LINE.search(e.user_message or ""))
    )
    return steps, gate


def peak_rss_gb() -> tuple[float, float]:
    """Peak resident memory of this process (VmHWM) and of its largest finished child."""
    own = next(
        int(line.split()[1]) / 1e6
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    return own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6


if __name__ == "__main__":
    main()
