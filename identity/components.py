"""Connected components of the identity graph, set-based in DuckDB.

`connected_components(con, edges_table, out_table)` reads an edge list (two columns of node
values, any type DuckDB can sort: text identifiers here) and writes one row per node with
its component. Everything runs as SQL on the given connection; nothing is pulled into
Python except a few counts per round.

Algorithm (docs/identity.md has the long form):

1. **Encode.** Every distinct node gets an integer surrogate id: a 64-bit hash of the node,
   computed in the same scan that reads the edges (no sort, no join). Edges become
   distinct integer pairs (u < v); self-loops, duplicates and NULL ends drop out. The
   hashes are checked to be distinct over the nodes at the end, where it costs no extra
   scan (see 5.); a collision (or ids="rank") gives ranks in (priority, node) order
   instead, and the stitching runs again on them.
2. **Contract, round by round.** A round is two passes over the working edge set W (at
   first all edges); each pass hooks nodes to smaller ones, then contracts W:
   - the first pass hooks every node to its smallest neighbour, m(x) (one hop);
   - the second, on the contracted W, hooks every node x to p(x) = min over x's
     neighbours y of m(y) (two hops: a star is done in one pass);
   - after hooking, pointer jumping p(x) <- p(p(x)) until every pointer is a root (a
     chain of parents collapses in log2(depth) steps; only the nodes whose parent moved
     are rewritten);
   - every hooked x is recorded in the pass's parent table and leaves W; W is rewritten
     to its roots: W' = distinct (p(u), p(v)), p(u) <> p(v).
   The loop stops when W is empty: then a further propagation round would change no label.
   A pass removes every node that has a smaller neighbour, so W shrinks fast (the
   person-shaped benchmark: W ~4x smaller after the one-hop pass, ~1,000x after the round; a
   long chain takes about log of its length).
3. **Resolve**, last pass first: a parent recorded in pass r was a root then, and its own
   root (if it got one later) is already resolved: one join per pass. Nodes never
   re-parented are their own root.
4. **Check.** One pass over the encoded edges: both ends of every edge carry the same
   label. With step 5's check that every label is the smallest id it labels, min-label
   propagation has reached its fixed point (`converged = True` only after both).
   `max_rounds` is only a safety net: hitting it raises `NotConvergedError`, it is never
   the stopping rule.
5. **Write.** The component's key (`component_node`) is its smallest node in (priority,
   node) order — the priority being e.g. first-seen time (`nodes_table` + `order_by`),
   missing priorities last: with hashes a window aggregate per component over the
   labelled nodes (one pass, no join back; the rows come out grouped by component), with
   ranks simply the node of the smallest id. The node column is written FSST-compressed
   (the identifiers are distinct strings: DuckDB's analysis of the other methods would be
   wasted). One aggregate over the written table then checks that every label is its
   component's smallest id and counts the components: with distinct ids, nodes =
   non-root nodes + components, else two nodes share a hash (the run is redone on ranks).

`restitch_incremental(con, previous_table, new_edges_table, out_table)` re-stitches only
the components that edges added since the previous run touch; see its docstring.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .phases import PhaseClock

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")

# Hops of the passes of one round (see the module docstring, step 2).
_ROUND = (1, 2)
# The SQL function giving a node its 64-bit surrogate id (tests swap in a colliding one).
_HASH = "hash"


class NotConvergedError(RuntimeError):
    """Label propagation did not reach a fixed point within the safety bound."""


@dataclass(frozen=True)
class ComponentStats:
    """What one stitching run did."""

    nodes: int
    edges: int  # distinct undirected edges between different nodes, after encoding
    components: int
    rounds: int  # contraction rounds until the working edge set was empty
    jumps: int  # pointer-jumping steps, all passes
    converged: bool  # the fixed-point check passed (see module docstring, step 4)
    seconds: float
    edges_per_round: tuple[int, ...] = field(default_factory=tuple)  # W at each pass
    # seconds per phase: encode, rounds, resolve, check, write
    phase_seconds: dict[str, float] = field(default_factory=dict)
    ids: str = "hash"  # the surrogate ids used: "hash" or "rank" (requested or a collision)


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def _scalar(con: Any, sql: str) -> Any:
    # fetchall(): DuckDB 2.0 refuses new queries while a result is unfinished.
    return con.execute(sql).fetchall()[0][0]


def _drop(con: Any, *tables: str) -> None:
    for table in tables:
        con.execute(f"drop table if exists {table}")


def _drop_working_tables(con: Any, keep: str) -> None:
    """Drop the temporary `_cc_*` tables (all but `keep`)."""
    names = con.execute(
        r"""
        select table_name from duckdb_tables()
        where temporary and table_name like '\_cc\_%' escape '\'
        """
    ).fetchall()
    _drop(con, *(name for (name,) in names if name != keep))


def _jump(con: Any, table: str, max_steps: int) -> int:
    """Pointer jumping on `table(x, p)` until every pointer is a root; returns the steps.

    The table holds the non-roots of a forest (p(x) < x; a root has no row). Only the nodes
    whose parent is not a root can move, so the first step collects just those (with
    p(p(x))) in `_cc_a`; each further step rewrites `_cc_a` alone, looking parents up in
    `_cc_a` first (their current pointer) and in `table` second (a node outside `_cc_a`
    already points at a root). A step that moves no pointer ends the loop, and `_cc_a` is
    folded back into `table`.
    """
    active = _scalar(
        con,
        f"""
        create or replace temp table _cc_a as
        select a.x, b.p from {table} as a join {table} as b on a.p = b.x
        """,
    )
    if active == 0:
        _drop(con, "_cc_a")
        return 0
    steps = 1
    while True:
        con.execute(
            f"""
            create or replace temp table _cc_a2 as
            select
                a.x,
                coalesce(b.p, c.p, a.p) as p,
                b.x is not null or c.x is not null as moved
            from _cc_a as a
            left join _cc_a as b on a.p = b.x
            left join {table} as c on a.p = c.x
            """
        )
        _drop(con, "_cc_a")
        con.execute("alter table _cc_a2 rename to _cc_a")
        if _scalar(con, "select count(*) from _cc_a where moved") == 0:
            break
        steps += 1
        if steps > max_steps:
            raise NotConvergedError(f"pointer jumping on {table} did not settle")
    con.execute(
        f"""
        create or replace temp table _cc_j as
        select t.x, coalesce(a.p, t.p) as p from {table} as t left join _cc_a as a on t.x = a.x
        """
    )
    _drop(con, table, "_cc_a")
    con.execute(f"alter table _cc_j rename to {table}")
    return steps


def _hook(con: Any, work: str, hops: int) -> None:
    """`_cc_p(x, p)`: every node of `work(u, v)` hooked to a smaller one (see step 2)."""
    # m(x) = the smallest neighbour of x, for the x that have a smaller one
    con.execute(
        f"""
        create or replace temp table {"_cc_p" if hops == 1 else "_cc_m"} as
        select v as x, min(u) as {"p" if hops == 1 else "m"} from {work} group by v
        """
    )
    if hops == 1:
        return
    # p(x) = min over x's neighbours y of m(y) (m(y) = y when y has no smaller neighbour).
    # It is at most m(x) (each neighbour y has m(y) <= y) and at most x (x is a neighbour
    # of each of its neighbours). Only x with p(x) < x are kept: a node absent from _cc_p
    # is a root of this pass.
    con.execute(
        f"""
        create or replace temp table _cc_p as
        with candidates as (
            select w.u as x, coalesce(mv.m, w.v) as c
            from {work} as w left join _cc_m as mv on w.v = mv.x
            union all
            select w.v, coalesce(mu.m, w.u)
            from {work} as w left join _cc_m as mu on w.u = mu.x
        )
        select x, min(c) as p from candidates group by x having min(c) < x
        """
    )
    _drop(con, "_cc_m")


def _write_table(con: Any, out_table: str, select: str, *, temporary: bool) -> None:
    """`create table out_table as select`, the `node` column FSST-compressed if it is text.

    The nodes are distinct strings: FSST is what DuckDB would pick for them, and naming it
    spares the analysis of the other methods (~1 s at 10M rows). Other columns are left to
    DuckDB (the component key, grouped by component, compresses to a dictionary).
    """
    columns = []
    for name, column_type, *_ in con.execute(f"describe {select}").fetchall():
        hint = " using compression fsst" if name == "node" and column_type == "VARCHAR" else ""
        columns.append(f'"{name}" {column_type}{hint}')
    temp = "temp " if temporary else ""
    con.execute(f"create or replace {temp}table {out_table} ({', '.join(columns)})")
    con.execute(f"insert into {out_table} {select}")


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
    if ids not in ("auto", "rank"):
        raise ValueError(f"ids must be 'auto' or 'rank', not {ids!r}")
    names = {
        "edges_table": _ident(edges_table),
        "out_table": _ident(out_table),
        "a": _ident(node_a),
        "b": _ident(node_b),
        "nodes_table": None if nodes_table is None else _ident(nodes_table),
        "node": _ident(node),
    }
    started = time.perf_counter()
    try:
        stats = None
        for hashed in (True, False) if ids == "auto" else (False,):
            _drop_working_tables(con, keep=out_table)
            stats = _stitch(
                con,
                **names,
                order_by=order_by,
                max_rounds=max_rounds,
                temporary=temporary,
                hashed=hashed,
                with_key=with_key,
            )
            if stats is not None:
                break  # else two nodes share a hash: ranks instead
    finally:
        _drop_working_tables(con, keep=out_table)
    return ComponentStats(**{**stats.__dict__, "seconds": time.perf_counter() - started})


class _Contraction(NamedTuple):
    """What step 2 did: the parent table of each pass is `_cc_parent_<pass>`."""

    rounds: int
    passes: int
    jumps: int
    edges_per_pass: tuple[int, ...]


def _stitch(
    con: Any,
    *,
    edges_table: str,
    out_table: str,
    a: str,
    b: str,
    nodes_table: str | None,
    node: str,
    order_by: str | None,
    max_rounds: int,
    temporary: bool,
    hashed: bool,
    with_key: bool,
) -> ComponentStats | None:
    """One stitching run; None when hashed ids collide (the caller then uses ranks).

    The steps of the module docstring, each a function: `_encode_nodes_and_edges` (1.),
    `_contract` (2.), `_resolve_roots` (3.), `_check_fixed_point` (4.),
    `_write_components` (5.).
    """
    clock = PhaseClock()
    has_priority = nodes_table is not None and order_by is not None
    n_nodes, n_edges = _encode_nodes_and_edges(
        con,
        edges_table=edges_table,
        a=a,
        b=b,
        nodes_table=nodes_table,
        node=node,
        order_by=order_by,
        hashed=hashed,
    )
    clock.lap("encode")
    contraction = _contract(con, n_edges, max_rounds)
    clock.lap("rounds")
    n_root = _resolve_roots(con, contraction.passes, "ubigint" if hashed else "integer")
    clock.lap("resolve")
    _check_fixed_point(con)
    clock.lap("check")
    n_components = _write_components(
        con,
        out_table,
        n_nodes=n_nodes,
        n_root=n_root,
        hashed=hashed,
        has_priority=has_priority,
        with_key=with_key,
        temporary=temporary,
    )
    if n_components is None:
        return None  # two nodes share a hash: ranks instead
    clock.lap("write")
    return ComponentStats(
        nodes=n_nodes,
        edges=n_edges,
        components=n_components,
        rounds=contraction.rounds,
        jumps=contraction.jumps,
        converged=True,
        seconds=clock.total(),
        edges_per_round=contraction.edges_per_pass,
        phase_seconds=clock.seconds,
        ids="hash" if hashed else "rank",
    )


def _encode_nodes_and_edges(
    con: Any,
    *,
    edges_table: str,
    a: str,
    b: str,
    nodes_table: str | None,
    node: str,
    order_by: str | None,
    hashed: bool,
) -> tuple[int, int]:
    """1. Encode: `_cc_nodes(node, id[, priority])` and `_cc_edges(u, v)`, u < v; returns
    the counts of nodes and edges.

    ids are 64-bit hashes of the node, computed in the edge scan itself (no sort, no join);
    the component key is then its smallest node in (priority, node) order, taken per
    component at the end. A hash collision (checked at the end, never assumed away) or
    ids="rank" gives ranks in (priority, node) order instead: then the smallest id of a
    component is its key.
    """
    if hashed:
        return _encode_hashed(
            con,
            edges_table=edges_table,
            a=a,
            b=b,
            nodes_table=nodes_table,
            node=node,
            order_by=order_by,
        )
    return _encode_ranked(
        con,
        edges_table=edges_table,
        a=a,
        b=b,
        nodes_table=nodes_table,
        node=node,
        order_by=order_by,
    )


def _all_nodes_sql(
    *, edges_table: str, a: str, b: str, nodes_table: str | None, node: str, order_by: str | None
) -> str:
    """Every node occurrence with its priority (NULL from the edges), duplicates and all."""
    if nodes_table is None:
        return f"""
            select {a} as node, null as priority from {edges_table} where {a} is not null
            union all
            select {b}, null from {edges_table} where {b} is not null"""
    return f"""
            select {node} as node, {order_by or "null"} as priority from {nodes_table}
            where {node} is not null
            union all
            select {a}, null from {edges_table} where {a} is not null
            union all
            select {b}, null from {edges_table} where {b} is not null"""


def _encode_hashed(
    con: Any,
    *,
    edges_table: str,
    a: str,
    b: str,
    nodes_table: str | None,
    node: str,
    order_by: str | None,
) -> tuple[int, int]:
    """1. with ids = 64-bit hashes of the nodes (`_HASH`), edges encoded in their own scan."""
    if nodes_table is not None and order_by is not None:
        all_nodes = _all_nodes_sql(
            edges_table=edges_table,
            a=a,
            b=b,
            nodes_table=nodes_table,
            node=node,
            order_by=order_by,
        )
        n_nodes = _scalar(
            con,
            f"""
            create or replace temp table _cc_nodes as
            with all_nodes as ({all_nodes}
            )
            select node, {_HASH}(node) as id, min(priority) as priority
            from all_nodes group by node
            """,
        )
    else:
        n_nodes = _scalar(
            con,
            f"""
            create or replace temp table _cc_nodes as
            with distinct_nodes as (
                select {a} as node from {edges_table} where {a} is not null
                union
                select {b} from {edges_table} where {b} is not null
                {f"union select {node} from {nodes_table}" if nodes_table else ""}
            )
            select node, {_HASH}(node) as id from distinct_nodes
            """,
        )
    n_edges = _scalar(
        con,
        f"""
        create or replace temp table _cc_edges as
        select distinct least(ha, hb) as u, greatest(ha, hb) as v
        from (
            select {_HASH}({a}) as ha, {_HASH}({b}) as hb from {edges_table}
            where {a} is not null and {b} is not null
        )
        where ha <> hb
        """,
    )
    return n_nodes, n_edges


def _encode_ranked(
    con: Any,
    *,
    edges_table: str,
    a: str,
    b: str,
    nodes_table: str | None,
    node: str,
    order_by: str | None,
) -> tuple[int, int]:
    """1. with ids = ranks in (priority, node) order, edges encoded by joining the nodes."""
    all_nodes = _all_nodes_sql(
        edges_table=edges_table, a=a, b=b, nodes_table=nodes_table, node=node, order_by=order_by
    )
    n_nodes = _scalar(
        con,
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
        """,
    )
    n_edges = _scalar(
        con,
        f"""
        create or replace temp table _cc_edges as
        select distinct least(na.id, nb.id) as u, greatest(na.id, nb.id) as v
        from {edges_table} as e
        join _cc_nodes as na on e.{a} = na.node
        join _cc_nodes as nb on e.{b} = nb.node
        where na.id <> nb.id
        """,
    )
    return n_nodes, n_edges


def _contract(con: Any, n_edges: int, max_rounds: int) -> _Contraction:
    """2. Contract `_cc_edges`, round by round, until no edge is left between two
    different roots; each pass records its parents in `_cc_parent_<pass>`."""
    rounds, passes, jumps, per_pass = 0, 0, 0, []
    remaining, work = n_edges, "_cc_edges"
    while remaining > 0:
        rounds += 1
        if rounds > max_rounds:
            raise NotConvergedError(
                f"{remaining} edges still between different labels after {max_rounds} rounds"
            )
        for hops in _ROUND:
            if remaining == 0:
                break
            passes += 1
            per_pass.append(remaining)
            _hook(con, work, hops)
            jumps += _jump(con, "_cc_p", max_rounds)
            remaining = _rewrite_work_to_roots(con, work)
            if work != "_cc_edges":
                _drop(con, work)
            con.execute("alter table _cc_work_next rename to _cc_work")
            work = "_cc_work"
            con.execute(f"alter table _cc_p rename to _cc_parent_{passes}")
    return _Contraction(rounds, passes, jumps, tuple(per_pass))


def _rewrite_work_to_roots(con: Any, work: str) -> int:
    """`_cc_work_next`: W' = distinct (p(u), p(v)), p(u) <> p(v), after a pass hooked the
    nodes of `work` (`_cc_p`); returns its edge count."""
    return _scalar(
        con,
        f"""
        create or replace temp table _cc_work_next as
        with mapped as (
            select coalesce(pu.p, w.u) as pu, coalesce(pv.p, w.v) as pv
            from {work} as w
            left join _cc_p as pu on w.u = pu.x
            left join _cc_p as pv on w.v = pv.x
        )
        select distinct least(pu, pv) as u, greatest(pu, pv) as v
        from mapped
        where pu <> pv
        """,
    )


def _resolve_roots(con: Any, passes: int, id_type: str) -> int:
    """3. `_cc_root(x, p)`: every non-root node and its root; returns its row count.

    Last pass first: a parent recorded in pass r was a root in pass r and got its own root
    (if any) in a later pass, already resolved. One join per pass.
    """
    con.execute(f"create or replace temp table _cc_root (x {id_type}, p {id_type})")
    n_root = 0
    for r in range(passes, 0, -1):
        n_root += _scalar(
            con,
            f"""
            insert into _cc_root
            select pr.x, coalesce(later.p, pr.p)
            from _cc_parent_{r} as pr left join _cc_root as later on pr.p = later.x
            """,
        )
        _drop(con, f"_cc_parent_{r}")
    return n_root


def _check_fixed_point(con: Any) -> None:
    """4. Fixed-point check, on the integer labels (label(x) = root of x, x itself if none):
    no edge joins two different labels, so one more round of min-label propagation would
    change nothing. (That every label is the smallest id it labels, so the component's
    minimum, is checked in 5. on the per-component aggregate.)"""
    bad_edges = _scalar(
        con,
        """
        select count(*) from _cc_edges as e
        left join _cc_root as ru on e.u = ru.x
        left join _cc_root as rv on e.v = rv.x
        where coalesce(ru.p, e.u) <> coalesce(rv.p, e.v)
        """,
    )
    if bad_edges:
        raise NotConvergedError(f"fixed-point check failed: {bad_edges} edges across labels")


def _write_components(
    con: Any,
    out_table: str,
    *,
    n_nodes: int,
    n_root: int,
    hashed: bool,
    has_priority: bool,
    with_key: bool,
    temporary: bool,
) -> int | None:
    """5. Write `out_table` and check it; returns the count of components, or None (nothing
    written) when two nodes share a hash.

    Per component of the written table: its smallest id (must be its label) and the count
    of components (with distinct ids, nodes = non-root nodes + components: else two nodes
    share a hash).
    """
    _write_table(
        con,
        out_table,
        _labelled_nodes_sql(hashed=hashed, has_priority=has_priority, with_key=with_key),
        temporary=temporary,
    )
    n_components, bad_labels = con.execute(
        f"""
        select count(*), count(*) filter (where smallest <> component_id)
        from (
            select component_id, min(node_id) as smallest from {out_table}
            group by component_id
        )
        """
    ).fetchall()[0]
    if hashed and n_nodes != n_root + n_components:
        _drop(con, out_table)
        return None
    if bad_labels:
        _drop(con, out_table)
        raise NotConvergedError(
            f"fixed-point check failed: {bad_labels} labels not their component's minimum"
        )
    return n_components


def _labelled_nodes_sql(*, hashed: bool, has_priority: bool, with_key: bool) -> str:
    """The select that writes the components: every node with its label and key.

    The key of a component (hashes: its smallest node in (priority, node) order, missing
    priorities last; ranks: the node of its smallest id) as a window aggregate over the
    labelled nodes — one pass, no join back (the rows come out grouped by component).
    """
    labelled = """
        select n.node, n.id as node_id, coalesce(r.p, n.id) as component_id{priority}
        from _cc_nodes as n left join _cc_root as r on n.id = r.x"""
    if not with_key:
        return labelled.format(priority="")
    if hashed:
        key, priority = "min(node)", ""
        if has_priority:
            key = "arg_min(node, {'missing': priority is null, 'priority': priority, 'node': node})"
            priority = ", n.priority"
        return f"""
            select node, node_id, component_id,
                {key} over (partition by component_id) as component_node
            from ({labelled.format(priority=priority)}) as labelled"""
    return """
            select
                n.node,
                n.id as node_id,
                coalesce(r.p, n.id) as component_id,
                coalesce(roots.node, n.node) as component_node
            from _cc_nodes as n
            left join _cc_root as r on n.id = r.x
            left join _cc_nodes as roots on r.p = roots.id"""


class IncrementalNotApplicable(RuntimeError):
    """The increment cannot be applied incrementally: run `connected_components` instead."""


@dataclass(frozen=True)
class IncrementalStats:
    """What one incremental re-stitch did."""

    new_edges: int  # rows of new_edges_table
    new_nodes: int  # nodes that were not in the previous table
    touched_components: int  # previous components re-stitched (merged, grown or re-keyed)
    retired_keys: int  # previous component keys that are no longer a key (merges, re-keys)
    components: int  # components written: the touched ones after the increment + new ones
    changed_rows: int  # rows written: new nodes + nodes whose component_id or key changed
    nodes: int  # rows of out_table afterwards
    seconds: float
    stitch: ComponentStats | None  # the stitching of the touched part (None: nothing touched)
    phase_seconds: dict[str, float] = field(default_factory=dict)


# The working tables of `restitch_incremental`, dropped whatever happens.
_RI_TABLES = (
    *("_ri_ends", "_ri_edges", "_ri_touched", "_ri_members", "_ri_sub_edges"),
    *("_ri_priorities", "_ri_sub_nodes", "_ri_sub_out", "_ri_changes"),
)


class _Changes(NamedTuple):
    """Step 4 of `restitch_incremental`: what `_ri_changes` holds."""

    rows: int  # new nodes + members whose component id or key moved
    retired_keys: int
    components: int  # components of the re-stitched part


def restitch_incremental(
    con: Any,
    previous_table: str,
    new_edges_table: str,
    out_table: str,
    *,
    node_a: str = "node_a",
    node_b: str = "node_b",
    nodes_table: str | None = None,
    node: str = "node",
    order_by: str | None = None,
    new_nodes_table: str | None = None,
    touched_nodes_table: str | None = None,
    changes_table: str | None = None,
    temporary: bool = False,
    max_rounds: int = 200,
) -> IncrementalStats:
    """Add the edges (and nodes) that arrived since the previous run to its components.

    Writes into `out_table` exactly what `connected_components` would write for all edges
    (old + new) with the same `nodes_table` / `order_by`: the same rows (node, node_id,
    component_id, component_node) — same partition, same keys, same ids. Only the
    components the increment touches are re-stitched; every other row stays as it was.

    - `previous_table(node, node_id, component_id, component_node)`: the previous run's
      output, written by `connected_components` with hashed ids (`ids="auto"`, its default;
      `stats.ids == "hash"`) and the key, or by this function. It stands in for the old
      edges: an old component is connected, so for the re-stitching a star from each of
      its members to its key is as good as its edges. The full edge table is not read.
    - `new_edges_table(node_a, node_b)`: the edges added since, as for
      `connected_components` (duplicates, self-loops, NULL ends and edges already known
      are fine).
    - `out_table`: if it is `previous_table`, the table is updated in place (the changed
      rows are deleted and inserted again — a few seconds at 10M rows, not a rewrite);
      otherwise a new table (a copy with the changes: the cost of a full write).
    - `nodes_table`, `node`, `order_by`: as for `connected_components`; only the rows of
      the nodes being re-stitched are read (their priorities decide the keys).
    - `new_nodes_table(node)`: nodes that may be new without an edge (isolated nodes). With
      `nodes_table` but without it, every node of `nodes_table` missing from the previous
      table is looked up (a full anti-join: slower, same result).
    - `touched_nodes_table(node)`: existing nodes whose priority (`order_by`) changed since
      the previous run (e.g. an identifier seen earlier by late data): their components are
      re-keyed.
    - `changes_table`: also write the changed and new rows there, with
      `previous_component_id` and `previous_component_node` (NULL for a new node): the
      delta for a merge into a downstream table, and the evidence of merges.

    Contract (what the caller must guarantee; the function cannot see it cheaply):
    - edges are only added: no edge of the previous run has disappeared. A removed edge
      may split a component, and the previous components can't tell — **deletions,
      splits, erasures, a changed blocklist or edge guard need a full run**;
    - the priorities of nodes already in the previous table have not changed, except those
      listed in `touched_nodes_table`;
    - the cluster-level guards (`guards.stitch_with_guards`: keep_apart detachments, the
      size ceiling) are not applied here: `previous_table` must be the plain stitching of
      the edges, and the caller applies the guards to the result (and runs a full
      `stitch_with_guards` when a keep_apart pair ends up in one component).

    Raises IncrementalNotApplicable (nothing written) when the previous table was not
    stitched with hashed ids or a new node's hash collides with another node's: a full
    `connected_components` run handles both (it falls back to ranks).

    Steps: `_match_increment_nodes` (1.), `_find_touched_components` (2.),
    `_collect_touched_subgraph` and `_stitch_touched_subgraph` (3.), `_collect_changes`
    and `_apply_changes` (4.).
    """
    clock = PhaseClock()

    previous, new_edges, out_table = (
        _ident(previous_table),
        _ident(new_edges_table),
        _ident(out_table),
    )
    a, b, node = _ident(node_a), _ident(node_b), _ident(node)
    has_priority = nodes_table is not None and order_by is not None
    if nodes_table is not None:
        nodes_table = _ident(nodes_table)
    _check_previous_columns(con, previous)
    try:
        _check_previous_ids_hashed(con, previous)
        new_nodes = _match_increment_nodes(
            con,
            previous=previous,
            new_edges=new_edges,
            a=a,
            b=b,
            node=node,
            nodes_table=nodes_table,
            new_nodes_table=new_nodes_table,
        )
        n_new_edges, touched = _find_touched_components(
            con,
            previous=previous,
            new_edges=new_edges,
            a=a,
            b=b,
            node=node,
            touched_nodes_table=touched_nodes_table,
        )
        clock.lap("match")
        _collect_touched_subgraph(
            con, previous=previous, nodes_table=nodes_table, node=node, order_by=order_by
        )
        stitch = _stitch_touched_subgraph(con, has_priority=has_priority, max_rounds=max_rounds)
        clock.lap("stitch")
        changes = _collect_changes(con)
        _apply_changes(
            con,
            previous=previous,
            out_table=out_table,
            changes_table=changes_table,
            temporary=temporary,
        )
        nodes = _scalar(con, f"select count(*) from {out_table}")
        clock.lap("write")
    finally:
        _drop(con, *_RI_TABLES)
    return IncrementalStats(
        new_edges=n_new_edges,
        new_nodes=new_nodes,
        touched_components=touched,
        retired_keys=changes.retired_keys,
        components=changes.components,
        changed_rows=changes.rows,
        nodes=nodes,
        seconds=clock.total(),
        stitch=stitch,
        phase_seconds=clock.seconds,
    )


def _check_previous_columns(con: Any, previous: str) -> None:
    """The previous table must be a `connected_components` output with the key."""
    columns = [row[0] for row in con.execute(f"describe {previous}").fetchall()]
    if columns[:4] != ["node", "node_id", "component_id", "component_node"]:
        raise ValueError(
            f"{previous} is not a connected_components output with the key: columns {columns}"
        )


def _check_previous_ids_hashed(con: Any, previous: str) -> None:
    """The previous ids must be hashes: a few rows tell (ranks are 0, 1, 2, ...)."""
    if _scalar(
        con,
        f"""
        select count(*) from (select node, node_id from {previous} limit 100)
        where node_id is distinct from {_HASH}(node)
        """,
    ):
        raise IncrementalNotApplicable(f"{previous} was not stitched with hashed ids")


def _match_increment_nodes(
    con: Any,
    *,
    previous: str,
    new_edges: str,
    a: str,
    b: str,
    node: str,
    nodes_table: str | None,
    new_nodes_table: str | None,
) -> int:
    """1. `_ri_ends(node, id, known, collides, component_id)`: the increment's nodes,
    matched to the previous table on their hash (an integer join); a match with another
    text is a collision. Returns the count of new nodes."""
    candidates = [
        f"select {a} as node from {new_edges} where {a} is not null",
        f"select {b} from {new_edges} where {b} is not null",
    ]
    if new_nodes_table is not None:
        candidates.append(f"select {node} from {_ident(new_nodes_table)}")
    elif nodes_table is not None:
        candidates.append(
            f"""
            select n.{node} from {nodes_table} as n
            where n.{node} is not null
                and not exists (
                    select 1 from {previous} as p
                    where p.node_id = {_HASH}(n.{node}) and p.node = n.{node}
                )
            """
        )
    con.execute(
        f"""
        create or replace temp table _ri_ends as
        with ends as (
            select distinct node from ({" union all ".join(candidates)}) where node is not null
        )
        select
            ends.node,
            {_HASH}(ends.node) as id,
            p.node is not null as known,
            p.node is not null and p.node <> ends.node as collides,
            p.component_id
        from ends left join {previous} as p on p.node_id = {_HASH}(ends.node)
        """
    )
    collisions, new_nodes, new_ids = con.execute(
        """
        select count(*) filter (where collides),
            count(*) filter (where not known),
            count(distinct id) filter (where not known)
        from _ri_ends
        """
    ).fetchall()[0]
    if collisions or new_ids != new_nodes:
        raise IncrementalNotApplicable("a new node's hash collides with another node's")
    return new_nodes


def _find_touched_components(
    con: Any,
    *,
    previous: str,
    new_edges: str,
    a: str,
    b: str,
    node: str,
    touched_nodes_table: str | None,
) -> tuple[int, int]:
    """2. `_ri_edges` (the new edges that join anything) and `_ri_touched(component_id)`:
    the components a new edge joins to anything else (another component or a new node),
    and those of the re-keyed nodes. An edge inside one previous component changes
    nothing. Returns the count of new edges and of touched components."""
    con.execute(
        f"""
        create or replace temp table _ri_edges as
        -- one end, then the other: joined in one go, DuckDB may pair _ri_ends with
        -- itself first (a cross product: 160M rows for 12,645 ends, measured)
        with one_end as materialized (
            select e.{a} as node_a, e.{b} as node_b, ea.component_id as ca
            from {new_edges} as e
            join _ri_ends as ea on e.{a} = ea.node
            where e.{a} <> e.{b}
        )
        select one_end.node_a, one_end.node_b, one_end.ca, eb.component_id as cb
        from one_end
        join _ri_ends as eb on one_end.node_b = eb.node
        where one_end.ca is null or eb.component_id is null or one_end.ca <> eb.component_id
        """
    )
    n_new_edges = _scalar(con, f"select count(*) from {new_edges}")
    rekeyed = ""
    if touched_nodes_table is not None:
        rekeyed = f"""
            union
            select p.component_id from {_ident(touched_nodes_table)} as t
            join {previous} as p on p.node_id = {_HASH}(t.{node}) and p.node = t.{node}
            """
    touched = _scalar(
        con,
        f"""
        create or replace temp table _ri_touched as
        select ca as component_id from _ri_edges where ca is not null
        union
        select cb from _ri_edges where cb is not null
        {rekeyed}
        """,
    )
    return n_new_edges, touched


def _collect_touched_subgraph(
    con: Any, *, previous: str, nodes_table: str | None, node: str, order_by: str | None
) -> None:
    """3a. The part to re-stitch: `_ri_members` (the members of the touched components),
    `_ri_sub_edges` (the new edges between them and the new nodes, plus a star from each
    member to its previous key, standing in for its old edges) and
    `_ri_sub_nodes(node, priority)` (members and new nodes)."""
    has_priority = nodes_table is not None and order_by is not None
    con.execute(
        f"""
        create or replace temp table _ri_members as
        select p.node, p.node_id, p.component_id, p.component_node
        from {previous} as p
        where p.component_id in (select component_id from _ri_touched)
        """
    )
    if _scalar(con, f"select count(*) from _ri_members where node_id <> {_HASH}(node)"):
        raise IncrementalNotApplicable(f"{previous} was not stitched with hashed ids")
    con.execute(
        """
        create or replace temp table _ri_sub_edges as
        select node_a, node_b from _ri_edges
        union all
        select node, component_node from _ri_members
        """
    )
    priority = "null"
    if has_priority:
        priority = "prio.priority"
        con.execute(
            f"""
            create or replace temp table _ri_priorities as
            select {node} as node, min({order_by}) as priority
            from {nodes_table}
            where {node} in (
                select node from _ri_members
                union all
                select node from _ri_ends where not known
            )
            group by {node}
            """
        )
    con.execute(
        f"""
        create or replace temp table _ri_sub_nodes as
        with sub as (
            select node from _ri_members
            union all
            select node from _ri_ends where not known
        )
        select sub.node, {priority} as priority
        from sub {"left join _ri_priorities as prio using (node)" if has_priority else ""}
        """
    )


def _stitch_touched_subgraph(
    con: Any, *, has_priority: bool, max_rounds: int
) -> ComponentStats | None:
    """3b. `_ri_sub_out`: the touched part stitched with `connected_components` itself, so
    keys and ids are what a full run gives (the members as they were when there is
    nothing to stitch: None)."""
    if not _scalar(con, "select count(*) from _ri_sub_nodes"):
        con.execute(
            """
            create or replace temp table _ri_sub_out as
            select node, node_id, component_id, component_node from _ri_members
            """
        )
        return None
    stitch = connected_components(
        con,
        "_ri_sub_edges",
        "_ri_sub_out",
        nodes_table="_ri_sub_nodes",
        node="node",
        order_by="priority" if has_priority else None,
        temporary=True,
        max_rounds=max_rounds,
    )
    if stitch.ids != "hash":
        raise IncrementalNotApplicable("two nodes share a hash: a full run uses ranks")
    return stitch


def _collect_changes(con: Any) -> _Changes:
    """4a. `_ri_changes`: new nodes, and members whose component id or key moved, with
    their previous component id and key."""
    changed = _scalar(
        con,
        """
        create or replace temp table _ri_changes as
        select
            s.node, s.node_id, s.component_id, s.component_node,
            m.component_id as previous_component_id,
            m.component_node as previous_component_node
        from _ri_sub_out as s
        left join _ri_members as m on s.node_id = m.node_id
        where m.node_id is null
            or m.component_id <> s.component_id
            or m.component_node <> s.component_node
        """,
    )
    retired = _scalar(
        con,
        """
        select count(*) from (
            select distinct component_node from _ri_members
            except
            select component_node from _ri_sub_out
        )
        """,
    )
    components = _scalar(con, "select count(distinct component_id) from _ri_sub_out")
    return _Changes(changed, retired, components)


def _apply_changes(
    con: Any, *, previous: str, out_table: str, changes_table: str | None, temporary: bool
) -> None:
    """4b. Write the changes: in place (delete and insert the changed rows) when
    `out_table` is `previous`, else a copy of `previous` with them; and `changes_table`."""
    if out_table == previous:
        con.execute(
            f"""
            delete from {previous}
            where node_id in (
                select node_id from _ri_changes where previous_component_id is not null
            )
            """
        )
        con.execute(
            f"""
            insert into {previous}
            select node, node_id, component_id, component_node from _ri_changes
            """
        )
    else:
        _write_table(
            con,
            out_table,
            f"""
            select p.node, p.node_id, p.component_id, p.component_node
            from {previous} as p
            where p.node_id not in (
                select node_id from _ri_changes where previous_component_id is not null
            )
            union all
            select node, node_id, component_id, component_node from _ri_changes
            """,
            temporary=temporary,
        )
    if changes_table is not None:
        _write_table(con, _ident(changes_table), "select * from _ri_changes", temporary=temporary)
