"""Loader benchmark: one source's deliveries loaded into a scratch warehouse, with the
seconds of each SQL statement the loader ran.

    .venv/bin/python -m benchmarks.loader --landing /tmp/cdw-bench10m/landing \\
        --source events --first 2026-09-10 --days 5

Loads `--days` delivery dates of `--source` from `--first` on as one batch (as a run over a
range does: `load_deliveries`), into a new DuckDB file under `--scratch`, and prints the
records per second and the statements that took longest. The landing folder is any folder
in the landing contract (docs/landing.md), e.g. one `benchmarks.nightly --keep-landing`
generated.
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from orchestration.ingest.landing import files_for
from orchestration.ingest.loader import ensure_tables, load_deliveries
from orchestration.ingest.sources import SOURCES_BY_NAME


class TimedConnection:
    """A DuckDB connection that records how long each `execute` took."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.timings: list[tuple[float, str]] = []

    def execute(self, sql: str, *args: Any) -> duckdb.DuckDBPyConnection:
        started = time.perf_counter()
        result = self._con.execute(sql, *args)
        self.timings.append((time.perf_counter() - started, " ".join(sql.split())))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--source", required=True, choices=sorted(SOURCES_BY_NAME))
    parser.add_argument("--first", type=date.fromisoformat, required=True)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/cdw-loader-bench"))
    parser.add_argument("--top", type=int, default=6, help="statements listed")
    args = parser.parse_args()

    source = SOURCES_BY_NAME[args.source]
    days = [args.first + timedelta(days=i) for i in range(args.days)]
    deliveries = [(day, files_for(args.landing, source.name, day)) for day in days]
    shutil.rmtree(args.scratch, ignore_errors=True)
    args.scratch.mkdir(parents=True)
    with duckdb.connect(str(args.scratch / "warehouse.duckdb")) as con:
        ensure_tables(con, (source,))
        timed = TimedConnection(con)
        started = time.perf_counter()
        audits = load_deliveries(
            timed,  # type: ignore[arg-type]  # duck-typed: only execute is timed
            source,
            deliveries,
            datetime.now(UTC),
            "benchmark",  # the plausible range starts at CDW_FIRST_DELIVERY_DATE (Settings)
        )
        seconds = time.perf_counter() - started
    records = sum(a.records_in for a in audits)
    size = sum(f.size for _, files in deliveries for f in files)
    print(f"{source.name}: {len(days)} day(s), {size / 1e6:,.0f} MB delivered, {records:,} records")
    print(f"load            {seconds:7.2f} s  ({records / seconds:,.0f} records/s)")
    for took, sql in sorted(timed.timings, reverse=True)[: args.top]:
        print(f"{took:7.2f} s  {sql[:80]}")
    shutil.rmtree(args.scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
