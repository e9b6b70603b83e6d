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

from .components import (
    ComponentStats,
    IncrementalNotApplicable,
    IncrementalStats,
    _drop,
    _ident,
    _scalar,
    connected_components,
    restitch_incremental,
)
from .transactions import transaction_unless_open

_STATE_TABLES = ("stitched_components", "stitched_edges", "stitched_nodes")
_TEMP_TABLES = (
    *("_ns_nodes", "_ns_edges", "_ns_edge_diff", "_ns_node_diff", "_ns_reopened"),
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
    new_edges: int  # distinct edges not in the previous state (all of them on a full run)
    new_nodes: int  # nodes not in the previous state (all of them on a full run)
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
    try:
        with transaction_unless_open(con):
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
                    incremental_stats = _restitch(con, schema)
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
                new_edges, new_nodes = con.execute(
                    """
                    select
                        (select count(*) from _ns_edge_diff where is_new),
                        (select count(*) from _ns_node_diff where change = 'new')
                    """
                ).fetchall()[0]
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
    finally:
        _drop(con, *_TEMP_TABLES)
    return stats


def _why_full(con: Any, schema: str, force_full: bool) -> str | None:
    """Why today's stitching cannot build on the state (None: it can)."""
    if force_full:
        return "full re-stitch requested"
    missing = [table for table in _STATE_TABLES if not _exists(con, schema, table)]
    if missing:
        return f"no previous state ({', '.join(missing)} missing)"
    return None


def _reopen(con: Any, schema: str) -> tuple[dict[str, int], int]:
    """Diff tonight against the state, and find the components a removal may split.

    Leaves `_ns_edge_diff(u, v, is_new)` (edges added or gone), `_ns_node_diff(node_id,
    node, priority, change)` (change: new, gone, earlier, later), the reopened components
    and `_ns_reopened(node_id, node)`: their members that are still nodes tonight.
    Returns the counts of removed edges, removed nodes and reopened components, and the
    number of reopened members.
    """
    # one full outer join per table gives every difference
    con.execute(
        f"""
        create or replace temp table _ns_edge_diff as
        select coalesce(today.u, known.u) as u, coalesce(today.v, known.v) as v,
            known.u is null as is_new
        from {schema}.stitched_edges as known
        full outer join _ns_edges as today on known.u = today.u and known.v = today.v
        where known.u is null or today.u is null
        """
    )
    con.execute(
        f"""
        create or replace temp table _ns_node_diff as
        select
            coalesce(today.node_id, known.node_id) as node_id,
            today.node,
            today.priority,
            case
                when known.node_id is null then 'new'
                when today.node_id is null then 'gone'
                -- missing priorities sort last: gaining one moves a node earlier
                when known.priority is null or today.priority < known.priority then 'earlier'
                else 'later'
            end as change
        from {schema}.stitched_nodes as known
        full outer join _ns_nodes as today on known.node_id = today.node_id
        where known.node_id is null or today.node_id is null
            or known.priority is distinct from today.priority
        """
    )
    gone_edges, gone_nodes = con.execute(
        """
        select
            (select count(*) from _ns_edge_diff where not is_new),
            (select count(*) from _ns_node_diff where change = 'gone')
        """
    ).fetchall()[0]
    reopened = _scalar(
        con,
        f"""
        create or replace temp table _ns_reopened_components as
        select distinct c.component_id
        from {schema}.stitched_components as c
        semi join (
            select u as node_id from _ns_edge_diff where not is_new
            union all
            select v from _ns_edge_diff where not is_new
            union all
            -- gone, or seen later than before: the cluster may split or get another key
            select node_id from _ns_node_diff where change in ('gone', 'later')
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
        anti join (select node_id from _ns_node_diff where change = 'gone') using (node_id)
        """,
    )
    counts = {
        "gone_edges": gone_edges,
        "gone_nodes": gone_nodes,
        "reopened_components": reopened,
    }
    return counts, reopened_nodes


def _restitch(con: Any, schema: str) -> IncrementalStats:
    """Re-stitch the reopened components and what tonight's additions touch, in place;
    then bring the state's edges and nodes to tonight's."""
    components = f"{schema}.stitched_components"
    con.execute(
        f"""
        delete from {components}
        where component_id in (select component_id from _ns_reopened_components)
        """
    )
    # new edges, and every edge of tonight that touches a reopened member: found on the
    # hashed pairs, then named by their nodes (only these rows are joined to text)
    con.execute(
        """
        create or replace temp table _ns_new_edges as
        with changed as (
            select u, v from _ns_edge_diff where is_new
            union
            select u, v from _ns_edges
            where u in (select node_id from _ns_reopened)
                or v in (select node_id from _ns_reopened)
        )
        select nu.node as node_a, nv.node as node_b
        from changed
        join _ns_nodes as nu on nu.node_id = changed.u
        join _ns_nodes as nv on nv.node_id = changed.v
        """
    )
    con.execute(
        """
        create or replace temp table _ns_new_nodes as
        select node from _ns_node_diff where change = 'new'
        union all
        select node from _ns_reopened
        """
    )
    # priorities moved earlier (late data): those components are re-keyed
    con.execute(
        """
        create or replace temp table _ns_rekeyed as
        select node from _ns_node_diff where change = 'earlier'
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
        delete from {schema}.stitched_edges as known using _ns_edge_diff as diff
        where known.u = diff.u and known.v = diff.v and not diff.is_new
        """
    )
    con.execute(f"insert into {schema}.stitched_edges select u, v from _ns_edge_diff where is_new")
    con.execute(
        f"""
        delete from {schema}.stitched_nodes
        where node_id in (select node_id from _ns_node_diff where change <> 'new')
        """
    )
    con.execute(
        f"""
        insert into {schema}.stitched_nodes
        select node_id, priority from _ns_node_diff where change <> 'gone'
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
    values = [
        f"'{stats.mode}'",
        "'" + stats.reason.replace("'", "''") + "'",
        *(
            str(value)
            for value in (
                *(stats.nodes, stats.edges, stats.components, stats.new_edges, stats.new_nodes),
                *(stats.gone_edges, stats.gone_nodes, stats.reopened_components),
                "null" if touched is None else touched,
                round(stats.seconds, 3),
            )
        ),
    ]
    # literals, not parameters: a connection's first parameter binding costs ~0.5 s here
    con.execute(f"insert into {schema}.stitch_runs values (now(), {', '.join(values)})")
