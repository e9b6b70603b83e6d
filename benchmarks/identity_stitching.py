"""Benchmark the identity stitcher against networkx on the same person-shaped edges.

    .venv/bin/python -m benchmarks.identity_stitching --edges 1000000
    .venv/bin/python -m benchmarks.identity_stitching --edges 1000000 --edges 10000000
    .venv/bin/python -m benchmarks.identity_stitching --edges 10000000 --increment 0.001 \
        --increment 0.01 --max-load 0.6

For each size: generate the edges into a Parquet file (not timed), then run each side in its
own subprocess (so neither's memory distorts the other; peak RSS: the child's own VmHWM):

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

**Nightly increments** (`--increment 0.001 --increment 0.01`): on top of each size, a night's
new person-shaped edges (that fraction of the edge count: ~50 % new people, ~25 % new
identifiers of existing people, ~10 % merges of two existing people, ~15 % repeated edges
inside a person), while `--removed` (default 0.01 %) of the old edges disappear, as the
guards and changed records make them. Timed: `stitch_state.stitch_nightly` — what
int_identity__components runs each night — on last night's state in the file (comparing
tonight's edges and nodes with it, reopening the clusters that lost an edge, re-stitching
what changed, updating the state, checkpoint included), against `connected_components` over
all of tonight's edges from scratch into a new table; the two tables must hold the same
rows. Last night's state is built first, not timed.

`--max-load L` waits (up to 20 minutes) before each timed run until the 1-minute load
average is below L, and records the load each run started at.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
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


def shape(edges: int) -> tuple[int, int]:
    """(people, chains) for about `edges` edges: ~5.9 edges per person; chains ≈ 1 % of
    the edges (mean chain 10,500 edges)."""
    chains = max(1, edges // 100 // 10_500)
    return int((edges - chains * 10_500) / 5.9), chains


def generate(path: Path, edges: int) -> int:
    import duckdb

    con = duckdb.connect()
    people, chains = shape(edges)
    con.execute(GENERATE.format(people=people, chains=chains, path=path))
    return con.execute(f"select count(*) from '{path}'").fetchall()[0][0]


# A night's new edges on top of GENERATE's people (same identifier formula): new people
# (trees + extra edges), new identifiers of existing people, merges of two existing people,
# repeated edges inside an existing person.
INCREMENT = """
create macro ident(p, i) as
    ['anon', 'anon', 'device', 'user', 'email', 'phone', 'crm', 'handle'][
        1 + (hash(p::bigint, i::bigint, 'type') % 8)::int]
    || ':' || md5(p::bigint::varchar || '/' || i::bigint);
copy (
    with new_people as (
        select p, (2 + hash(p, 'size') % 9)::int as size
        from range({people}, {people} + {new_people}) as t(p)  -- GENERATE's formula
    ),
    members as (select p, unnest(range(size)) as i, size from new_people),
    new_tree as (
        select ident(p, i) as node_a, ident(p, (hash(p, i, 'parent') % i::ubigint)::int) as node_b
        from members where i > 0
    ),
    new_extra as (
        select ident(p, i) as node_a, ident(p, (hash(p, i, 'extra') % size::ubigint)::int)
        from members where hash(p, i, 'coin') % 100 < 18
    ),
    joins as (  -- a new identifier of an existing person
        select ident(p, 0) as node_a, ident(p, 100 + j) as node_b
        from (select j, hash(j, 'join', {night}) % {people} as p from range({joins}) as t(j))
    ),
    merges as (  -- one person's identifier seen with another person's
        select ident(hash(j, 'm1', {night}) % {people}, 0) as node_a,
            ident(hash(j, 'm2', {night}) % {people}, 1) as node_b
        from range({merges}) as t(j)
    ),
    repeats as (
        select ident(p, 1) as node_a, ident(p, 0) as node_b
        from (select hash(j, 'repeat', {night}) % {people} as p from range({repeats}) as t(j))
    )
    select * from (
        select * from new_tree
        union all select * from new_extra
        union all select * from joins
        union all select * from merges
        union all select * from repeats
    ) order by hash(node_a, node_b)
) to '{path}' (format parquet)
"""


def generate_increment(path: Path, edges: int, fraction: float, night: int = 1) -> int:
    """A night's new edges, `fraction` of `edges`, on top of `generate(…, edges)`."""
    import duckdb

    con = duckdb.connect()
    people, _ = shape(edges)
    new = round(edges * fraction)
    con.execute(
        INCREMENT.format(
            people=people,
            new_people=int(new * 0.50 / 5.9),
            joins=int(new * 0.25),
            merges=int(new * 0.10),
            repeats=int(new * 0.15),
            night=night,
            path=path,
        )
    )
    return con.execute(f"select count(*) from '{path}'").fetchall()[0][0]


def run_duckdb(parquet: str, db: str, out: str, key: str) -> dict:
    with_key = key == "key"
    import duckdb

    from identity import connected_components

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


def prepare_increment(parquet: str, new_parquet: str, db: str, removed: str) -> dict:
    """Not timed: last night's state (`stitch_nightly` over the old edges) and tonight's
    edges and nodes: old + new edges, less a `removed` fraction of the old ones."""
    import duckdb

    from identity import stitch_nightly

    Path(db).unlink(missing_ok=True)
    Path(db + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(db)
    con.execute(
        f"""
        create table edges as
        select node_a as identifier_key_a, node_b as identifier_key_b
        from read_parquet('{parquet}')
        """
    )
    con.execute(NODES.format(table="nodes", edges="edges"))
    previous = stitch_nightly(con, edges_table="edges", nodes_table="nodes", state_schema="state")
    # tonight: the old edges but a seeded `removed` share, plus the new ones
    con.execute(
        f"""
        create table tonight_edges as
        select * from edges where hash(identifier_key_a, identifier_key_b) % 1000000
            >= {round(float(removed) * 1_000_000)}
        union all
        select node_a, node_b from read_parquet('{new_parquet}')
        """
    )
    con.execute(NODES.format(table="tonight_nodes", edges="tonight_edges"))
    removed_edges = con.execute(
        "select count(*) from edges anti join tonight_edges"
        " using (identifier_key_a, identifier_key_b)"
    ).fetchall()[0][0]
    con.execute("drop table edges")
    con.execute("drop table nodes")
    con.execute("checkpoint")
    return {
        "previous_nodes": previous.nodes,
        "previous_components": previous.components,
        "removed_edges": removed_edges,
    }


# Every identifier of the edges, first seen at a time of its own (as int_identity__identifiers
# gives the nightly model); isolated nodes are not in this graph.
NODES = """
create table {table} as
select identifier_key, timestamp '2026-01-01' + to_seconds(hash(identifier_key) % 100000000)
    as first_seen_at
from (
    select identifier_key_a as identifier_key from {edges}
    union
    select identifier_key_b from {edges}
)
"""


def run_increment(db: str) -> dict:
    """Timed: `stitch_nightly` on last night's state (what int_identity__components runs
    each night), checkpoint."""
    import duckdb

    from identity import stitch_nightly

    con = duckdb.connect(db)
    started = time.perf_counter()
    stats = stitch_nightly(
        con, edges_table="tonight_edges", nodes_table="tonight_nodes", state_schema="state"
    )
    con.execute("checkpoint")
    seconds = time.perf_counter() - started
    if stats.mode != "incremental":
        raise SystemExit(f"the night was not incremental: {stats.reason}")
    inc = stats.incremental
    return {
        "seconds": seconds,
        "new_edges": stats.new_edges,
        "new_nodes": stats.new_nodes,
        "gone_edges": stats.gone_edges,
        "reopened_components": stats.reopened_components,
        "touched_components": inc.touched_components,
        "retired_keys": inc.retired_keys,
        "components_written": inc.components,
        "changed_rows": inc.changed_rows,
        "nodes": inc.nodes,
        "restitch_phase_seconds": {k: round(v, 2) for k, v in inc.phase_seconds.items()},
    }


def run_full(db: str) -> dict:
    """Timed: `connected_components` over all of tonight's edges into a new table,
    checkpoint. Then, not timed: rows that differ from the incremented state."""
    import duckdb

    from identity import connected_components

    con = duckdb.connect(db)
    started = time.perf_counter()
    stats = connected_components(
        con,
        "tonight_edges",
        "full_components",
        node_a="identifier_key_a",
        node_b="identifier_key_b",
        nodes_table="tonight_nodes",
        node="identifier_key",
        order_by="first_seen_at",
    )
    con.execute("checkpoint")
    seconds = time.perf_counter() - started
    columns = "node, node_id, component_id, component_node"
    differing = con.execute(
        f"""
        select count(*) from (
            (select {columns} from state.stitched_components
             except all select {columns} from full_components)
            union all
            (select {columns} from full_components
             except all select {columns} from state.stitched_components)
        )
        """
    ).fetchall()[0][0]
    return {
        "seconds": seconds,
        "nodes": stats.nodes,
        "components": stats.components,
        "phase_seconds": {k: round(v, 2) for k, v in stats.phase_seconds.items()},
        "differing_rows": differing,
    }


def peak_rss_mb() -> float:
    """This process's peak resident set size. VmHWM belongs to the process image, so unlike
    getrusage's ru_maxrss it does not carry over the parent's peak (the parent generated
    the data) through fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_for_load(max_load: float | None, patience: float = 1200) -> float:
    """Wait (at most `patience` seconds) until the 1-minute load average is below
    `max_load`; the load average the run starts at."""
    deadline = time.monotonic() + patience
    while max_load is not None and os.getloadavg()[0] >= max_load:
        if time.monotonic() > deadline:
            break
        time.sleep(10)
    return round(os.getloadavg()[0], 2)


def child(argv: list[str], max_load: float | None = None) -> dict:
    """Run one side in a fresh interpreter; its result plus its peak RSS and the load
    average it started at."""
    load = wait_for_load(max_load)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.identity_stitching", "--child", *argv],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["load_at_start"] = load
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


def increments(args: argparse.Namespace, workdir: Path) -> None:
    """For each size and fraction: the previous night, then tonight incrementally and
    from scratch (alternating with --repeat, each on a fresh copy of the previous night)."""
    rows = []
    for edges in args.edges or [1_000_000]:
        parquet = workdir / f"edges_{edges}.parquet"
        generated = generate(parquet, edges)
        for fraction in args.increment:
            new_parquet = workdir / f"new_edges_{edges}_{fraction}.parquet"
            new_edges = generate_increment(new_parquet, edges, fraction)
            prepared = workdir / f"previous_{edges}_{fraction}.duckdb"
            db = workdir / f"tonight_{edges}_{fraction}.duckdb"
            previous = child(
                ["prepare", str(parquet), str(new_parquet), str(prepared), str(args.removed)]
            )
            inc_runs, full_runs = [], []
            for _ in range(args.repeat):
                db.unlink(missing_ok=True)
                shutil.copyfile(prepared, db)
                inc_runs.append(child(["increment", str(db)], args.max_load))
                full_runs.append(child(["full", str(db)], args.max_load))
            inc = min(inc_runs, key=lambda r: r["seconds"])
            full = min(full_runs, key=lambda r: r["seconds"])
            row = {
                "edges_generated": generated,
                "fraction": fraction,
                "new_edges": new_edges,
                "previous": previous,
                "incremental": inc,
                "full": full,
                "incremental_all_seconds": [round(r["seconds"], 2) for r in inc_runs],
                "full_all_seconds": [round(r["seconds"], 2) for r in full_runs],
                "ratio_full_over_incremental": full["seconds"] / inc["seconds"],
                "identical": all(r["differing_rows"] == 0 for r in full_runs),
            }
            rows.append(row)
            print(
                f"{generated:>11,} edges + {fraction:.1%} ({new_edges:,} new edges, "
                f"{inc['new_nodes']:,} new nodes, {previous['removed_edges']:,} edges removed) "
                f"| nightly {inc['seconds']:6.2f} s "
                f"({inc['reopened_components']:,} components reopened, "
                f"{inc['touched_components']:,} touched, "
                f"{inc['retired_keys']:,} keys retired, {inc['changed_rows']:,} rows written, "
                f"peak RSS {inc['peak_rss_mb']:,.0f} MB) | full {full['seconds']:6.2f} s "
                f"(peak RSS {full['peak_rss_mb']:,.0f} MB) | full / incremental "
                f"{row['ratio_full_over_incremental']:.0f}x | identical: {row['identical']} | "
                f"runs incremental {row['incremental_all_seconds']} full {row['full_all_seconds']}"
                f" | load at start incremental {[r['load_at_start'] for r in inc_runs]} "
                f"full {[r['load_at_start'] for r in full_runs]}",
                flush=True,
            )
    print(json.dumps(rows, indent=1))
    if not all(r["identical"] for r in rows):
        sys.exit(1)


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
    parser.add_argument(
        "--increment",
        type=float,
        action="append",
        help="time a nightly increment of this fraction of the edges (repeatable), "
        "incremental re-stitch against a full run, instead of the networkx comparison",
    )
    parser.add_argument(
        "--removed",
        type=float,
        default=0.0001,
        help="with --increment: the share of the old edges gone tonight (default 0.0001)",
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=None,
        help="before each timed run, wait (up to 20 min) for the 1-minute load average "
        "to fall below this",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        side, *rest = args.child
        run = {
            "duckdb": run_duckdb,
            "networkx": run_networkx,
            "prepare": prepare_increment,
            "increment": run_increment,
            "full": run_full,
        }[side]
        result = run(*rest)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="identity_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.increment:
        increments(args, workdir)
        return
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
                    [
                        "duckdb",
                        str(parquet),
                        str(db),
                        str(workdir / f"duckdb_{edges}.parquet"),
                        key,
                    ],
                    args.max_load,
                )
            )
            nx_runs.append(
                child(
                    ["networkx", str(parquet), str(workdir / f"networkx_{edges}.parquet"), key],
                    args.max_load,
                )
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
            f"runs duckdb {ddb['all_seconds']} networkx {nxr['all_seconds']} | load at start "
            f"duckdb {[r['load_at_start'] for r in ddb_runs]} "
            f"networkx {[r['load_at_start'] for r in nx_runs]}",
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
