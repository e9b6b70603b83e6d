"""Cluster-level identity guards (identity/guards.py) on hand-made graphs:
keep_apart decisions across paths, conflicts with manual merges, the cluster-size ceiling,
and a split when the bad edge that joined two people disappears."""

from __future__ import annotations

from datetime import datetime, timedelta

from identity import GuardedStats, stitch_with_guards

T0 = datetime(2026, 1, 1)


def stitch(
    con,
    edges: list[tuple[str, str] | tuple[str, str, str]],
    nodes: list[str],
    keep_apart: list[tuple[str, str]] = (),
    max_cluster_size: int = 100,
) -> tuple[dict[str, tuple], GuardedStats]:
    """node → (component_key, component_size, guard). Nodes are first seen in list order."""
    con.execute(
        "create or replace table edges"
        " (identifier_key_a varchar, identifier_key_b varchar, source varchar)"
    )
    for edge in edges:
        a, b, source = (*edge, "crm")[:3]
        con.execute("insert into edges values (?, ?, ?)", [a, b, source])
    con.execute("create or replace table nodes (identifier_key varchar, first_seen_at timestamp)")
    for i, node in enumerate(nodes):
        con.execute("insert into nodes values (?, ?)", [node, T0 + timedelta(days=i)])
    con.execute(
        "create or replace table keep"
        " (decision_id varchar, identifier_key_a varchar, identifier_key_b varchar)"
    )
    for i, (a, b) in enumerate(keep_apart):
        con.execute(
            "insert into keep values (?, least(?, ?), greatest(?, ?))", [f"d{i}", a, b, a, b]
        )
    stats = stitch_with_guards(
        con,
        edges_table="edges",
        nodes_table="nodes",
        keep_apart_table="keep",
        out_table="out",
        max_cluster_size=max_cluster_size,
    )
    rows = con.execute("select node, component_key, component_size, guard from out").fetchall()
    assert stats.converged
    return {node: (key, size, guard) for node, key, size, guard in rows}, stats


def clusters(result: dict[str, tuple]) -> set[frozenset[str]]:
    by_key: dict[str, set[str]] = {}
    for node, (key, _, _) in result.items():
        by_key.setdefault(key, set()).add(node)
    return {frozenset(members) for members in by_key.values()}


def test_without_decisions_or_oversize_nothing_changes(con) -> None:
    result, stats = stitch(con, [("a", "b"), ("b", "c"), ("x", "y")], ["a", "b", "c", "x", "y"])
    assert clusters(result) == {frozenset("abc"), frozenset("xy")}
    assert result["c"] == ("a", 3, None)
    assert (stats.passes, stats.detached, stats.conflicts, stats.oversized_clusters) == (1, 0, 0, 0)


def test_keep_apart_holds_across_a_path(con) -> None:
    # ann's email and bob's user id are joined through a wrongly shared crm record
    edges = [("email:ann", "crm:1"), ("crm:1", "user:bob"), ("user:bob", "anon:bob")]
    nodes = ["email:ann", "crm:1", "user:bob", "anon:bob"]
    result, stats = stitch(con, edges, nodes, keep_apart=[("email:ann", "user:bob")])
    assert result["email:ann"][0] != result["user:bob"][0]
    # the kept-apart side (identifier_key_b = the larger key) is detached, and flagged
    assert result["user:bob"] == ("user:bob", 1, "kept_apart")
    assert clusters(result) == {
        frozenset({"email:ann", "crm:1"}),
        frozenset({"user:bob"}),
        frozenset({"anon:bob"}),
    }
    assert (stats.passes, stats.detached, stats.conflicts) == (2, 1, 0)


def test_manual_merges_are_not_cut_and_a_contradiction_is_reported(con) -> None:
    edges = [("a", "b", "manual"), ("b", "c", "manual"), ("c", "d")]
    result, stats = stitch(con, edges, ["a", "b", "c", "d"], keep_apart=[("a", "c")])
    # c is detached from its automatic edge (c–d) but the manual chain a–b–c holds
    assert result["d"] == ("d", 1, None)
    assert result["a"][0] == result["c"][0]
    assert result["a"][2] == "keep_apart_conflict"
    assert stats.conflicts == 1


def test_an_oversized_cluster_is_not_merged(con) -> None:
    hub_edges = [("email:info", f"user:{i}") for i in range(6)]
    result, stats = stitch(
        con,
        [*hub_edges, ("x", "y")],
        ["email:info", *(f"user:{i}" for i in range(6)), "x", "y"],
        max_cluster_size=5,
    )
    for node in ["email:info", *(f"user:{i}" for i in range(6))]:
        assert result[node] == (node, 1, "oversized_cluster")
    assert result["y"] == ("x", 2, None)  # clusters within the ceiling are untouched
    assert (stats.oversized_clusters, stats.oversized_nodes) == (1, 7)


def test_at_the_ceiling_a_cluster_is_merged(con) -> None:
    result, _ = stitch(con, [("a", "b"), ("b", "c")], ["a", "b", "c"], max_cluster_size=3)
    assert result["c"] == ("a", 3, None)


def test_split_when_the_bad_edge_disappears(con) -> None:
    nodes = ["email:ann", "user:ann", "user:bob", "anon:bob"]
    good = [("email:ann", "user:ann"), ("user:bob", "anon:bob")]
    merged, _ = stitch(con, [*good, ("user:ann", "user:bob")], nodes)
    assert len(clusters(merged)) == 1
    split, _ = stitch(con, good, nodes)
    assert clusters(split) == {
        frozenset({"email:ann", "user:ann"}),
        frozenset({"user:bob", "anon:bob"}),
    }
    # each side keeps its own earliest identifier as key: ann's side the old key
    assert split["user:ann"][0] == merged["user:ann"][0] == "email:ann"
    assert split["anon:bob"][0] == "user:bob"
