"""What dbt itself costs in a night, beside the SQL it runs: start-up with nothing to do,
and the project's data tests through dbt against the same queries straight in DuckDB.

    .venv/bin/python -m benchmarks.dbt_overhead --warehouse /tmp/bench/warehouse.duckdb
    .venv/bin/python -m benchmarks.dbt_overhead --warehouse ... --threads 1 2 4

Works on a copy of `--warehouse` (any warehouse the nightly job built, e.g. the one
`benchmarks.nightly` leaves in its scratch folder); the original is only read. For each
thread count it runs `dbt test --exclude-resource-type unit_test` (every data test, the
tests of a night) and prints dbt's wall time and elapsed time; then it runs each test's
compiled SQL once in DuckDB, in one process, one after another. The difference is dbt's
own cost per test node (compiling, connections, logging, artefacts), which a nightly run
pays whatever the size of the new data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.dbt.project import DBT_PROJECT_DIR


def run_dbt(args: list[str], warehouse: Path, target: Path) -> float:
    dbt = Path(sys.executable).with_name("dbt")
    started = time.perf_counter()
    subprocess.run(
        [str(dbt), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target)],
        check=False, capture_output=True, cwd=DBT_PROJECT_DIR,
        env={**os.environ, "CDW_WAREHOUSE_PATH": str(warehouse)},
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cdw-dbt-overhead-") as scratch:
        # The same file name: views name their catalogue, which DuckDB takes from it.
        warehouse = Path(scratch) / args.warehouse.name
        shutil.copyfile(args.warehouse, warehouse)
        target = Path(scratch) / "target"
        run_dbt(["parse"], warehouse, target)  # the partial-parse file for this profile
        idle = run_dbt(["ls", "--select", "nothing_is_named_this"], warehouse, target)
        print(f"dbt start-up, nothing to run: {idle:.1f} s")
        results: dict = {}
        for threads in args.threads:
            wall = run_dbt(
                ["test", "--exclude-resource-type", "unit_test", "--threads", str(threads)],
                warehouse,
                target,
            )
            results = json.loads((target / "run_results.json").read_text())
            tests = results["results"]
            failed = [r["unique_id"] for r in tests if r["status"] != "pass"]
            print(
                f"dbt test, {threads} thread(s): {wall:.1f} s wall, "
                f"{results['elapsed_time']:.1f} s dbt elapsed, {len(tests)} tests"
                + (f", NOT passing: {failed[:3]}" if failed else "")
            )
        with duckdb.connect(str(warehouse), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            started = time.perf_counter()
            for result in results["results"]:
                con.execute(f"SELECT count(*) FROM ({result['compiled_code']})").fetchall()
            direct = time.perf_counter() - started
        print(f"the same {len(results['results'])} tests' SQL straight in DuckDB: {direct:.1f} s")


if __name__ == "__main__":
    main()
