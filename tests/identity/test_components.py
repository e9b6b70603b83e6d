"""Unit tests for the identity stitcher (identity/components.py).

Each rule on a small hand-made edge table: the exact partition, the component label, and
that convergence was detected. Then a property test against networkx on random graphs.
"""

from __future__ import annotations

import random
from itertools import pairwise

import networkx as nx
import pandas as pd
import pytest

from identity import (
    ComponentStats,
    NotConvergedError,
    connected_components,
)


def stitch(con, edges, nodes=None, **kwargs) -> tuple[dict[str, str], ComponentStats]:
    """node → component_node for the given edge pairs (and optional (node, first_seen))."""
    frame = pd.DataFrame(edges, columns=["node_a", "node_b"], dtype="string")
    con.register("edge_frame", frame)
    con.execute("create or replace table edges as select * from edge_frame")
    if nodes is not None:
        node_frame = pd.DataFrame(nodes, columns=["node", "first_seen_at"])
        con.register("node_frame", node_frame)
        con.execute("create or replace table nodes as select * from node_frame")
        kwargs.update(nodes_table="nodes", order_by="first_seen_at")
    stats = connected_components(con, "edges", "components", **kwargs)
    labels = dict(con.execute("select node, component_node from components").fetchall())
    assert stats.converged
    assert stats.nodes == len(labels)
    assert stats.components == len(set(labels.values()))
    return labels, stats


def partition(labels: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for node, label in labels.items():
        groups.setdefault(label, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def test_chain_is_one_component_multi_hop(con):
    labels, stats = stitch(con, [("a", "b"), ("b", "c"), ("c", "d")])
    assert labels == {"a": "a", "b": "a", "c": "a", "d": "a"}
    assert stats.rounds >= 1


def test_chain_given_backwards_and_out_of_order(con):
    labels, _ = stitch(con, [("d", "c"), ("b", "a"), ("c", "b")])
    assert set(labels.values()) == {"a"}


def test_fan_in(con):
    # Several cookies all identified as the same user.
    labels, _ = stitch(con, [("c1", "u"), ("c2", "u"), ("c3", "u")])
    assert partition(labels) == {frozenset({"c1", "c2", "c3", "u"})}
    assert set(labels.values()) == {"c1"}


def test_fan_out(con):
    # One hub (a user id) with its e-mail, phone and device.
    labels, stats = stitch(con, [("u", "e"), ("u", "p"), ("u", "d")])
    assert partition(labels) == {frozenset({"u", "e", "p", "d"})}
    assert set(labels.values()) == {"d"}
    assert stats.rounds == 1  # a star collapses in one round (two-hop propagation)


def test_diamond(con):
    labels, _ = stitch(con, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert partition(labels) == {frozenset("abcd")}


def test_two_separate_clusters(con):
    labels, stats = stitch(con, [("a", "b"), ("x", "y"), ("y", "z")])
    assert partition(labels) == {frozenset("ab"), frozenset("xyz")}
    assert labels["z"] == "x" and labels["b"] == "a"
    assert stats.components == 2


def test_self_loops_and_duplicates(con):
    labels, stats = stitch(
        con, [("a", "a"), ("a", "b"), ("b", "a"), ("a", "b"), ("c", "c"), ("c", "c")]
    )
    assert partition(labels) == {frozenset("ab"), frozenset("c")}
    assert stats.edges == 1  # one distinct edge between different nodes


def test_null_ends_are_ignored(con):
    labels, _ = stitch(con, [("a", None), (None, "b"), ("a", "c")])
    assert partition(labels) == {frozenset("ac"), frozenset("b")}


@pytest.mark.parametrize("ids", ["auto", "rank"])
def test_isolated_nodes_from_the_nodes_table(con, ids):
    labels, _ = stitch(con, [("a", "b")], nodes=[("a", 1), ("b", 2), ("lonely", 3)], ids=ids)
    assert partition(labels) == {frozenset("ab"), frozenset({"lonely"})}
    assert labels["lonely"] == "lonely"


@pytest.mark.parametrize("ids", ["auto", "rank"])
def test_component_key_is_earliest_seen_then_the_identifier(con, ids):
    # z was seen first: it keys the cluster although 'a' < 'z'. Ties on time: the
    # identifier decides. A node without a first-seen time sorts last.
    labels, _ = stitch(
        con,
        [("a", "z"), ("z", "m"), ("p", "q"), ("q", "r")],
        nodes=[("a", 5), ("z", 1), ("m", 3), ("q", 2), ("p", 2), ("r", None)],
        ids=ids,
    )
    assert set(labels[n] for n in "azm") == {"z"}
    assert set(labels[n] for n in "pqr") == {"p"}


@pytest.mark.parametrize("ids", ["auto", "rank"])
def test_late_merge_keeps_the_earlier_clusters_key(con, ids):
    nodes = [("cookie1", 1), ("user1", 3), ("cookie2", 2), ("email2", 4)]
    before, _ = stitch(con, [("cookie1", "user1"), ("cookie2", "email2")], nodes, ids=ids)
    assert before == {
        "cookie1": "cookie1",
        "user1": "cookie1",
        "cookie2": "cookie2",
        "email2": "cookie2",
    }
    # A late identify links user1 and email2: the merged cluster keeps cookie1 (seen
    # first); cookie2's key retires.
    after, _ = stitch(
        con, [("cookie1", "user1"), ("cookie2", "email2"), ("user1", "email2")], nodes, ids=ids
    )
    assert set(after.values()) == {"cookie1"}


@pytest.mark.parametrize("ids", ["auto", "rank"])
def test_key_stable_when_a_cluster_grows(con, ids):
    nodes = [("anon", 1), ("user", 2), ("email", 3)]
    before, _ = stitch(con, [("anon", "user"), ("user", "email")], nodes, ids=ids)
    grown, _ = stitch(
        con,
        [("anon", "user"), ("user", "email"), ("email", "crm"), ("crm", "phone")],
        [*nodes, ("crm", 7), ("phone", 8)],
        ids=ids,
    )
    assert set(before.values()) == set(grown.values()) == {"anon"}


def test_long_chain_needs_few_rounds(con):
    rng = random.Random(7)
    names = [f"n{i:05d}" for i in range(20_000)]
    rng.shuffle(names)  # ids in random order along the path
    labels, stats = stitch(con, list(pairwise(names)))
    assert set(labels.values()) == {min(names)}
    assert stats.rounds <= 12  # label propagation alone would need ~20,000 rounds


def test_safety_bound_raises_instead_of_returning_a_partial_answer(con):
    names = [f"n{i:04d}" for i in range(1000)]
    random.Random(3).shuffle(names)
    with pytest.raises(NotConvergedError):
        stitch(con, list(pairwise(names)), max_rounds=1)


def test_rejects_non_identifier_table_names(con):
    with pytest.raises(ValueError):
        connected_components(con, "edges; drop table x", "out")


@pytest.mark.parametrize("ids", ["auto", "rank"])
def test_hashed_and_ranked_ids_agree(con, ids):
    labels, _ = stitch(con, [("b", "c"), ("c", "a"), ("x", "y")], ids=ids)
    assert labels == {"a": "a", "b": "a", "c": "a", "x": "x", "y": "x"}


def test_empty_edge_table(con):
    labels, stats = stitch(con, [])
    assert labels == {} and stats.rounds == 0 and stats.components == 0


@pytest.mark.parametrize("ids", ["auto", "rank"])
@pytest.mark.parametrize("seed", range(8))
def test_same_partition_as_networkx_on_random_graphs(con, seed, ids):
    rng = random.Random(seed)
    n = rng.choice([50, 500, 3000])
    m = rng.randint(1000, 4000)
    edges = [(f"v{rng.randrange(n)}", f"v{rng.randrange(n)}") for _ in range(m)]
    # Plus person-shaped clusters and a long chain, shuffled together.
    for p in range(300):
        size = rng.randint(2, 10)
        edges += [(f"p{p}.{rng.randrange(i)}", f"p{p}.{i}") for i in range(1, size)]
    chain = [f"c{i}" for i in range(rng.randint(100, 1500))]
    rng.shuffle(chain)
    edges += list(pairwise(chain))
    rng.shuffle(edges)

    labels, stats = stitch(con, edges, ids=ids)

    graph = nx.Graph()
    graph.add_edges_from(edges)
    expected = {node: min(c) for c in nx.connected_components(graph) for node in c}
    assert labels == expected
    assert stats.converged


def test_without_key_the_integer_component_id_still_partitions(con):
    frame = pd.DataFrame([("a", "b"), ("b", "c"), ("x", "y")], columns=["node_a", "node_b"])
    con.register("edge_frame", frame)
    con.execute("create or replace table edges as select * from edge_frame")
    stats = connected_components(con, "edges", "components", with_key=False)
    columns = [row[0] for row in con.execute("describe components").fetchall()]
    assert columns == ["node", "node_id", "component_id"]
    rows = con.execute("select node, component_id from components").fetchall()
    groups: dict[int, set[str]] = {}
    for node, component in rows:
        groups.setdefault(component, set()).add(node)
    assert {frozenset(g) for g in groups.values()} == {frozenset("abc"), frozenset("xy")}
    assert stats.converged and stats.components == 2


@pytest.mark.parametrize("with_key", [True, False])
def test_hash_collision_falls_back_to_ranks(con, monkeypatch, with_key):
    # A hash with 8 values: collisions are certain, the run must notice and use ranks.
    import identity.components as components

    con.execute("create macro tiny_hash(x) as hash(x) % 8")
    monkeypatch.setattr(components, "_HASH", "tiny_hash")
    edges = [(f"v{i}", f"v{i + 1}") for i in range(0, 40, 2)] + [("v1", "v2"), ("v7", "v30")]
    frame = pd.DataFrame(edges, columns=["node_a", "node_b"], dtype="string")
    con.register("edge_frame", frame)
    con.execute("create or replace table edges as select * from edge_frame")
    stats = connected_components(con, "edges", "components", with_key=with_key)
    assert stats.ids == "rank" and stats.converged
    graph = nx.Graph()
    graph.add_edges_from(edges)
    expected = {frozenset(c) for c in nx.connected_components(graph)}
    groups: dict[int, set[str]] = {}
    for node, component in con.execute("select node, component_id from components").fetchall():
        groups.setdefault(component, set()).add(node)
    assert {frozenset(g) for g in groups.values()} == expected
    if with_key:
        labels = dict(con.execute("select node, component_node from components").fetchall())
        assert labels == {node: min(c) for c in expected for node in c}


def test_no_working_tables_left_behind(con):
    labels, _ = stitch(con, [("a", "b"), ("b", "c"), ("x", "y")], temporary=True)
    assert labels
    temp = con.execute("select table_name from duckdb_tables() where temporary").fetchall()
    assert temp == [("components",)]


def test_integer_nodes(con):
    con.execute("create table int_edges as select * from (values (1, 2), (2, 3), (7, 8)) t(a, b)")
    stats = connected_components(con, "int_edges", "components", node_a="a", node_b="b")
    labels = dict(con.execute("select node, component_node from components").fetchall())
    assert labels == {1: 1, 2: 1, 3: 1, 7: 7, 8: 7} and stats.converged


@pytest.mark.parametrize("ids", ["auto", "rank"])
def test_without_key_and_with_priorities_only_the_three_columns(con, ids):
    frame = pd.DataFrame([("a", "b"), ("x", "y")], columns=["node_a", "node_b"])
    con.register("edge_frame", frame)
    con.execute("create or replace table edges as select * from edge_frame")
    con.execute("create table nodes as select * from (values ('a', 2), ('b', 1)) t(node, seen)")
    stats = connected_components(
        con, "edges", "components", nodes_table="nodes", order_by="seen", with_key=False, ids=ids
    )
    columns = [row[0] for row in con.execute("describe components").fetchall()]
    assert columns == ["node", "node_id", "component_id"] and stats.components == 2
