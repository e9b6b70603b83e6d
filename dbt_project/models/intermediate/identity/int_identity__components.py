"""One row per identity-graph node: the connected component (identity cluster) it is in.

Deterministic stitching: connected components over int_identity__edges (every source, every
hop), computed set-based in DuckDB by orchestration.identity.components (integer surrogate
ids, two-hop min-label propagation with pointer jumping, iterated until no label changes,
with a fixed-point check). Isolated nodes (an identifier never asserted together with
another) are components of one.

component_key is the cluster's earliest-seen identifier (smallest first_seen_at; ties and
missing times broken by identifier_key). customer_id = 'cus_' || the first 16 hex digits
of md5(component_key): a full rebuild reproduces it, and it survives the cluster growing
(a new identifier is seen later than the current key, so the key stays). When two
clusters merge, the merged cluster keeps the earlier cluster's key (the younger id
retires; recording the merge is a later issue).
"""

from orchestration.identity.components import connected_components


def model(dbt, session):
    dbt.config(materialized="table")
    edges = dbt.ref("int_identity__edges")
    identifiers = dbt.ref("int_identity__identifiers")
    edges.create_view("_identity_edges", replace=True)
    identifiers.create_view("_identity_nodes", replace=True)
    stats = connected_components(
        session,
        "_identity_edges",
        "_identity_components",
        node_a="identifier_key_a",
        node_b="identifier_key_b",
        nodes_table="_identity_nodes",
        node="identifier_key",
        order_by="first_seen_at",
        temporary=True,
    )
    result = session.sql(
        """
        select
            nodes.identifier_key,
            nodes.identifier_type,
            nodes.identifier_value,
            nodes.first_seen_at,
            nodes.last_seen_at,
            components.component_node as component_key,
            'cus_' || substr(md5(components.component_node), 1, 16) as customer_id,
            count(*) over (partition by components.component_id) as component_size
        from _identity_components as components
        join _identity_nodes as nodes on components.node = nodes.identifier_key
        """
    ).to_arrow_table()
    session.execute("drop view _identity_edges")
    session.execute("drop view _identity_nodes")
    session.execute("drop table _identity_components")
    print(
        f"identity components: {stats.components} from {stats.nodes} nodes and "
        f"{stats.edges} edges in {stats.rounds} rounds (converged: {stats.converged})"
    )
    return result
