"""Connected components of the identity graph, set-based in DuckDB.

`connected_components(con, edges_table, out_table)` reads an edge list (two columns of node
values, any type DuckDB can sort: text identifiers here) and writes one row per node with
its component. Everything runs as SQL on the given connection; nothing is pulled into
Python except a few counts per round.

Algorithm (docs/identity.md has the long form):

1. **Encode.** Every distinct node gets an integer surrogate id: a 64-bit hash of the node,
   computed in the same scan that reads the edges (no sort, no join). The hashes are
   checked to be distinct over the nodes; a collision (or ids="rank") gives ranks in
   (priority, node) order instead. Edges become distinct integer pairs (u < v);
   self-loops, duplicates and NULL ends drop out.
2. **Contract, round by round.** On the working edge set W:
   - m(x) = min(x, neighbours of x); p(x) = min over x and its neighbours y of m(y)
     (two hops of min-label propagation in one round: a star is done in one round);
   - pointer jumping p(x) ← p(p(x)) until no pointer changes (a chain of parents
     collapses in log2(depth) steps, not depth steps);
   - every x with p(x) ≠ x (only those are stored) is recorded in the round's parent
     table and leaves W; W is rewritten to its roots: W' = distinct (p(u), p(v)),
     p(u) ≠ p(v).
   The loop stops when W is empty: then a further propagation round would change no label.
   Each round removes at least every node that has a smaller neighbour, so W shrinks fast
   (the person-shaped benchmark: 5-7 rounds, W ~15x smaller after round 1; a long chain
   takes about log of its length).
3. **Resolve**, last round first: a parent recorded in round r was a root then, and its
   own root (if it got one later) is already resolved: one join per round. Nodes never
   re-parented are their own root. The component's key (`component_node`) is its
   smallest node in (priority, node) order — the priority being e.g. first-seen time
   (`nodes_table` + `order_by`), missing priorities last: with hashes an `arg_min` per
   component, with ranks simply the node of the smallest id.
4. **Check.** One pass over the encoded edges: both ends of every edge must carry the same
   component, and every component id must be its smallest member. If so, min-label
   propagation has reached its fixed point (`converged = True`). `max_rounds` is only a
   safety net: hitting it raises `NotConvergedError`, it is never the stopping rule.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")


class NotConvergedError(RuntimeError):
    """Label propagation did not reach a fixed point within the safety bound."""


@dataclass(frozen=True)
class ComponentStats:
    """What one stitching run did."""

    nodes: int
    edges: int  # distinct undirected edges between different nodes, after encoding
    components: int
    rounds: int  # contraction rounds until the working edge set was empty
    jumps: int  # pointer-jumping steps, all rounds plus the final resolution
    converged: bool  # the fixed-point check passed (see module docstring, step 4)
    seconds: float
    edges_per_round: tuple[int, ...] = field(default_factory=tuple)
    # seconds per phase: encode, rounds, resolve, check, write
    phase_seconds: dict[str, float] = field(default_factory=dict)


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def _scalar(con: Any, sql: str) -> Any:
    # fetchall(): DuckDB 2.0 refuses new queries while a result is unfinished.
    return con.execute(sql).fetchall()[0][0]


def _jump(con: Any, table: str, max_steps: int) -> int:
    """Pointer jumping on `table(x, p)` until no pointer changes; returns the steps taken.

    The table holds the non-roots of a forest (p(x) < x; a root has no row). Each step
    rewrites the table once, p(x) <- p(p(x)), and counts the pointers that moved; a step
    that moves none ends the loop.
    """
    steps = 0
    while True:
        con.execute(
            f"""
            create or replace temp table {table} as
            select a.x, coalesce(b.p, a.p) as p, coalesce(b.p <> a.p, false) as moved
            from {table} as a
            left join {table} as b on a.p = b.x
            """
        )
        if _scalar(con, f"select count(*) from {table} where moved") == 0:
            return steps
        steps += 1
        if steps > max_steps:
            raise NotConvergedError(f"pointer jumping on {table} did not settle")


def connected_components(
    con: Any,
    edges_table: str,
    out_table: str,
    *,
    node_a: str = "node_a",
    node_b: str = "node_b",
    nodes_table: str | None = None,
    node: str = "node",
    order_by: str | None = None,
    max_rounds: int = 200,
    temporary: bool = False,
    ids: str = "auto",
    with_key: bool = True,
) -> ComponentStats:
    """Write `out_table(node, node_id, component_id, component_node)`, one row per node.

    - `edges_table(node_a, node_b)`: one row per asserted pair (duplicates, self-loops and
      NULL ends are allowed and ignored).
    - `nodes_table(node, …)`: optional; adds isolated nodes and, with `order_by` (a SQL
      expression over its columns, e.g. ``"first_seen_at"``), decides which node is a
      component's key: the smallest in (priority, node) order, missing priorities last.
      Without it the key is the smallest node.
    - `component_id` is the smallest surrogate id in the component (a rank or a hash: a
      label within this run only) and `component_node` the component's key: its smallest
      node in (priority, node) order.

    - `temporary`: write `out_table` as a temporary table (connection-local).
    - `ids`: "auto" (64-bit hashes, ranks if two nodes collide) or "rank" (always ranks).
    - `with_key=False`: leave out `component_node` (the key costs a per-component
      aggregate and a text column per node; the integer component_id still partitions).

    Raises NotConvergedError when `max_rounds` is exceeded (a safety net, never the stopping
    rule: rounds grow with the log of a chain's length; the default 200 is far beyond any
    real graph) or the final fixed-point check fails.
    """
    started = time.perf_counter()
    phases: dict[str, float] = {}
    mark = started

    def lap(phase: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[phase] = now - mark
        mark = now

    edges_table, out_table = _ident(edges_table), _ident(out_table)
    a, b, node = _ident(node_a), _ident(node_b), _ident(node)

    # 1. Encode. ids are 64-bit hashes of the node, computed in the edge scan itself (no
    # sort, no join); the component key is then its smallest node in (priority, node)
    # order, taken per component at the end. A hash collision (checked, never assumed
    # away) or ids="rank" gives ranks in (priority, node) order instead: then the
    # smallest id of a component is its key.
    if ids not in ("auto", "rank"):
        raise ValueError(f"ids must be 'auto' or 'rank', not {ids!r}")
    if nodes_table is None:
        all_nodes = f"""
            select {a} as node, null as priority from {edges_table} where {a} is not null
            union all
            select {b}, null from {edges_table} where {b} is not null"""
    else:
        nodes_table = _ident(nodes_table)
        all_nodes = f"""
            select {node} as node, {order_by or "null"} as priority from {nodes_table}
            where {node} is not null
            union all
            select {a}, null from {edges_table} where {a} is not null
            union all
            select {b}, null from {edges_table} where {b} is not null"""
    has_priority = nodes_table is not None and order_by is not None
    hashed = ids == "auto"
    if hashed:
        if has_priority:
            con.execute(
                f"""
                create or replace temp table _cc_nodes as
                with all_nodes as ({all_nodes}
                )
                select node, hash(node) as id, min(priority) as priority
                from all_nodes group by node
                """
            )
        else:
            con.execute(
                f"""
                create or replace temp table _cc_nodes as
                with distinct_nodes as (
                    select {a} as node from {edges_table} where {a} is not null
                    union
                    select {b} from {edges_table} where {b} is not null
                    {f"union select {node} from {nodes_table}" if nodes_table else ""}
                )
                select node, hash(node) as id from distinct_nodes
                """
            )
        hashed = _scalar(con, "select count(distinct id) = count(*) from _cc_nodes")
    if hashed:
        id_type = "ubigint"
        con.execute(
            f"""
            create or replace temp table _cc_edges as
            select distinct least(hash({a}), hash({b})) as u, greatest(hash({a}), hash({b})) as v
            from {edges_table}
            where {a} is not null and {b} is not null and {a} <> {b}
            """
        )
    else:
        id_type = "integer"
        con.execute(
            f"""
            create or replace temp table _cc_nodes as
            with all_nodes as ({all_nodes}
            ),
            distinct_nodes as (
                select node, min(priority) as priority from all_nodes group by node
            )
            select
                node,
                cast(row_number() over (order by priority asc nulls last, node) - 1 as integer)
                    as id
            from distinct_nodes
            """
        )
        con.execute(
            f"""
            create or replace temp table _cc_edges as
            select distinct least(na.id, nb.id) as u, greatest(na.id, nb.id) as v
            from {edges_table} as e
            join _cc_nodes as na on e.{a} = na.node
            join _cc_nodes as nb on e.{b} = nb.node
            where na.id <> nb.id
            """
        )
    n_nodes = _scalar(con, "select count(*) from _cc_nodes")
    n_edges = _scalar(con, "select count(*) from _cc_edges")

    lap("encode")

    # 2. Contract until no edge is left between two different roots.
    con.execute("create or replace temp table _cc_work as select u, v from _cc_edges")
    rounds, jumps, per_round = 0, 0, []
    remaining = n_edges
    while remaining > 0:
        rounds += 1
        if rounds > max_rounds:
            raise NotConvergedError(
                f"{remaining} edges still between different labels after {max_rounds} rounds"
            )
        per_round.append(remaining)
        con.execute(
            """
            create or replace temp table _cc_m as
            select v as x, min(u) as m from _cc_work group by v
            """
        )
        # p(x) = min over x's neighbours y of m(y) (m(y) = y when y has no smaller
        # neighbour). It is at most m(x) (each neighbour y has m(y) <= y) and at most x
        # (x is a neighbour of each of its neighbours). Only x with p(x) < x are kept:
        # a node absent from _cc_p is a root of this round.
        con.execute(
            """
            create or replace temp table _cc_p as
            with candidates as (
                select w.u as x, coalesce(mv.m, w.v) as c
                from _cc_work as w left join _cc_m as mv on w.v = mv.x
                union all
                select w.v, coalesce(mu.m, w.u)
                from _cc_work as w left join _cc_m as mu on w.u = mu.x
            )
            select x, min(c) as p from candidates group by x having min(c) < x
            """
        )
        jumps += _jump(con, "_cc_p", max_rounds)
        con.execute(
            """
            create or replace temp table _cc_work as
            with mapped as (
                select coalesce(pu.p, w.u) as pu, coalesce(pv.p, w.v) as pv
                from _cc_work as w
                left join _cc_p as pu on w.u = pu.x
                left join _cc_p as pv on w.v = pv.x
            )
            select distinct least(pu, pv) as u, greatest(pu, pv) as v
            from mapped
            where pu <> pv
            """
        )
        con.execute(f"alter table _cc_p rename to _cc_parent_{rounds}")
        remaining = _scalar(con, "select count(*) from _cc_work")

    lap("rounds")

    # 3. Resolve, last round first: a parent recorded in round r was a root in round r and
    # got its own root (if any) in a later round, already resolved. One join per round.
    con.execute(f"create or replace temp table _cc_root (x {id_type}, p {id_type})")
    for r in range(rounds, 0, -1):
        con.execute(
            f"""
            insert into _cc_root
            select pr.x, coalesce(later.p, pr.p)
            from _cc_parent_{r} as pr left join _cc_root as later on pr.p = later.x
            """
        )
        con.execute(f"drop table _cc_parent_{r}")
    lap("resolve")

    # 4. Fixed-point check, on the integer labels (label(x) = root of x, x itself if none):
    #    no edge joins two different labels, so one more round of min-label propagation
    #    would change nothing; every label is a root (not itself re-parented) and smaller
    #    than the nodes it labels, so it is its component's minimum.
    bad_edges = _scalar(
        con,
        """
        select count(*) from _cc_edges as e
        left join _cc_root as ru on e.u = ru.x
        left join _cc_root as rv on e.v = rv.x
        where coalesce(ru.p, e.u) <> coalesce(rv.p, e.v)
        """,
    )
    bad_labels = _scalar(
        con,
        """
        select count(*) from _cc_root as r
        left join _cc_root as rr on r.p = rr.x
        where r.p >= r.x or rr.x is not null
        """,
    )
    if bad_edges or bad_labels:
        raise NotConvergedError(
            f"fixed-point check failed: {bad_edges} edges across labels, "
            f"{bad_labels} labels not their component's minimum"
        )
    n_components = n_nodes - _scalar(con, "select count(*) from _cc_root")

    lap("check")

    temp = "temp " if temporary else ""
    if not with_key:
        con.execute(
            f"""
            create or replace {temp}table {out_table} as
            select n.node, n.id as node_id, coalesce(r.p, n.id) as component_id
            from _cc_nodes as n
            left join _cc_root as r on n.id = r.x
            """
        )
    elif hashed:
        # The key of a component: its smallest node in (priority, node) order, missing
        # priorities last.
        if has_priority:
            priority = ", n.priority"
            key = "arg_min(node, {'missing': priority is null, 'priority': priority, 'node': node})"
        else:
            priority, key = "", "min(node)"
        con.execute(
            f"""
            create or replace {temp}table {out_table} as
            with labelled as (
                select n.node, n.id as node_id, coalesce(r.p, n.id) as component_id{priority}
                from _cc_nodes as n
                left join _cc_root as r on n.id = r.x
            ),
            keys as (
                select component_id, {key} as component_node
                from labelled group by component_id
            )
            select labelled.node, labelled.node_id, labelled.component_id, keys.component_node
            from labelled join keys on labelled.component_id = keys.component_id
            """
        )
    else:
        con.execute(
            f"""
            create or replace {temp}table {out_table} as
            select
                n.node,
                n.id as node_id,
                coalesce(r.p, n.id) as component_id,
                coalesce(roots.node, n.node) as component_node
            from _cc_nodes as n
            left join _cc_root as r on n.id = r.x
            left join _cc_nodes as roots on r.p = roots.id
            """
        )
    for table in ("_cc_nodes", "_cc_edges", "_cc_work", "_cc_m", "_cc_p", "_cc_root"):
        con.execute(f"drop table if exists {table}")
    lap("write")
    return ComponentStats(
        nodes=n_nodes,
        edges=n_edges,
        components=n_components,
        rounds=rounds,
        jumps=jumps,
        converged=True,
        seconds=time.perf_counter() - started,
        edges_per_round=tuple(per_round),
        phase_seconds=phases,
    )
