"""Benchmark the identity stitcher against networkx on the same person-shaped edges.

    .venv/bin/python -m benchmarks.identity_stitching --edges 1000000
    .venv/bin/python -m benchmarks.identity_stitching --edges 1000000 --edges 10000000

For each size: generate the edges into a Parquet file (not timed), then run each side in its
own subprocess (so neither's memory distorts the other; peak RSS from the child's rusage):

- **duckdb**: `connected_components` on a file-backed DuckDB. Timed: the edges table
  (loaded from the Parquet beforehand, as `int_identity__edges` is a table) → id encoding →
  rounds → the node → component table written in the file, fixed-point check included.
- **networkx**: timed: read the same Parquet → `Graph.add_edges_from` →
  `connected_components` → label each component with its smallest node → write node →
  component to Parquet. (networkx hashes the strings itself: that is its id encoding.)

Both label a component with its smallest identifier (with `--no-key`: both write an integer
component id and no label, the cheaper scope for both); the check compares the partitions
node by node. Prints both times, the ratio and peak RSS.
With `--repeat N` each side runs N times, alternating (the machine may be shared); the
fastest run of each side counts and all times are printed.

The graph: people with 2-10 identifiers each (a random spanning tree over them plus ~15 %
extra edges: duplicates and cycles, as repeated identify calls give), identifiers as text
(`<type>:<md5>`), plus a few long chains (1 % of the edges, chains of 1,000-20,000 nodes:
the worst case for label propagation).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENERATE = """
copy (
    with people as (
        select p, (2 + hash(p, 'size') % 9)::int as size from range({people}) as t(p)
    ),
    members as (
        select p, unnest(range(size)) as i, size from people
    ),
    ident as (
        select p, i, size,
            ['anon', 'anon', 'device', 'user', 'email', 'phone', 'crm', 'handle'][
                1 + (hash(p, i, 'type') % 8)::int] || ':' || md5(p::varchar || '/' || i) as node
        from members
    ),
    tree as (  -- node i > 0 attaches to a random earlier node of the same person
        select c.node as node_a, parent.node as node_b
        from ident as c
        join ident as parent
            on parent.p = c.p and parent.i = (hash(c.p, c.i, 'parent') % c.i::ubigint)::int
        where c.i > 0
    ),
    extra as (  -- duplicates and cycles: ~15 % more edges
        select x.node as node_a, y.node as node_b
        from ident as x
        join ident as y
            on y.p = x.p and y.i = (hash(x.p, x.i, 'extra') % x.size::ubigint)::int
        where hash(x.p, x.i, 'coin') % 100 < 18
    ),
    chains as (
        select 'chain:' || c || ':' || md5(c::varchar || '/' || k) as node_a,
               'chain:' || c || ':' || md5(c::varchar || '/' || (k + 1)) as node_b
        from (
            select c, unnest(range(1000 + (hash(c) % 19000)::int)) as k
            from range({chains}) as t(c)
        )
    )
    select * from (
        select * from tree
        union all select * from extra
        union all select * from chains
    ) order by hash(node_a, node_b)
) to '{path}' (format parquet)
"""


def generate(path: Path, edges: int) -> int:
    import duckdb

    con = duckdb.connect()
    # ~5.9 edges per person; chains ≈ 1 % of the edges (mean chain 10,500 edges).
    chains = max(1, edges // 100 // 10_500)
    people = int((edges - chains * 10_500) / 5.9)
    con.execute(GENERATE.format(people=people, chains=chains, path=path))
    return con.execute(f"select count(*) from '{path}'").fetchall()[0][0]


def run_duckdb(parquet: str, db: str, out: str, key: str) -> dict:
    with_key = key == "key"
    import duckdb

    from orchestration.identity.components import connected_components

    Path(db).unlink(missing_ok=True)
    Path(db + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(db)
    con.execute(f"create or replace table edges as select * from read_parquet('{parquet}')")
    con.execute("checkpoint")
    started = time.perf_counter()
    stats = connected_components(con, "edges", "components", with_key=with_key)
    con.execute("checkpoint")
    seconds = time.perf_counter() - started
    # Not timed: the comparison copy.
    con.execute(
        f"copy (select node, component_id::varchar as component from components) to '{out}'"
    )
    return {
        "seconds": seconds,
        "nodes": stats.nodes,
        "edges": stats.edges,
        "components": stats.components,
        "rounds": stats.rounds,
        "jumps": stats.jumps,
        "converged": stats.converged,
        "edges_per_round": list(stats.edges_per_round),
        "phase_seconds": {k: round(v, 2) for k, v in stats.phase_seconds.items()},
    }


def run_networkx(parquet: str, out: str, key: str) -> dict:
    import networkx as nx
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    table = pq.read_table(parquet)
    graph = nx.Graph()
    graph.add_edges_from(zip(table["node_a"].to_pylist(), table["node_b"].to_pylist(), strict=True))
    del table
    nodes, labels = [], []
    components = 0
    for index, component in enumerate(nx.connected_components(graph)):
        label = min(component) if key == "key" else str(index)
        nodes.extend(component)
        labels.extend([label] * len(component))
        components += 1
    pq.write_table(pa.table({"node": nodes, "component": labels}), out)
    return {
        "seconds": time.perf_counter() - started,
        "nodes": graph.number_of_nodes(),
        "components": components,
    }


def child(argv: list[str]) -> dict:
    """Run one side in a fresh interpreter; its result plus its peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.identity_stitching", "--child", *argv],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def compare(a: str, b: str) -> int:
    """Nodes whose component differs; labels are made comparable first (smallest node)."""
    import duckdb

    con = duckdb.connect()
    return con.execute(
        f"""
        with x as (
            select node, min(node) over (partition by component) as label
            from read_parquet('{a}')
        ),
        y as (
            select node, min(node) over (partition by component) as label
            from read_parquet('{b}')
        )
        select count(*) from x full join y on x.node = y.node
        where x.node is null or y.node is null or x.label <> y.label
        """
    ).fetchall()[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, action="append", help="edge count (repeatable)")
    parser.add_argument("--workdir", default=None, help="where the Parquet and DuckDB files go")
    parser.add_argument(
        "--no-key",
        action="store_true",
        help="both sides write node -> integer component id, without the smallest-node label",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per side (alternating); the fastest counts"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        side, *rest = args.child
        result = run_duckdb(*rest) if side == "duckdb" else run_networkx(*rest)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="identity_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for edges in args.edges or [1_000_000]:
        parquet = workdir / f"edges_{edges}.parquet"
        db = workdir / f"stitch_{edges}.duckdb"
        db.unlink(missing_ok=True)
        generated = generate(parquet, edges)
        key = "nokey" if args.no_key else "key"
        ddb_runs, nx_runs = [], []
        for _ in range(args.repeat):  # alternate, so both sides meet the same machine load
            ddb_runs.append(
                child(
                    ["duckdb", str(parquet), str(db), str(workdir / f"duckdb_{edges}.parquet"), key]
                )
            )
            nx_runs.append(
                child(["networkx", str(parquet), str(workdir / f"networkx_{edges}.parquet"), key])
            )
        ddb = min(ddb_runs, key=lambda r: r["seconds"])
        nxr = min(nx_runs, key=lambda r: r["seconds"])
        ddb["all_seconds"] = [round(r["seconds"], 2) for r in ddb_runs]
        nxr["all_seconds"] = [round(r["seconds"], 2) for r in nx_runs]
        mismatches = compare(
            str(workdir / f"duckdb_{edges}.parquet"), str(workdir / f"networkx_{edges}.parquet")
        )
        row = {
            "edges_generated": generated,
            "duckdb": ddb,
            "networkx": nxr,
            "ratio_networkx_over_duckdb": nxr["seconds"] / ddb["seconds"],
            "identical_partitions": mismatches == 0,
            "mismatched_nodes": mismatches,
        }
        rows.append(row)
        print(
            f"{generated:>11,} edges  {ddb['nodes']:>11,} nodes  {ddb['components']:>10,} comps | "
            f"duckdb {ddb['seconds']:7.2f} s ({ddb['rounds']} rounds, {ddb['jumps']} jumps, "
            f"peak RSS {ddb['peak_rss_mb']:,.0f} MB) | "
            f"networkx {nxr['seconds']:7.2f} s (peak RSS {nxr['peak_rss_mb']:,.0f} MB) | "
            f"ratio {row['ratio_networkx_over_duckdb']:.1f}x | identical: {mismatches == 0} | "
            f"runs duckdb {ddb['all_seconds']} networkx {nxr['all_seconds']}",
            flush=True,
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"scaling: {last['edges_generated'] / first['edges_generated']:.1f}x the edges took "
            f"duckdb {last['duckdb']['seconds'] / first['duckdb']['seconds']:.1f}x the time, "
            f"networkx {last['networkx']['seconds'] / first['networkx']['seconds']:.1f}x"
        )
    print(json.dumps(rows, indent=1))
    if not all(r["identical_partitions"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
