"""Incremental re-stitching (identity/components.restitch_incremental).

The contract: for edges only added, re-stitching the touched components of the previous
run's output gives exactly what a full `connected_components` run over all edges gives —
the same rows (node, node_id, component_id, component_node). Hand-made cases for each kind
of change, then a property test on seeded random graphs, night after night.
"""

from __future__ import annotations

import random
from itertools import pairwise

import pandas as pd
import pytest

import identity.components as components
from identity.components import (
    IncrementalNotApplicable,
    connected_components,
    restitch_incremental,
)

COLUMNS = "node, node_id, component_id, component_node"


def load_edges(con, table: str, edges) -> None:
    frame = pd.DataFrame(list(edges), columns=["node_a", "node_b"], dtype="string")
    con.register("_edge_frame", frame)
    con.execute(
        f"create or replace table {table} as"
        " select node_a::varchar as node_a, node_b::varchar as node_b from _edge_frame"
    )
    con.unregister("_edge_frame")


def load_nodes(con, table: str, nodes) -> None:
    frame = pd.DataFrame(list(nodes), columns=["node", "first_seen_at"])
    con.register("_node_frame", frame)
    con.execute(
        f"create or replace table {table} as"
        " select node::varchar as node, first_seen_at::integer as first_seen_at from _node_frame"
    )
    con.unregister("_node_frame")


def rows(con, table: str) -> set[tuple]:
    return set(con.execute(f"select {COLUMNS} from {table}").fetchall())


def keys(con, table: str) -> dict[str, str]:
    return dict(con.execute(f"select node, component_node from {table}").fetchall())


def full(con, edges, nodes=None, priority=True) -> set[tuple]:
    """What a full run over `edges` (and `nodes`, keyed by first_seen_at) writes."""
    load_edges(con, "_full_edges", edges)
    kwargs = {}
    if nodes is not None:
        load_nodes(con, "_full_nodes", nodes)
        kwargs = {"nodes_table": "_full_nodes", "order_by": "first_seen_at" if priority else None}
    stats = connected_components(con, "_full_edges", "_full_out", **kwargs)
    assert stats.converged and stats.ids == "hash"
    return rows(con, "_full_out")


def night(con, previous: str, new_edges, nodes=None, new_nodes=None, priority=True, **kwargs):
    """Re-stitch `previous` in place with `new_edges`; nodes = all nodes known tonight."""
    load_edges(con, "new_edges", new_edges)
    if nodes is not None:
        load_nodes(con, "nodes", nodes)
        kwargs.update(nodes_table="nodes", order_by="first_seen_at" if priority else None)
    if new_nodes is not None:
        con.execute("create or replace table new_nodes (node varchar)")
        con.executemany("insert into new_nodes values (?)", [(n,) for n in new_nodes])
        kwargs["new_nodes_table"] = "new_nodes"
    return restitch_incremental(con, previous, "new_edges", previous, **kwargs)


def first_night(con, edges, nodes=None, priority=True) -> None:
    load_edges(con, "edges", edges)
    kwargs = {}
    if nodes is not None:
        load_nodes(con, "nodes", nodes)
        kwargs = {"nodes_table": "nodes", "order_by": "first_seen_at" if priority else None}
    connected_components(con, "edges", "components", **kwargs)


def test_merge_of_two_components_keeps_the_earlier_key(con):
    old = [("cookie1", "user1"), ("cookie2", "email2")]
    nodes = [("cookie1", 1), ("user1", 3), ("cookie2", 2), ("email2", 4)]
    first_night(con, old, nodes)
    stats = night(con, "components", [("user1", "email2")], nodes, changes_table="changes")
    assert set(keys(con, "components").values()) == {"cookie1"}
    assert rows(con, "components") == full(con, [*old, ("user1", "email2")], nodes)
    assert (stats.touched_components, stats.retired_keys, stats.components) == (2, 1, 1)
    # only the younger cluster's rows moved (and the component id, if its smallest
    # hash was on the younger side)
    changed = con.execute(
        "select node, previous_component_node, component_node from changes"
    ).fetchall()
    assert {(n, before, after) for n, before, after in changed} >= {
        ("cookie2", "cookie2", "cookie1"),
        ("email2", "cookie2", "cookie1"),
    }
    assert stats.changed_rows == len(changed)


def test_new_node_joins_an_existing_component(con):
    old = [("anon", "user"), ("user", "email")]
    nodes = [("anon", 1), ("user", 2), ("email", 3)]
    first_night(con, old, nodes)
    before = rows(con, "components")
    tonight = [*nodes, ("phone", 9)]
    stats = night(con, "components", [("email", "phone")], tonight, changes_table="changes")
    after = rows(con, "components")
    assert after == full(con, [*old, ("email", "phone")], tonight)
    assert keys(con, "components")["phone"] == "anon"
    assert stats.new_nodes == 1 and stats.retired_keys == 0
    # the old rows stay unless the new node's hash is the component's smallest id
    new_id = con.execute("select node_id from components where node = 'phone'").fetchall()[0][0]
    if new_id > min(row[2] for row in before):
        assert before < after and stats.changed_rows == 1


def test_isolated_new_node(con):
    first_night(con, [("a", "b")], [("a", 1), ("b", 2)])
    tonight = [("a", 1), ("b", 2), ("lonely", 3)]
    stats = night(con, "components", [], tonight, new_nodes=["lonely"])
    assert keys(con, "components") == {"a": "a", "b": "a", "lonely": "lonely"}
    assert rows(con, "components") == full(con, [("a", "b")], tonight)
    assert (stats.new_nodes, stats.touched_components, stats.changed_rows) == (1, 0, 1)


def test_isolated_new_node_found_without_new_nodes_table(con):
    first_night(con, [("a", "b")], [("a", 1), ("b", 2)])
    tonight = [("a", 1), ("b", 2), ("lonely", 3)]
    night(con, "components", [], tonight)  # anti-join of the nodes table
    assert rows(con, "components") == full(con, [("a", "b")], tonight)


def test_new_edge_ends_self_loops_and_nulls(con):
    first_night(con, [("a", "b")])
    new = [("c", None), (None, "d"), ("e", "e"), ("a", None)]
    stats = night(con, "components", new)
    assert rows(con, "components") == full(con, [("a", "b"), *new])
    assert stats.new_nodes == 3 and stats.touched_components == 0


def test_edge_inside_a_component_changes_nothing(con):
    first_night(con, [("a", "b"), ("b", "c")])
    before = rows(con, "components")
    stats = night(con, "components", [("a", "c"), ("c", "a"), ("b", "b")])
    assert rows(con, "components") == before
    assert (stats.touched_components, stats.changed_rows, stats.stitch) == (0, 0, None)


def test_rekey_when_a_priority_changes(con):
    old = [("x", "y"), ("y", "z")]
    first_night(con, old, [("x", 5), ("y", 6), ("z", 7)])
    assert set(keys(con, "components").values()) == {"x"}
    # late data: z was seen first after all
    tonight = [("x", 5), ("y", 6), ("z", 1)]
    load_edges(con, "new_edges", [])
    load_nodes(con, "nodes", tonight)
    con.execute("create or replace table touched as select 'z' as node")
    con.execute("create or replace table no_new_nodes (node varchar)")
    stats = restitch_incremental(
        con,
        "components",
        "new_edges",
        "components",
        nodes_table="nodes",
        order_by="first_seen_at",
        new_nodes_table="no_new_nodes",
        touched_nodes_table="touched",
    )
    assert set(keys(con, "components").values()) == {"z"}
    assert rows(con, "components") == full(con, old, tonight)
    assert stats.retired_keys == 1


def test_out_of_place_and_changes_table(con):
    first_night(con, [("a", "b"), ("c", "d")])
    before = rows(con, "components")
    load_edges(con, "new_edges", [("b", "c"), ("e", "f")])
    stats = restitch_incremental(con, "components", "new_edges", "tonight", changes_table="changes")
    assert rows(con, "components") == before  # the previous table is untouched
    assert rows(con, "tonight") == full(con, [("a", "b"), ("c", "d"), ("b", "c"), ("e", "f")])
    assert stats.nodes == 6 and stats.new_nodes == 2
    changes = con.execute("select node, previous_component_node from changes").fetchall()
    assert {node for node, _ in changes} >= {"e", "f"}
    assert all(prev is None for node, prev in changes if node in "ef")


def test_previous_table_with_ranks_is_not_applicable(con):
    load_edges(con, "edges", [("a", "b"), ("c", "d")])
    connected_components(con, "edges", "components", ids="rank")
    before = rows(con, "components")
    load_edges(con, "new_edges", [("b", "c")])
    with pytest.raises(IncrementalNotApplicable):
        restitch_incremental(con, "components", "new_edges", "components")
    assert rows(con, "components") == before


def test_previous_table_without_key_is_rejected(con):
    load_edges(con, "edges", [("a", "b")])
    connected_components(con, "edges", "components", with_key=False)
    load_edges(con, "new_edges", [("b", "c")])
    with pytest.raises(ValueError):
        restitch_incremental(con, "components", "new_edges", "components")


def test_hash_collision_is_not_applicable(con, monkeypatch):
    # a hash with 4 values: collisions are certain; the full run falls back to ranks
    con.execute("create macro tiny_hash(x) as hash(x) % 4")
    monkeypatch.setattr(components, "_HASH", "tiny_hash")
    load_edges(con, "edges", [("a", "b")])
    stats = connected_components(con, "edges", "components")
    if stats.ids != "hash":  # 'a' and 'b' collide already
        return
    before = rows(con, "components")
    load_edges(con, "new_edges", [(f"n{i}", f"n{i + 1}") for i in range(8)])
    with pytest.raises(IncrementalNotApplicable):
        restitch_incremental(con, "components", "new_edges", "components")
    assert rows(con, "components") == before


def random_graph(rng: random.Random, prefix: str, people: int) -> list[tuple[str, str]]:
    """Person-shaped clusters (a random tree each, some extra edges) plus a chain."""
    edges = []
    for p in range(people):
        size = rng.randint(1, 8)
        members = [f"{prefix}{p}.{i}" for i in range(size)]
        edges += [(members[rng.randrange(i)], members[i]) for i in range(1, size)]
        if size > 2 and rng.random() < 0.2:
            edges.append((members[0], members[-1]))
    chain = [f"{prefix}c{i}" for i in range(rng.randint(20, 300))]
    rng.shuffle(chain)
    return edges + list(pairwise(chain))


@pytest.mark.parametrize("with_priority", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_incremental_equals_full_on_random_graphs(con, seed, with_priority):
    rng = random.Random(seed)
    old = random_graph(rng, "o", 250)
    old_nodes = sorted({n for edge in old for n in edge})
    seen = {n: rng.choice([rng.randrange(1000), None]) for n in old_nodes}
    first_night(con, old, list(seen.items()), priority=with_priority)
    all_edges = list(old)
    for night_no in range(3):
        known = sorted(seen)
        new = []
        for _ in range(rng.randint(5, 40)):  # merges of old components
            new.append((rng.choice(known), rng.choice(known)))
        fresh = random_graph(rng, f"n{night_no}.", 15)  # new people and a new chain
        new += fresh
        fresh_nodes = sorted({n for edge in fresh for n in edge})
        for n in rng.sample(fresh_nodes, 10):  # new identifiers of old people
            new.append((rng.choice(known), n))
        new += rng.sample(old, 10)  # repeated edges
        new += [(rng.choice(known), None), (f"self{night_no}", f"self{night_no}")]
        rng.shuffle(new)
        isolated = [f"isolated{night_no}.{i}" for i in range(3)]
        for n in [*fresh_nodes, *isolated, f"self{night_no}"]:
            seen[n] = rng.choice([rng.randrange(1000, 2000), None])
        before = rows(con, "components")
        stats = night(
            con,
            "components",
            new,
            list(seen.items()),
            new_nodes=isolated,
            priority=with_priority,
            changes_table="changes",
        )
        all_edges += new
        expected = full(con, all_edges, list(seen.items()), priority=with_priority)
        after = rows(con, "components")
        assert after == expected, f"night {night_no}"
        assert stats.touched_components > 0 and stats.retired_keys > 0
        # every row outside the changes stayed as it was
        changed = {node for (node,) in con.execute("select node from changes").fetchall()}
        assert stats.changed_rows == len(changed) < len(after)
        assert {row for row in before if row[0] not in changed} <= after


def test_merged_component_keeps_the_earliest_key_on_random_graphs(con):
    rng = random.Random(42)
    old = random_graph(rng, "o", 200)
    seen = {n: rng.randrange(1000) for edge in old for n in edge}
    first_night(con, old, list(seen.items()))
    before = keys(con, "components")
    first_seen = dict(seen)
    new = [(rng.choice(sorted(seen)), rng.choice(sorted(seen))) for _ in range(30)]
    night(con, "components", new, list(seen.items()))
    after = keys(con, "components")
    for node, key in after.items():
        # the new key is the earliest-seen of the old keys that merged into it
        merged_keys = {before[n] for n, k in after.items() if k == key}
        assert key == min(merged_keys, key=lambda k: (first_seen[k], k))
        assert before[node] in merged_keys


def test_hash_collision_of_an_isolated_new_node_is_not_applicable(con, monkeypatch):
    # found through the nodes table (no new_nodes_table): a new node whose hash is an
    # existing node's must not be taken for that node
    con.execute("create macro tiny_hash(x) as hash(x) % 64")
    monkeypatch.setattr(components, "_HASH", "tiny_hash")
    first_night(con, [("a", "b")], [("a", 1), ("b", 2)])
    ids = dict(con.execute("select node, node_id from components").fetchall())
    if len(set(ids.values())) < 2:
        return
    twin = next(
        f"x{i}"
        for i in range(10_000)
        if con.execute(f"select tiny_hash('x{i}')").fetchall()[0][0] == ids["a"]
    )
    before = rows(con, "components")
    with pytest.raises(IncrementalNotApplicable):
        night(con, "components", [], [("a", 1), ("b", 2), (twin, 3)])
    assert rows(con, "components") == before
