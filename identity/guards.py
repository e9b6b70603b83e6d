"""Cluster-level guards around the stitcher: keep_apart decisions and the size ceiling.

The edge-level guards (junk blocklist, shared devices, direct keep_apart pairs, manual
merges) are SQL in int_identity__edges. Two rules need the clusters themselves, so they
run here, around `connected_components`, on the DuckDB connection given (in dbt: the
Python model's session):

1. **keep_apart across paths.** A steward's keep_apart(a, b) must hold even when a and b
   are joined through other identifiers. After stitching, for every such pair still in one
   cluster, identifier b is detached: every automatic edge touching it is dropped (manual
   merge edges stay, they are decisions too) and the graph is stitched again, until no
   kept-apart pair shares a cluster. A pair that manual merges alone join is a conflict
   between decisions: reported, not resolved.
2. **Size ceiling.** A cluster with more than `max_cluster_size` identifiers is not merged:
   each of its identifiers stays a cluster of its own, flagged `oversized_cluster` for a
   steward to resolve (a keep_apart or merge decision, or a blocklist rule).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .components import _drop, connected_components


@dataclass(frozen=True)
class GuardedStats:
    nodes: int
    edges: int
    components: int
    passes: int  # stitching passes (1 + one per round of keep_apart detachments)
    detached: int  # identifiers detached to honour keep_apart decisions
    conflicts: int  # keep_apart pairs that manual merges still join
    oversized_clusters: int
    oversized_nodes: int
    converged: bool
    seconds: float


# The working tables and views of `stitch_with_guards`, dropped at the end.
_GUARD_VIEWS = ("_guard_pass", "_guard_edges")
_GUARD_TABLES = (
    *("_guard_plain", "_guard_resplit", "_guard_detached", "_guard_conflicts"),
    *("_guard_split_nodes", "_guard_split_edges", "_guard_split_nodes_ordered"),
)


def stitch_with_guards(
    con: Any,
    *,
    edges_table: str,
    nodes_table: str,
    keep_apart_table: str,
    out_table: str,
    max_cluster_size: int,
    order_by: str = "first_seen_at",
    stitched_table: str | None = None,
    stitched_edges: int | None = None,
    max_passes: int = 20,
) -> GuardedStats:
    """Write `out_table(node, component_key, component_size, guard, guard_detail)`.

    - `edges_table(identifier_key_a, identifier_key_b, source)`: the guarded edges; rows of
      source 'manual' are steward merges and are never dropped here.
    - `nodes_table(identifier_key, <order_by columns>)`: every node.
    - `keep_apart_table(decision_id, identifier_key_a, identifier_key_b)`.
    - `stitched_table(node, component_id, component_node)`: optional, the plain stitching
      of exactly these edges and nodes (`components.connected_components`' output, e.g.
      kept up to date night by night by `stitch_state.stitch_nightly`); without it the
      first pass stitches them. `stitched_edges`: its count of distinct edges, for the
      stats (counted from `edges_table` when not given).
    - guard: NULL, 'kept_apart' (detached for a keep_apart decision), 'keep_apart_conflict'
      (manual merges join a kept-apart pair) or 'oversized_cluster'.

    Detaching only ever splits the cluster it happens in, so the passes after the first
    re-stitch only the clusters that hold a kept-apart pair (their nodes and edges).

    Steps: `_plain_stitching`, `_isolate_clusters_to_split`, `_detach_until_kept_apart`,
    `_record_conflicts`, `_write_guarded_clusters`.
    """
    started = time.perf_counter()
    con.execute(
        """
        create or replace temporary table _guard_detached as
        select cast(null as varchar) as node, cast(null as varchar) as decision_id
        where false
        """
    )
    stitched_table, n_nodes, n_edges, converged = _plain_stitching(
        con,
        edges_table=edges_table,
        nodes_table=nodes_table,
        order_by=order_by,
        stitched_table=stitched_table,
        stitched_edges=stitched_edges,
    )
    # Clusters are told apart by their key (a node: unique across clusters, whichever run
    # labelled them).
    con.execute(
        f"""
        create or replace temporary view _guard_pass as
        select node, component_node from {stitched_table}
        """
    )
    _isolate_clusters_to_split(
        con,
        stitched_table=stitched_table,
        keep_apart_table=keep_apart_table,
        edges_table=edges_table,
        nodes_table=nodes_table,
    )
    passes = _detach_until_kept_apart(
        con,
        stitched_table=stitched_table,
        keep_apart_table=keep_apart_table,
        order_by=order_by,
        max_passes=max_passes,
    )
    _record_conflicts(con, keep_apart_table)
    _write_guarded_clusters(con, out_table, max_cluster_size)
    oversized_clusters, oversized_nodes = con.execute(
        f"""
        select count(distinct guard_detail), count(*)
        from {out_table} where guard = 'oversized_cluster'
        """
    ).fetchone()
    detached = con.execute("select count(distinct node) from _guard_detached").fetchone()[0]
    conflicts = con.execute("select count(*) from _guard_conflicts").fetchone()[0]
    components = con.execute(f"select count(distinct component_key) from {out_table}").fetchone()[0]
    for view in _GUARD_VIEWS:
        con.execute(f"drop view if exists {view}")
    _drop(con, *_GUARD_TABLES)
    return GuardedStats(
        nodes=n_nodes,
        edges=n_edges,
        components=components,
        passes=passes,
        detached=detached,
        conflicts=conflicts,
        oversized_clusters=oversized_clusters,
        oversized_nodes=oversized_nodes,
        converged=converged,
        seconds=time.perf_counter() - started,
    )


def _plain_stitching(
    con: Any,
    *,
    edges_table: str,
    nodes_table: str,
    order_by: str,
    stitched_table: str | None,
    stitched_edges: int | None,
) -> tuple[str, int, int, bool]:
    """The first pass: the plain stitching given (`stitched_table`), or `_guard_plain`
    stitched now. Returns the table, its counts of nodes and edges, and convergence."""
    if stitched_table is None:
        stats = connected_components(
            con,
            edges_table,
            "_guard_plain",
            node_a="identifier_key_a",
            node_b="identifier_key_b",
            nodes_table=nodes_table,
            node="identifier_key",
            order_by=order_by,
            temporary=True,
        )
        return "_guard_plain", stats.nodes, stats.edges, stats.converged
    n_nodes = con.execute(f"select count(*) from {stitched_table}").fetchone()[0]
    n_edges = stitched_edges
    if n_edges is None:
        n_edges = con.execute(
            f"""
            select count(distinct (least(identifier_key_a, identifier_key_b),
                greatest(identifier_key_a, identifier_key_b)))
            from {edges_table} where identifier_key_a <> identifier_key_b
            """
        ).fetchone()[0]
    # the stitcher checked its fixed point when it wrote the table
    return stitched_table, n_nodes, n_edges, True


def _isolate_clusters_to_split(
    con: Any, *, stitched_table: str, keep_apart_table: str, edges_table: str, nodes_table: str
) -> None:
    """The clusters that hold a kept-apart pair, the only ones stitched again:
    `_guard_split_nodes`, `_guard_split_edges` (their edges) and
    `_guard_split_nodes_ordered` (their rows of `nodes_table`)."""
    con.execute(
        f"""
        create or replace temporary table _guard_split_nodes as
        select plain.node from {stitched_table} as plain
        semi join (
            select a.component_node
            from {keep_apart_table} as keep
            inner join {stitched_table} as a on keep.identifier_key_a = a.node
            inner join {stitched_table} as b on keep.identifier_key_b = b.node
            where a.component_node = b.component_node
        ) as split using (component_node)
        """
    )
    con.execute(
        f"""
        create or replace temporary table _guard_split_edges as
        select edges.identifier_key_a, edges.identifier_key_b, edges.source
        from {edges_table} as edges
        semi join _guard_split_nodes as split on edges.identifier_key_a = split.node
        """
    )
    con.execute(
        f"""
        create or replace temporary table _guard_split_nodes_ordered as
        select nodes.* from {nodes_table} as nodes
        semi join _guard_split_nodes as split on nodes.identifier_key = split.node
        """
    )


def _detach_until_kept_apart(
    con: Any, *, stitched_table: str, keep_apart_table: str, order_by: str, max_passes: int
) -> int:
    """Detach the b side of every kept-apart pair still in one cluster of `_guard_pass` and
    stitch the split clusters again, until no pair shares a cluster; returns the passes."""
    passes = 1
    while _detach_kept_apart_pairs(con, keep_apart_table):
        if passes >= max_passes:
            raise RuntimeError(f"keep_apart decisions not honoured after {passes} passes")
        passes += 1
        _restitch_split_clusters(con, stitched_table=stitched_table, order_by=order_by)
    return passes


def _detach_kept_apart_pairs(con: Any, keep_apart_table: str) -> bool:
    """Add to `_guard_detached` the kept-apart pairs still together whose b side is not
    detached yet; whether there were any."""
    newly_detached = con.execute(
        f"""
        insert into _guard_detached
        select distinct keep.identifier_key_b, keep.decision_id
        from {keep_apart_table} as keep
        inner join _guard_pass as a on keep.identifier_key_a = a.node
        inner join _guard_pass as b on keep.identifier_key_b = b.node
        where
            a.component_node = b.component_node
            and keep.identifier_key_b not in (select node from _guard_detached)
        returning 1
        """
    ).fetchall()
    return bool(newly_detached)


def _restitch_split_clusters(con: Any, *, stitched_table: str, order_by: str) -> None:
    """Stitch the split clusters again without the automatic edges of detached nodes
    (`_guard_resplit`); `_guard_pass` becomes the plain stitching with them replaced."""
    con.execute(
        """
        create or replace temporary view _guard_edges as
        select identifier_key_a, identifier_key_b from _guard_split_edges as edges
        where
            edges.source = 'manual'
            or not exists (
                select 1 from _guard_detached as detached
                where detached.node in (edges.identifier_key_a, edges.identifier_key_b)
            )
        """
    )
    connected_components(
        con,
        "_guard_edges",
        "_guard_resplit",
        node_a="identifier_key_a",
        node_b="identifier_key_b",
        nodes_table="_guard_split_nodes_ordered",
        node="identifier_key",
        order_by=order_by,
        temporary=True,
    )
    con.execute(
        f"""
        create or replace temporary view _guard_pass as
        select node, component_node from {stitched_table}
        anti join _guard_split_nodes using (node)
        union all
        select node, component_node from _guard_resplit
        """
    )


def _record_conflicts(con: Any, keep_apart_table: str) -> None:
    """`_guard_conflicts(node, decision_id)`: kept-apart pairs that manual merges still
    join, after the last pass."""
    con.execute(
        f"""
        create or replace temporary table _guard_conflicts as
        select distinct keep.identifier_key_a as node, keep.decision_id
        from {keep_apart_table} as keep
        inner join _guard_pass as a on keep.identifier_key_a = a.node
        inner join _guard_pass as b on keep.identifier_key_b = b.node
        where a.component_node = b.component_node
        """
    )


def _write_guarded_clusters(con: Any, out_table: str, max_cluster_size: int) -> None:
    """`out_table`: the clusters of the last pass with the size ceiling applied and every
    node's guard (oversized, conflict or detached) and its detail."""
    con.execute(
        f"""
        create or replace temporary table {out_table} as
        with

        sized as (
            select
                node,
                component_node,
                count(*) over (partition by component_node) as cluster_size
            from _guard_pass
        ),

        flagged as (
            select
                sized.node,
                sized.cluster_size > {int(max_cluster_size)} as is_oversized,
                sized.component_node,
                sized.cluster_size,
                conflicts.decision_id as conflict_decision_id,
                detached.decision_id as detached_decision_id
            from sized
            left join (
                select node, min(decision_id) as decision_id
                from _guard_conflicts group by node
            ) as conflicts using (node)
            left join (
                select node, min(decision_id) as decision_id
                from _guard_detached group by node
            ) as detached using (node)
        )

        select
            node,
            case when is_oversized then node else component_node end as component_key,
            case when is_oversized then 1 else cluster_size end as component_size,
            case
                when is_oversized then 'oversized_cluster'
                when conflict_decision_id is not null then 'keep_apart_conflict'
                when detached_decision_id is not null then 'kept_apart'
            end as guard,
            case
                when is_oversized
                    then 'cluster of ' || cluster_size || ' identifiers (key '
                    || component_node || ') not merged'
                when conflict_decision_id is not null
                    then 'decision ' || conflict_decision_id || ': manual merges join the pair'
                when detached_decision_id is not null
                    then 'decision ' || detached_decision_id || ': automatic edges dropped'
            end as guard_detail
        from flagged
        """
    )
