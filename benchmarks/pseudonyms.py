"""Keyed-pseudonym speed: the DuckDB function dbt calls (privacy/pseudonyms.py), set-based.

    .venv/bin/python -m benchmarks.pseudonyms [--values 1000000] [--repeat 3]

Over N distinct identifier keys ('email:user<i>@example.com', 27-33 characters) in an
in-memory DuckDB table, each timed as `create table … as select <f>(k) from keys` (the
shape of dim_customer_identifiers), best of `--repeat`:

- `cdw_pseudonym` — the function the dbt-duckdb plugin registers: a vectorised Python
  function over Arrow arrays (one call per chunk of 2,048 values), HMAC-SHA-256 with
  precomputed inner and outer states;
- the same HMAC as a row-at-a-time Python function (DuckDB's `native` UDF type);
- `key.pseudonyms(list)`: the Python loop alone, no DuckDB (what the function spends);
- DuckDB's built-in `sha256(k)`: native C++ and multi-threaded, the unkeyed floor — what
  the published hashes cost before they were keyed.

The key is a random one (the figures do not depend on it). Prints the 1-minute load
average before each run: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import time

import duckdb

from privacy import PseudonymKey, new_secret, register


def _timed(fn, repeat: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeat):
        load = os.getloadavg()[0]
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
        print(f"    run {len(runs)}: {runs[-1]:.2f} s (load {load:.2f})", flush=True)
    return min(runs), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    n = args.values
    key = PseudonymKey.from_secret(new_secret())
    con = duckdb.connect()
    register(con, key)
    con.execute(
        f"create table keys as select 'email:user' || i || '@example.com' as k from range({n}) r(i)"
    )
    from duckdb.sqltypes import VARCHAR

    con.create_function("hmac_row_at_a_time", key.pseudonym, [VARCHAR], VARCHAR, type="native")
    texts = [k for (k,) in con.execute("select k from keys").fetchall()]
    cases = {
        "cdw_pseudonym (vectorised, Arrow)": lambda: con.execute(
            "create or replace table out as select cdw_pseudonym(k) as h from keys"
        ),
        "same HMAC, row at a time (native UDF)": lambda: con.execute(
            "create or replace table out as select hmac_row_at_a_time(k) as h from keys"
        ),
        "key.pseudonyms(list), Python alone": lambda: key.pseudonyms(texts),
        "built-in sha256 (unkeyed, for scale)": lambda: con.execute(
            "create or replace table out as select sha256(k) as h from keys"
        ),
    }
    results = {}
    for name, fn in cases.items():
        print(f"{name}:", flush=True)
        results[name] = _timed(fn, args.repeat)
    # the function and the Python loop agree
    (same,) = con.execute(
        "select count(*) from (select k, cdw_pseudonym(k) as h from keys using sample 1000) "
        "where h <> hmac_row_at_a_time(k)"
    ).fetchone()
    assert same == 0
    print(f"\n{n:,} values, duckdb {duckdb.__version__}, {os.cpu_count()} CPUs")
    print(f"{'':40}{'best s':>8}{'µs/value':>10}   runs")
    for name, (best, runs) in results.items():
        listed = ", ".join(f"{r:.2f}" for r in runs)
        print(f"{name:40}{best:8.2f}{best / n * 1e6:10.2f}   {listed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
