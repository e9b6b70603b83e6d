"""The plain (unguarded) stitching kept between nights, re-stitched only where it changed.

`stitch_nightly(con, edges_table=…, nodes_table=…, state_schema=…)` keeps four tables in
`state_schema` (the nightly job: `identity_state`, owned by int_identity__components):

- `stitched_components(node, node_id, component_id, component_node)`: the connected
  components of the edges so far (`components.connected_components`' output);
- `stitched_edges(u, v)`: the edges they were stitched from, as hashed node-id pairs;
- `stitched_nodes(node_id, priority)`: the nodes, with the priority that chose the keys;
- `stitch_runs`: one row per night — when, which mode and why, what changed, how long.

Each night it compares today's edges and nodes with the state (integer anti-joins):

- **added** edges and nodes, and priorities moved **earlier** (late data): the components
  they touch are re-stitched by `components.restitch_incremental` (a star per old
  component stands in for its edges);
- **removed** edges and nodes, and priorities moved **later**: a removal may split its
  component, and only that component. Those components are *reopened*: their rows leave
  `stitched_components`, and their surviving members go into the same re-stitch as new
  nodes, with today's edges that touch them. Every other component lost nothing, so it
  is still connected and its star still stands in for its edges.

Everything is stitched again (`connected_components`) on the first night, on request
(`force_full`), when the reopened components hold more than `max_reopened_share` of the
nodes (a full run is then cheaper), or when the increment is not applicable (hash
collisions). Either way the result is what a full run over today's edges gives
(tests/identity/test_stitch_state.py checks it night after night). The cluster-level
guards are applied to the result afterwards (`guards.stitch_with_guards`).

The state changes in one transaction (unless the caller already holds one, as dbt may:
then the caller's commit or rollback covers it), so a failed night leaves the previous
state whole.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.identity.components import (
    ComponentStats,
    IncrementalNotApplicable,
    IncrementalStats,
    _ident,
    _scalar,
    connected_components,
    restitch_incremental,
)

_STATE_TABLES = ("stitched_components", "stitched_edges", "stitched_nodes")
_TEMP_TABLES = (
    *("_ns_nodes", "_ns_edges", "_ns_gone_edges", "_ns_gone_nodes", "_ns_reopened"),
    *("_ns_reopened_components", "_ns_new_edges", "_ns_new_nodes", "_ns_rekeyed"),
)


@dataclass(frozen=True)
class NightlyStitchStats:
    """What one night's stitching did."""

    mode: str  # "incremental" or "full"
    reason: str  # why this mode (for a full run: what made the increment impossible)
    nodes: int
    edges: int  # distinct edges between different nodes
    components: int
    new_edges: int  # edges not in the previous state (all of them on a full run)
    new_nodes: int
    gone_edges: int  # edges of the previous state no longer asserted (0 on a full run)
    gone_nodes: int
    reopened_components: int  # previous components re-stitched from their edges
    seconds: float
    full: ComponentStats | None = None
    incremental: IncrementalStats | None = None


def _exists(con: Any, schema: str, table: str) -> bool:
    return bool(
        _scalar(
            con,
            f"""
            select count(*) from duckdb_tables()
            where schema_name = '{schema}' and table_name = '{table}' and not temporary
            """,
        )
    )


def stitch_nightly(
    con: Any,
    *,
    edges_table: str,
    nodes_table: str,
    state_schema: str,
    node_a: str = "identifier_key_a",
    node_b: str = "identifier_key_b",
    node: str = "identifier_key",
    order_by: str = "first_seen_at",
    force_full: bool = False,
    max_reopened_share: float = 0.25,
) -> NightlyStitchStats:
    """Bring `{state_schema}.stitched_components` up to today's edges and nodes.

    - `edges_table(node_a, node_b)`: today's edges, all of them (as for
      `connected_components`).
    - `nodes_table(node, <order_by columns>)`: today's nodes, one row each.
    """
    started = time.perf_counter()
    schema = _ident(state_schema)
    edges, nodes = _ident(edges_table), _ident(nodes_table)
    a, b, node = _ident(node_a), _ident(node_b), _ident(node)
    components = f"{schema}.stitched_components"
    con.execute(f"create schema if not exists {schema}")
    con.execute(
        f"""
        create or replace temp table _ns_nodes as
        select hash({node}) as node_id, {node} as node, {order_by} as priority
        from {nodes}
        """
    )
    con.execute(
        f"""
        create or replace temp table _ns_edges as
        select distinct least(ha, hb) as u, greatest(ha, hb) as v
        from (select hash({a}) as ha, hash({b}) as hb from {edges} where {a} <> {b})
        """
    )
    own_transaction = _begin(con)
    try:
        changes = {"gone_edges": 0, "gone_nodes": 0, "reopened_components": 0}
        full_stats = incremental_stats = None
        reason = _why_full(con, schema, force_full)
        if reason is None:
            changes, reopened_nodes = _reopen(con, schema)
            n_nodes = _scalar(con, "select count(*) from _ns_nodes")
            if reopened_nodes > max_reopened_share * n_nodes:
                reason = (
                    f"removals reopen {changes['reopened_components']} clusters holding "
                    f"{reopened_nodes} of {n_nodes} identifiers: a full run is cheaper"
                )
        if reason is None:
            try:
                incremental_stats = _restitch(con, schema, edges, a, b)
            except IncrementalNotApplicable as error:
                reason = f"increment not applicable: {error}"
                changes = {key: 0 for key in changes}
        if reason is not None:
            full_stats = _stitch_everything(con, schema, edges, a, b)
        n_nodes, n_components = con.execute(
            f"select count(*), count(distinct component_id) from {components}"
        ).fetchall()[0]
        n_edges = _scalar(con, "select count(*) from _ns_edges")
        if incremental_stats is not None:
            new_edges, new_nodes = incremental_stats.new_edges, incremental_stats.new_nodes
        else:
            new_edges, new_nodes = n_edges, n_nodes
        stats = NightlyStitchStats(
            mode="incremental" if reason is None else "full",
            reason=reason or _describe(changes),
            nodes=n_nodes,
            edges=n_edges,
            components=n_components,
            new_edges=new_edges,
            new_nodes=new_nodes,
            **changes,
            seconds=time.perf_counter() - started,
            full=full_stats,
            incremental=incremental_stats,
        )
        _record(con, schema, stats)
        if own_transaction:
            con.execute("commit")
    except BaseException:
        if own_transaction:
            con.execute("rollback")
        raise
    finally:
        for table in _TEMP_TABLES:
            con.execute(f"drop table if exists {table}")
    return stats


def _begin(con: Any) -> bool:
    """Open a transaction; False when the caller already holds one (it covers ours)."""
    try:
        con.execute("begin transaction")
    except duckdb.TransactionException:
        return False
    return True


def _why_full(con: Any, schema: str, force_full: bool) -> str | None:
    """Why today's stitching cannot build on the state (None: it can)."""
    if force_full:
        return "full re-stitch requested"
    missing = [table for table in _STATE_TABLES if not _exists(con, schema, table)]
    if missing:
        return f"no previous state ({', '.join(missing)} missing)"
    return None


def _reopen(con: Any, schema: str) -> tuple[dict[str, int], int]:
    """Take the components a removal may split out of the state (see the module docstring).

    Leaves `_ns_reopened(node_id, node)`: their members that are still nodes today.
    Returns the counts of removed edges, removed nodes and reopened components, and the
    number of reopened members.
    """
    gone_edges = _scalar(
        con,
        f"""
        create or replace temp table _ns_gone_edges as
        select u, v from {schema}.stitched_edges anti join _ns_edges using (u, v)
        """,
    )
    gone_nodes = _scalar(
        con,
        f"""
        create or replace temp table _ns_gone_nodes as
        select node_id from {schema}.stitched_nodes anti join _ns_nodes using (node_id)
        """,
    )
    reopened = _scalar(
        con,
        f"""
        create or replace temp table _ns_reopened_components as
        select distinct c.component_id
        from {schema}.stitched_components as c
        semi join (
            select u as node_id from _ns_gone_edges
            union all
            select v from _ns_gone_edges
            union all
            select node_id from _ns_gone_nodes
            union all
            -- seen later than before: its cluster may get another key
            select known.node_id from {schema}.stitched_nodes as known
            join _ns_nodes as today using (node_id)
            where known.priority is not null
                and (today.priority is null or today.priority > known.priority)
        ) as affected using (node_id)
        """,
    )
    reopened_nodes = _scalar(
        con,
        f"""
        create or replace temp table _ns_reopened as
        select c.node_id, c.node
        from {schema}.stitched_components as c
        semi join _ns_reopened_components using (component_id)
        semi join _ns_nodes using (node_id)
        """,
    )
    counts = {
        "gone_edges": gone_edges,
        "gone_nodes": gone_nodes,
        "reopened_components": reopened,
    }
    return counts, reopened_nodes


def _restitch(con: Any, schema: str, edges: str, a: str, b: str) -> IncrementalStats:
    """Re-stitch the reopened components and what today's additions touch, in place."""
    components = f"{schema}.stitched_components"
    con.execute(
        f"""
        delete from {components}
        where component_id in (select component_id from _ns_reopened_components)
        """
    )
    # new edges, and every edge of today that touches a reopened member
    con.execute(
        f"""
        create or replace temp table _ns_new_edges as
        with hashed as (
            select {a} as node_a, {b} as node_b, hash({a}) as ha, hash({b}) as hb
            from {edges} where {a} <> {b}
        )
        select node_a, node_b from hashed
        anti join {schema}.stitched_edges as known
            on known.u = least(ha, hb) and known.v = greatest(ha, hb)
        union all
        select node_a, node_b from hashed semi join _ns_reopened as r on r.node_id = ha
        union all
        select node_a, node_b from hashed semi join _ns_reopened as r on r.node_id = hb
        """
    )
    con.execute(
        f"""
        create or replace temp table _ns_new_nodes as
        select node from _ns_nodes anti join {schema}.stitched_nodes using (node_id)
        union all
        select node from _ns_reopened
        """
    )
    # priorities moved earlier (late data): those components are re-keyed
    con.execute(
        f"""
        create or replace temp table _ns_rekeyed as
        select today.node from _ns_nodes as today
        join {schema}.stitched_nodes as known using (node_id)
        where today.priority is distinct from known.priority
        """
    )
    stats = restitch_incremental(
        con,
        components,
        "_ns_new_edges",
        components,
        nodes_table="_ns_nodes",
        node="node",
        order_by="priority",
        new_nodes_table="_ns_new_nodes",
        touched_nodes_table="_ns_rekeyed",
    )
    con.execute(
        f"""
        delete from {schema}.stitched_edges as known using _ns_gone_edges as gone
        where known.u = gone.u and known.v = gone.v
        """
    )
    con.execute(
        f"""
        insert into {schema}.stitched_edges
        select u, v from _ns_edges anti join {schema}.stitched_edges using (u, v)
        """
    )
    con.execute(
        f"""
        delete from {schema}.stitched_nodes
        where node_id in (select node_id from _ns_gone_nodes)
        """
    )
    con.execute(
        f"""
        update {schema}.stitched_nodes as known set priority = today.priority
        from _ns_nodes as today
        where known.node_id = today.node_id and known.priority is distinct from today.priority
        """
    )
    con.execute(
        f"""
        insert into {schema}.stitched_nodes
        select node_id, priority from _ns_nodes anti join {schema}.stitched_nodes using (node_id)
        """
    )
    return stats


def _stitch_everything(con: Any, schema: str, edges: str, a: str, b: str) -> ComponentStats:
    stats = connected_components(
        con,
        edges,
        f"{schema}.stitched_components",
        node_a=a,
        node_b=b,
        nodes_table="_ns_nodes",
        node="node",
        order_by="priority",
    )
    if stats.ids != "hash":
        # Two identifiers share a 64-bit hash: the state cannot be keyed on hashes, so the
        # next night stitches everything again (tonight's rows are still right).
        con.execute(f"drop table if exists {schema}.stitched_edges")
        con.execute(f"drop table if exists {schema}.stitched_nodes")
    else:
        con.execute(f"create or replace table {schema}.stitched_edges as from _ns_edges")
        con.execute(
            f"create or replace table {schema}.stitched_nodes as"
            " select node_id, priority from _ns_nodes"
        )
    return stats


def _describe(changes: dict[str, int]) -> str:
    if not any(changes.values()):
        return "edges and identifiers only added"
    return (
        f"{changes['gone_edges']} edge(s) and {changes['gone_nodes']} identifier(s) gone or "
        f"seen later: {changes['reopened_components']} cluster(s) re-stitched from their edges"
    )


def _record(con: Any, schema: str, stats: NightlyStitchStats) -> None:
    con.execute(
        f"""
        create table if not exists {schema}.stitch_runs (
            stitched_at timestamptz, mode varchar, reason varchar, nodes bigint,
            edges bigint, components bigint, new_edges bigint, new_nodes bigint,
            gone_edges bigint, gone_nodes bigint, reopened_components bigint,
            touched_components bigint, seconds double
        )
        """
    )
    touched = stats.incremental.touched_components if stats.incremental else None
    con.execute(
        f"insert into {schema}.stitch_runs values (now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            stats.mode,
            stats.reason,
            stats.nodes,
            stats.edges,
            stats.components,
            stats.new_edges,
            stats.new_nodes,
            stats.gone_edges,
            stats.gone_nodes,
            stats.reopened_components,
            touched,
            round(stats.seconds, 3),
        ],
    )
