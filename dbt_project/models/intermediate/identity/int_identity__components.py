"""One row per identity-graph node (blocked junk identifiers excepted): its identity cluster.

Deterministic stitching: connected components over int_identity__edges (every source, every
hop, after the edge guards), computed set-based in DuckDB by
identity.components (integer surrogate ids, one- and two-hop min-label
passes with pointer jumping, iterated until no label changes, with a fixed-point check).

The plain stitching is kept between nights in schema identity_state
(identity.stitch_state): new edges and identifiers re-stitch the clusters
they touch, removed ones reopen only their own clusters; the first run, removals reopening
over a quarter of the identifiers, or var('identity_restitch') = 'full' stitch everything
again. Either way the result is that of a full run.

identity.guards then applies the two cluster-level rules: keep_apart
decisions hold across paths (the kept-apart identifier is detached and its cluster
stitched again), and a cluster larger than var('identity_max_cluster_size') is not merged
(each identifier its own cluster, guard = 'oversized_cluster'). Isolated nodes are
clusters of one.

component_key is the cluster's earliest-seen identifier (smallest first_seen_at; ties and
missing times broken by identifier_key). customer_id = 'cus_' || the first 16 hex digits
of the keyed pseudonym (HMAC-SHA-256 with CDW_PSEUDONYM_KEY) of 'customer:' ||
component_key — cdw_customer_id(), privacy/pseudonyms.py, defined on dbt's connection by
the plugin privacy.dbt_plugin (docs/privacy.md). For a given key a full rebuild reproduces
it, and it survives the cluster growing (a new identifier is seen later than the current
key, so the key stays); without the key it cannot be recomputed from an identifier. When
two clusters merge, the merged cluster keeps the earlier cluster's key (the younger id
retires; int_identity__cluster_changes records it).
"""

from identity import stitch_nightly, stitch_with_guards

# Where the plain stitching is kept between nights (model-owned; docs/identity.md).
STATE_SCHEMA = "identity_state"


def model(dbt, session):
    dbt.config(materialized="table")
    (defined,) = session.sql(
        "select count(*) from duckdb_functions() where function_name = 'cdw_customer_id'"
    ).fetchone()
    if not defined:
        raise RuntimeError(
            "cdw_customer_id() is not defined on this connection: profiles.yml must load the "
            "dbt-duckdb plugin privacy.dbt_plugin (docs/privacy.md)"
        )
    max_cluster_size = int(dbt.config.get("identity_max_cluster_size"))
    restitch = dbt.config.get("identity_restitch")
    if restitch not in ("incremental", "full"):
        raise ValueError(f"var identity_restitch must be 'incremental' or 'full', not {restitch!r}")
    dbt.ref("int_identity__edges").create_view("_identity_edges", replace=True)
    dbt.ref("int_identity__identifiers").create_view("_identity_all_nodes", replace=True)
    dbt.ref("int_identity__blocked_identifiers").create_view("_identity_blocked", replace=True)
    dbt.ref("int_identity__manual_decisions").create_view("_identity_decisions", replace=True)
    session.execute(
        """
        create or replace temporary view _identity_nodes as
        select * from _identity_all_nodes
        anti join _identity_blocked using (identifier_key)
        """
    )
    session.execute(
        """
        create or replace temporary view _identity_keep_apart as
        select decision_id, identifier_key_a, identifier_key_b
        from _identity_decisions where decision = 'keep_apart'
        """
    )
    plain = stitch_nightly(
        session,
        edges_table="_identity_edges",
        nodes_table="_identity_nodes",
        state_schema=STATE_SCHEMA,
        force_full=restitch == "full",
    )
    stats = stitch_with_guards(
        session,
        edges_table="_identity_edges",
        nodes_table="_identity_nodes",
        keep_apart_table="_identity_keep_apart",
        out_table="_identity_components",
        max_cluster_size=max_cluster_size,
        stitched_table=f"{STATE_SCHEMA}.stitched_components",
        stitched_edges=plain.edges,
    )
    result = session.sql(
        """
        select
            nodes.identifier_key,
            nodes.identifier_type,
            nodes.identifier_value,
            nodes.first_seen_at,
            nodes.last_seen_at,
            components.component_key,
            cdw_customer_id(components.component_key) as customer_id,
            components.component_size,
            components.guard,
            components.guard_detail
        from _identity_components as components
        join _identity_nodes as nodes on components.node = nodes.identifier_key
        order by nodes.identifier_key
        """
    ).to_arrow_table()
    session.execute("drop table _identity_components")
    for view in (
        *("_identity_keep_apart", "_identity_nodes", "_identity_edges"),
        *("_identity_all_nodes", "_identity_blocked", "_identity_decisions"),
    ):
        session.execute(f"drop view {view}")
    print(
        f"identity stitching: {plain.mode} ({plain.reason}): {plain.new_edges} new edges, "
        f"{plain.new_nodes} new identifiers, {plain.seconds:.2f} s"
    )
    print(
        f"identity components: {stats.components} from {stats.nodes} nodes and "
        f"{stats.edges} edges in {stats.passes} pass(es) (converged: {stats.converged}); "
        f"{stats.detached} detached for keep_apart, {stats.conflicts} conflicts, "
        f"{stats.oversized_clusters} oversized clusters ({stats.oversized_nodes} identifiers)"
    )
    return result
