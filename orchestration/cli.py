"""`cdw`: the headless way to run the warehouse (no UI needed).

    cdw generate [--customers N --days D --end-date YYYY-MM-DD --seed S]   sample deliveries
    cdw run [--from YYYY-MM-DD] [--to YYYY-MM-DD]   the main job over a date range, one run
    cdw demo                                        generate (if landing is empty) + run

Runs go through Dagster (recorded in $DAGSTER_HOME, default `dagster_home/`, so they show
up in `dagster dev`) and end with the load summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from dagster import DagsterInstance

from orchestration.settings import PROJECT_ROOT, Settings


def _ensure_dagster_home() -> None:
    home = os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    os.makedirs(home, exist_ok=True)


def run_job(
    first: date | None = None,
    last: date | None = None,
    settings: Settings | None = None,
    instance: DagsterInstance | None = None,
) -> int:
    """Run the main job over deliveries first..last (default: every date in landing)."""
    _ensure_dagster_home()
    from orchestration.definitions import build_definitions
    from orchestration.ingest.landing import all_delivery_dates, landing_problems
    from orchestration.ingest.sources import SOURCES
    from orchestration.ingest.summary import render, summarise
    from orchestration.schedules.sensors import range_run_request

    settings = settings or Settings.from_env()
    names = [s.name for s in SOURCES]
    for problem in landing_problems(settings.landing_dir, names):
        print(f"warning: landing/{problem.path}: {problem.problem} (not loaded)", file=sys.stderr)
    dates = all_delivery_dates(settings.landing_dir, names)
    early = [d for d in dates if d < settings.first_delivery_date]
    if early:
        print(
            f"warning: {len(early)} delivery date(s) before CDW_FIRST_DELIVERY_DATE="
            f"{settings.first_delivery_date} are not loaded (earliest {early[0]})",
            file=sys.stderr,
        )
    dates = [d for d in dates if d >= settings.first_delivery_date]
    if not dates and (first is None or last is None):
        print(f"error: no deliveries under {settings.landing_dir}", file=sys.stderr)
        return 2
    first = first or dates[0]
    last = last or dates[-1]
    if first > last:
        print(f"error: --from {first} is after --to {last}", file=sys.stderr)
        return 2
    print(f"Loading deliveries {first} .. {last} from {settings.landing_dir}", flush=True)
    request = range_run_request(first, last, run_key=None)
    job = build_definitions(settings).resolve_job_def("nightly")
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        instance=instance or DagsterInstance.get(),
        tags=request.tags,
        raise_on_error=False,
    )
    import duckdb

    if settings.warehouse_path.exists():
        # Same configuration as the job's connections (DuckDB allows one per file a process).
        with duckdb.connect(str(settings.warehouse_path)) as con:
            summaries = summarise(con, first, last, names)
        print("\n" + render(summaries, first, last, settings.warehouse_path))
    print(render_checks(result.get_asset_check_evaluations()))
    print(f"Dagster run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    return 0 if result.success else 1


def render_checks(evaluations: list) -> str:
    """Per raw source: line accounting and the Great Expectations gate; dbt tests; where
    the Data Docs are. Verdicts and counts only."""
    verdict = {True: "passed", False: "FAILED", None: "not run"}
    by_key = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in evaluations}
    sources = sorted({k[4:] for k, _ in by_key if k.startswith("raw/")})
    lines = [f"{'checks':<18}{'accounting':>12}{'gx critical':>13}{'gx warnings':>13}"]
    for name in sources:
        key = f"raw/{name}"
        lines.append(
            f"{name:<18}{verdict[by_key.get((key, 'line_accounting'))]:>12}"
            f"{verdict[by_key.get((key, 'gx_critical'))]:>13}"
            f"{verdict[by_key.get((key, 'gx_warnings'))]:>13}"
        )
    modelled = [(name, ok) for (key, name), ok in by_key.items() if not key.startswith("raw/")]
    dbt = [ok for name, ok in modelled if not name.startswith("gx_")]
    gates = [ok for name, ok in modelled if name.startswith("gx_")]
    lines.append(
        f"dbt tests: {sum(dbt)} passed, {len(dbt) - sum(dbt)} failed; "
        f"staging gates: {sum(gates)} passed, {len(gates) - sum(gates)} failed"
    )
    from orchestration.quality.gx_gate import data_docs_index

    lines.append(f"Data Docs: {data_docs_index()}  (open in a browser)")
    return "\n".join(lines)


def _date(value: str) -> date:
    return date.fromisoformat(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdw", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the main job over a range of delivery dates")
    run.add_argument("--from", dest="first", type=_date, help="first delivery date")
    run.add_argument("--to", dest="last", type=_date, help="last delivery date")
    commands.add_parser("generate", help="write sample deliveries (see --help)", add_help=False)
    demo = commands.add_parser("demo", help="generate sample data if landing is empty, then run")
    demo.add_argument("--customers", type=int, default=2000)
    demo.add_argument("--days", type=int, default=90)
    args, rest = parser.parse_known_args(argv)
    if args.command == "generate":
        from sample_data.__main__ import main as generate

        return generate(rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.command == "run":
        return run_job(args.first, args.last)
    settings = Settings.from_env()
    if not settings.landing_dir.is_dir() or not any(settings.landing_dir.iterdir()):
        from sample_data.__main__ import main as generate

        code = generate(["--customers", str(args.customers), "--days", str(args.days)])
        if code:
            return code
    else:
        print(f"Landing folder {settings.landing_dir} already has deliveries; not generating.")
    return run_job()


if __name__ == "__main__":
    sys.exit(main())
