"""`cdw`: the headless way to run the warehouse (no UI needed).

    cdw generate [--customers N --days D --end-date YYYY-MM-DD --seed S]   sample deliveries
    cdw run [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--reload] [--full-refresh] [--wait S]
                                                    the main job over a date range, one run
                                                    (unchanged deliveries are skipped)
    cdw demo                                        generate (if landing is empty) + run
    cdw holds                                       deliveries held back by the gate, and why
    cdw release --source S --date D --by WHO --why TEXT   release a held delivery
    cdw state backup DIR | cdw state restore DIR    copy the state schema to / from Parquet
    cdw paths                                       where the warehouse's artefacts live
    cdw prune                                       remove artefacts older than the retention
    cdw pseudonyms key | new-key | hash KEY… | rekey-decisions   the pseudonym key (privacy.md)

Runs go through Dagster (recorded in $DAGSTER_HOME, default the warehouse's own
`<warehouse>.artefacts/dagster_home/`, so they show up in `make dev`) and end with the load
summary. One run at a time per warehouse: a second one waits (`--wait`, CDW_RUN_LOCK_WAIT)
or refuses, naming the run that holds it (orchestration/run_lock.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance

from orchestration.run_lock import WarehouseBusy, duckdb_lock_holder, run_lock, wait_for_file
from orchestration.settings import PROJECT_ROOT, Settings

# `cdw run` exits 0 when everything loaded and built, 1 when the run failed, this when the
# run succeeded but the gate holds some delivery back (`cdw holds` says which) …
HELD_EXIT_CODE = 3
# … and this when another run, or another process, holds the warehouse: nothing was done.
BUSY_EXIT_CODE = 4
DAGSTER_YAML_TEMPLATE = PROJECT_ROOT / "dagster_home" / "dagster.yaml"


def ensure_dagster_home(settings: Settings) -> Path:
    """$DAGSTER_HOME, or else the warehouse's own instance folder (`<artefacts>/dagster_home`,
    with the project's dagster.yaml), which it then sets; created when missing."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        os.makedirs(home, exist_ok=True)
        return Path(home)
    folder = settings.dagster_home
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    template = DAGSTER_YAML_TEMPLATE.read_text()
    if not config.exists() or config.read_text() != template:
        config.write_text(template)  # the project's settings, kept up to date
    os.environ["DAGSTER_HOME"] = str(folder)
    return folder


def _say(message: str) -> None:
    print(message, flush=True)


def run_job(
    first: date | None = None,
    last: date | None = None,
    settings: Settings | None = None,
    instance: DagsterInstance | None = None,
    reload: bool = False,
    full_refresh: bool = False,
    wait: float | None = None,
) -> int:
    """Run the main job over deliveries first..last (default: every date in landing).

    Deliveries whose files did not change since they were loaded are skipped unless
    `reload`; every dbt model is rebuilt from scratch with `full_refresh`. Holds the
    warehouse's run lock throughout: when another run holds it, waits up to `wait` seconds
    (default CDW_RUN_LOCK_WAIT), then returns BUSY_EXIT_CODE having done nothing."""
    settings = settings or Settings.from_env()
    wait = settings.run_lock_wait_seconds if wait is None else wait
    started = time.monotonic()
    try:
        with run_lock(settings.run_lock_path, settings.warehouse_path, wait=wait, on_wait=_say):
            # A notebook or shell with the file open would fail every step of the run.
            left = max(wait - (time.monotonic() - started), 0.0)
            wait_for_file(settings.warehouse_path, left, settings.run_lock_path, _say)
            return _run_locked(first, last, settings, instance, reload, full_refresh)
    except WarehouseBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return BUSY_EXIT_CODE


def _run_locked(
    first: date | None,
    last: date | None,
    settings: Settings,
    instance: DagsterInstance | None,
    reload: bool,
    full_refresh: bool,
) -> int:
    ensure_dagster_home(settings)
    from orchestration.definitions import build_definitions
    from orchestration.ingest.landing import all_delivery_dates, landing_problems
    from orchestration.ingest.sources import SOURCES
    from orchestration.ingest.summary import render, summarise
    from orchestration.schedules.dead_runs import fail_dead_runs, runner_tags
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
    if first is None and last is None and not reload:
        # Only the dates with new, changed or withdrawn deliveries (Dagster plans every
        # partition of a run's range, so a range over the whole history costs minutes).
        pending = _pending_dates(settings, dates)
        if pending is not None and not pending:
            print("Nothing new in the landing folder since the last run.", flush=True)
            pending = [dates[-1]]  # still a run: checks, freshness, summary
        if pending:
            first, last = pending[0], pending[-1]
    first = first or dates[0]
    last = last or dates[-1]
    if first > last:
        print(f"error: --from {first} is after --to {last}", file=sys.stderr)
        return 2
    print(f"Loading deliveries {first} .. {last} from {settings.landing_dir}", flush=True)
    request = range_run_request(first, last, run_key=None, reload=reload, full_refresh=full_refresh)
    job = build_definitions(settings).resolve_job_def("nightly")
    instance = instance or DagsterInstance.get()
    for dead in fail_dead_runs(instance):
        print(
            f"An earlier run ({dead}) ended with its process before it finished: marked "
            "failed in Dagster; this run redoes its work.",
            flush=True,
        )
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        instance=instance,
        tags={**request.tags, **runner_tags()},
        raise_on_error=False,
    )
    held: list = []
    if settings.warehouse_path.exists():
        try:
            # Same configuration as the job's connections (one per file in a process).
            with duckdb.connect(str(settings.warehouse_path)) as con:
                summaries = summarise(con, first, last, names)
                held = _held(con)
                freshness = _freshness(con)
            print("\n" + render(summaries, first, last, settings.warehouse_path))
            print(render_held(held))
            print(freshness)
        except duckdb.IOException as error:
            if duckdb_lock_holder(error) is None:
                raise
            from orchestration.run_lock import file_busy_message

            print(f"warning: no summary: {file_busy_message(settings.warehouse_path, error)}")
    print(render_checks(result.get_asset_check_evaluations(), settings))
    print(settings.pseudonym_key.describe())  # the flag: a development key warns (privacy.md)
    print(f"Dagster run {result.run_id}: {'succeeded' if result.success else 'FAILED'}")
    if not result.success:
        for failure in _failures(result):
            print(f"error: {failure}", file=sys.stderr)
        return 1
    # The run did its job, but some delivery waits for a re-delivery or a steward.
    return HELD_EXIT_CODE if held else 0


def _failures(result) -> list[str]:
    """The first line of each failed step's error (the rest is in Dagster's run log)."""
    failures = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE and event.step_failure_data:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None and not error.message.strip():
                error = error.cause
            message = error.message.strip().splitlines()[0] if error and error.message else "?"
            failures.append(f"step {event.step_key} failed: {message}")
    return failures


def _pending_dates(settings: Settings, dates: list[date]) -> list[date] | None:
    """Dates with new, changed or withdrawn deliveries; None without a warehouse yet."""
    from orchestration.ingest.loader import pending_dates

    if not settings.warehouse_path.exists():
        return None
    # Read-only, and closed before the job opens the file for writing.
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        try:
            return pending_dates(con, settings.landing_dir, dates)
        except (duckdb.CatalogException, duckdb.BinderException):  # no or older raw tables
            return None


def _held(con) -> list:
    """What the gate holds back now (every date, not just this run's)."""
    from orchestration.state.holds import delivery_statuses

    try:
        return delivery_statuses(con, ("held",))
    except duckdb.CatalogException:  # a warehouse from before the state schema
        return []


def _freshness(con) -> str:
    from datetime import UTC, datetime

    from orchestration.ingest.freshness import render_freshness, source_freshness

    today = datetime.now(UTC).date()
    try:
        return render_freshness(source_freshness(con, today), today)
    except duckdb.CatalogException:  # a warehouse from before the state schema
        return ""


def render_held(held: list) -> str:
    if not held:
        return "Held deliveries: none."
    return "\n".join(
        [f"Held deliveries ({len(held)}; see `cdw holds`, release with `cdw release`):"]
        + [f"  {s.source} {s.delivery_date}: {', '.join(s.critical_failed)}" for s in held]
    )


def render_checks(evaluations: list, settings: Settings) -> str:
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
    dbt = [ok for (key, _), ok in by_key.items() if not key.startswith("raw/")]
    lines.append(f"dbt tests: {sum(dbt)} passed, {len(dbt) - sum(dbt)} failed")
    from orchestration.quality.gx_gate import data_docs_index

    index = data_docs_index(settings.gx_project_dir, settings.gx_artefacts_dir)
    lines.append(f"Data Docs: {index}  (open in a browser)")
    return "\n".join(lines)


def _date(value: str) -> date:
    return date.fromisoformat(value)


@contextmanager
def _warehouse(read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for a steward's command; a write (release, state) holds the run lock,
    so it never lands in the middle of a run. `WarehouseBusy` when a run or another
    process holds the file."""
    from orchestration.ingest.loader import configure, ensure_tables
    from orchestration.run_lock import file_busy_message
    from orchestration.state.schema import ensure_state

    settings = Settings.from_env()
    path = settings.warehouse_path
    if not path.exists():
        raise SystemExit(f"error: no warehouse at {path} (run `cdw run` first)")
    with ExitStack() as stack:
        if not read_only:
            stack.enter_context(run_lock(settings.run_lock_path, path))
        try:
            con = stack.enter_context(duckdb.connect(str(path), read_only=read_only))
        except duckdb.IOException as error:
            if duckdb_lock_holder(error) is None:
                raise
            raise WarehouseBusy(file_busy_message(path, error, settings.run_lock_path)) from None
        configure(con)
        if not read_only:
            ensure_tables(con)
            ensure_state(con)
        yield con


def holds_command() -> int:
    from orchestration.state.holds import delivery_statuses

    with _warehouse(read_only=True) as con:
        statuses = delivery_statuses(con)
    if not statuses:
        print("No delivery is held or released.")
        return 0
    for s in statuses:
        why = ", ".join(s.critical_failed)
        extra = f" — released by {s.released_by}: {s.release_reason}" if s.released_by else ""
        print(f"{s.source:<18}{s.delivery_date}  {s.status:<9} {why}{extra}")
    return 0


def release_command(source: str, day: date, released_by: str, reason: str) -> int:
    from orchestration.state.holds import ReleaseError, release

    with _warehouse() as con:
        try:
            status = release(con, source, day, released_by, reason)
        except ReleaseError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print(
        f"Released {status.source} {status.delivery_date} (by {status.released_by}); "
        "the next run's dbt build includes it."
    )
    return 0


def state_command(action: str, folder: str) -> int:
    from pathlib import Path

    from orchestration.state.backup import backup_state, restore_state

    with _warehouse() as con:
        counts = (backup_state if action == "backup" else restore_state)(con, Path(folder))
    verb = "Backed up" if action == "backup" else "Restored"
    print(f"{verb} state: " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items()))
    return 0


def paths_command(dagster_home_only: bool = False) -> int:
    """Where the configured warehouse's artefacts are (and DAGSTER_HOME, prepared)."""
    settings = Settings.from_env()
    home = ensure_dagster_home(settings)
    if dagster_home_only:
        print(home)
        return 0
    from orchestration.quality.gx_project import docs_index

    rows = [
        ("warehouse", settings.warehouse_path),
        ("landing", settings.landing_dir),
        ("artefacts", settings.artefacts_dir),
        ("dbt target (manifest, invocations)", settings.dbt_target_dir),
        ("dbt parse logs", settings.dbt_log_dir),
        ("GX results", settings.gx_artefacts_dir / "validations"),
        ("Data Docs", docs_index(settings.gx_project_dir, settings.gx_artefacts_dir)),
        ("DAGSTER_HOME (run history)", home),
        ("run lock", settings.run_lock_path),
    ]
    for name, path in rows:
        print(f"{name:<36}{path}")
    print(f"{'retention':<36}{settings.retention_days} days (CDW_RETENTION_DAYS)")
    print(f"{'run lock wait':<36}{settings.run_lock_wait_seconds:g} s (CDW_RUN_LOCK_WAIT)")
    return 0


def prune_command() -> int:
    """Remove what is older than the retention now (every run does it at its start)."""
    from orchestration.housekeeping import prune_artefacts

    settings = Settings.from_env()
    ensure_dagster_home(settings)
    with (
        run_lock(settings.run_lock_path, settings.warehouse_path),
        DagsterInstance.get() as instance,
    ):
        pruned = prune_artefacts(settings, instance)
    print(pruned.describe(settings.retention_days))
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except WarehouseBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return BUSY_EXIT_CODE


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cdw", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the main job over a range of delivery dates")
    run.add_argument("--from", dest="first", type=_date, help="first delivery date")
    run.add_argument("--to", dest="last", type=_date, help="last delivery date")
    run.add_argument(
        "--reload",
        action="store_true",
        help="read every delivery of the range again, changed or not (after a loader change)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every dbt model from scratch (after a change to an incremental model)",
    )
    run.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="when another run holds the warehouse, wait up to this long for it (default "
        f"CDW_RUN_LOCK_WAIT, else 0: refuse at once, exit {BUSY_EXIT_CODE})",
    )
    commands.add_parser("generate", help="write sample deliveries (see --help)", add_help=False)
    demo = commands.add_parser("demo", help="generate sample data if landing is empty, then run")
    demo.add_argument("--customers", type=int, default=2000)
    demo.add_argument("--days", type=int, default=90)
    commands.add_parser("holds", help="list deliveries held back by the gate (and releases)")
    rel = commands.add_parser("release", help="release a held delivery (recorded: who, why)")
    rel.add_argument("--source", required=True)
    rel.add_argument("--date", dest="day", type=_date, required=True, help="delivery date")
    rel.add_argument("--by", dest="released_by", required=True, help="who releases it")
    rel.add_argument("--why", dest="reason", required=True, help="why it may be used")
    state = commands.add_parser("state", help="back up or restore the state schema")
    state.add_argument("action", choices=["backup", "restore"])
    state.add_argument("folder", help="folder of Parquet files, one per state table")
    paths = commands.add_parser("paths", help="where the warehouse's artefacts live")
    paths.add_argument(
        "--dagster-home", action="store_true", help="print DAGSTER_HOME only (prepared)"
    )
    commands.add_parser("prune", help="remove artefacts older than CDW_RETENTION_DAYS")
    chaos = commands.add_parser(
        "chaos", help="kill nightly runs at random points and check they converge (scratch data)"
    )
    chaos.add_argument("--kills", type=int, default=20)
    chaos.add_argument("--customers", type=int, default=200)
    chaos.add_argument("--days", type=int, default=14)
    chaos.add_argument("--seed", type=int, default=7)
    chaos.add_argument("--scratch", type=Path, default=Path("/tmp/cdw-chaos"))
    from orchestration import pseudonyms

    pseudonyms.add_parser(commands)
    args, rest = parser.parse_known_args(argv)
    if args.command == "generate":
        from sample_data.__main__ import main as generate

        return generate(rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.command == "run":
        return run_job(
            args.first,
            args.last,
            reload=args.reload,
            full_refresh=args.full_refresh,
            wait=args.wait,
        )
    if args.command == "paths":
        return paths_command(args.dagster_home)
    if args.command == "prune":
        return prune_command()
    if args.command == "holds":
        return holds_command()
    if args.command == "release":
        return release_command(args.source, args.day, args.released_by, args.reason)
    if args.command == "state":
        return state_command(args.action, args.folder)
    if args.command == "pseudonyms":
        return pseudonyms.command(args)
    if args.command == "chaos":
        from orchestration.chaos import chaos as run_chaos

        # One chaos at a time per scratch folder (each clears it); each of its nights
        # takes its scratch warehouse's own run lock.
        with run_lock(args.scratch.with_name(args.scratch.name + ".lock"), args.scratch):
            kills = run_chaos(args.kills, args.customers, args.days, args.seed, args.scratch)
        return 0 if all(k.converged for k in kills) else 1
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
