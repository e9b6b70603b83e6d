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

from orchestration.identity.components import connected_components


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


def stitch_with_guards(
    con: Any,
    *,
    edges_table: str,
    nodes_table: str,
    keep_apart_table: str,
    out_table: str,
    max_cluster_size: int,
    order_by: str = "first_seen_at",
    max_passes: int = 20,
) -> GuardedStats:
    """Write `out_table(node, component_key, component_size, guard, guard_detail)`.

    - `edges_table(identifier_key_a, identifier_key_b, source)`: the guarded edges; rows of
      source 'manual' are steward merges and are never dropped here.
    - `nodes_table(identifier_key, <order_by columns>)`: every node.
    - `keep_apart_table(decision_id, identifier_key_a, identifier_key_b)`.
    - guard: NULL, 'kept_apart' (detached for a keep_apart decision), 'keep_apart_conflict'
      (manual merges join a kept-apart pair) or 'oversized_cluster'.
    """
    started = time.perf_counter()
    con.execute(
        """
        create or replace temporary table _guard_detached as
        select cast(null as varchar) as node, cast(null as varchar) as decision_id
        where false
        """
    )
    passes = 0
    while True:
        passes += 1
        con.execute(
            f"""
            create or replace temporary view _guard_edges as
            select identifier_key_a, identifier_key_b from {edges_table} as edges
            where
                edges.source = 'manual'
                or not exists (
                    select 1 from _guard_detached as detached
                    where detached.node in (edges.identifier_key_a, edges.identifier_key_b)
                )
            """
        )
        stats = connected_components(
            con,
            "_guard_edges",
            "_guard_pass",
            node_a="identifier_key_a",
            node_b="identifier_key_b",
            nodes_table=nodes_table,
            node="identifier_key",
            order_by=order_by,
            temporary=True,
        )
        # kept-apart pairs still together whose b side is not detached yet
        newly_detached = con.execute(
            f"""
            insert into _guard_detached
            select distinct keep.identifier_key_b, keep.decision_id
            from {keep_apart_table} as keep
            inner join _guard_pass as a on keep.identifier_key_a = a.node
            inner join _guard_pass as b on keep.identifier_key_b = b.node
            where
                a.component_id = b.component_id
                and keep.identifier_key_b not in (select node from _guard_detached)
            returning 1
            """
        ).fetchall()
        if not newly_detached:
            break
        if passes >= max_passes:
            raise RuntimeError(f"keep_apart decisions not honoured after {passes} passes")

    con.execute(
        f"""
        create or replace temporary table _guard_conflicts as
        select distinct keep.identifier_key_a as node, keep.decision_id
        from {keep_apart_table} as keep
        inner join _guard_pass as a on keep.identifier_key_a = a.node
        inner join _guard_pass as b on keep.identifier_key_b = b.node
        where a.component_id = b.component_id
        """
    )
    con.execute(
        f"""
        create or replace temporary table {out_table} as
        with

        sized as (
            select
                node,
                component_node,
                count(*) over (partition by component_id) as cluster_size
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
    oversized_clusters, oversized_nodes = con.execute(
        f"""
        select count(distinct guard_detail), count(*)
        from {out_table} where guard = 'oversized_cluster'
        """
    ).fetchone()
    detached = con.execute("select count(distinct node) from _guard_detached").fetchone()[0]
    conflicts = con.execute("select count(*) from _guard_conflicts").fetchone()[0]
    components = con.execute(f"select count(distinct component_key) from {out_table}").fetchone()[0]
    for name in ("_guard_pass", "_guard_detached", "_guard_conflicts"):
        con.execute(f"drop table if exists {name}")
    con.execute("drop view if exists _guard_edges")
    return GuardedStats(
        nodes=stats.nodes,
        edges=stats.edges,
        components=components,
        passes=passes,
        detached=detached,
        conflicts=conflicts,
        oversized_clusters=oversized_clusters,
        oversized_nodes=oversized_nodes,
        converged=stats.converged,
        seconds=time.perf_counter() - started,
    )
