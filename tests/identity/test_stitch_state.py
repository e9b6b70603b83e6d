"""The stitching kept between nights (identity/stitch_state.stitch_nightly) and
the guards applied to it (guards.stitch_with_guards with `stitched_table`).

The contract: whatever the night brings, the state holds exactly what a full
`connected_components` run over tonight's edges and nodes writes; a night that only adds
is re-stitched incrementally, a night that removes anything is stitched in full; and the
guards give the same clusters on the kept stitching as on a fresh one.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest

from identity import connected_components, stitch_nightly, stitch_with_guards

COLUMNS = "node, node_id, component_id, component_node"
STATE = "identity_state"


def load(con, edges: list[tuple[str, str]], nodes: dict[str, int | None]) -> None:
    """Tonight's `edges(identifier_key_a, identifier_key_b, source)` and `nodes`."""
    edge_frame = pd.DataFrame(
        [(a, b, "manual" if i % 7 == 0 else "crm") for i, (a, b) in enumerate(edges)],
        columns=["identifier_key_a", "identifier_key_b", "source"],
        dtype="string",
    )
    node_frame = pd.DataFrame(list(nodes.items()), columns=["identifier_key", "day"])
    con.register("_edge_frame", edge_frame)
    con.register("_node_frame", node_frame)
    con.execute(
        """
        create or replace table edges as
        select identifier_key_a::varchar as identifier_key_a,
            identifier_key_b::varchar as identifier_key_b, source::varchar as source
        from _edge_frame
        """
    )
    con.execute(
        """
        create or replace table nodes as
        select identifier_key::varchar as identifier_key,
            timestamp '2026-01-01' + to_days(day::integer) as first_seen_at
        from _node_frame
        """
    )
    con.unregister("_edge_frame")
    con.unregister("_node_frame")


def tonight(con, **kwargs):
    # the graphs here are tiny: any removal reopens a large share of them
    kwargs.setdefault("max_reopened_share", 1.0)
    return stitch_nightly(
        con, edges_table="edges", nodes_table="nodes", state_schema=STATE, **kwargs
    )


def state_rows(con) -> set[tuple]:
    return set(con.execute(f"select {COLUMNS} from {STATE}.stitched_components").fetchall())


def full_rows(con) -> set[tuple]:
    connected_components(
        con,
        "edges",
        "full_out",
        node_a="identifier_key_a",
        node_b="identifier_key_b",
        nodes_table="nodes",
        node="identifier_key",
        order_by="first_seen_at",
    )
    return set(con.execute(f"select {COLUMNS} from full_out").fetchall())


def test_first_night_is_full_then_additions_are_incremental(con) -> None:
    nodes = {"cookie:1": 1, "user:1": 2, "cookie:2": 3, "email:2": 4, "lonely": 5}
    load(con, [("cookie:1", "user:1"), ("cookie:2", "email:2")], nodes)
    first = tonight(con)
    assert (first.mode, first.nodes, first.components) == ("full", 5, 3)
    assert first.reason.startswith("no previous state")
    assert state_rows(con) == full_rows(con)

    # night 2: a merge, a new identifier of an existing person, a new isolated node
    nodes |= {"phone:1": 6, "device:9": 7}
    load(
        con,
        [
            ("cookie:1", "user:1"),
            ("cookie:2", "email:2"),
            ("user:1", "email:2"),
            ("user:1", "phone:1"),
        ],
        nodes,
    )
    second = tonight(con)
    assert (second.mode, second.new_edges, second.new_nodes) == ("incremental", 2, 2)
    assert second.incremental.touched_components == 2
    assert state_rows(con) == full_rows(con)
    assert {key for _, _, _, key in state_rows(con)} == {"cookie:1", "lonely", "device:9"}

    # night 3: nothing new — nothing touched
    third = tonight(con)
    assert (third.mode, third.new_edges, third.new_nodes) == ("incremental", 0, 0)
    assert third.incremental.touched_components == 0
    assert state_rows(con) == full_rows(con)


def test_late_data_seen_earlier_rekeys_incrementally(con) -> None:
    nodes = {"cookie:1": 5, "user:1": 6, "email:1": 7}
    edges = [("cookie:1", "user:1"), ("user:1", "email:1")]
    load(con, edges, nodes)
    tonight(con)
    load(con, edges, nodes | {"email:1": 1})  # a backfill saw email:1 first
    stats = tonight(con)
    assert stats.mode == "incremental"
    assert {key for _, _, _, key in state_rows(con)} == {"email:1"}
    assert state_rows(con) == full_rows(con)


@pytest.mark.parametrize(
    ("change", "reopened"),
    [("edge", 1), ("node", 1), ("later", 1), ("nothing", 0)],
)
def test_removals_reopen_only_their_cluster(con, change, reopened) -> None:
    nodes = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "x": 6, "y": 7}
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("x", "y")]
    load(con, edges, nodes)
    tonight(con)
    if change == "edge":  # the bad edge goes: the cluster splits
        load(con, [("a", "b"), ("c", "d"), ("x", "y")], nodes)
    elif change == "node":  # an erasure takes e (no edges)
        load(con, edges, {k: v for k, v in nodes.items() if k != "e"})
    elif change == "later":  # a's first sighting was wrong: b becomes the key
        load(con, edges, nodes | {"a": 9})
    stats = tonight(con)
    assert (stats.mode, stats.reopened_components) == ("incremental", reopened)
    assert state_rows(con) == full_rows(con)
    expected_keys = {
        "edge": {"a", "c", "e", "x"},
        "node": {"a", "x"},
        "later": {"b", "e", "x"},
        "nothing": {"a", "e", "x"},
    }[change]
    assert {key for _, _, _, key in state_rows(con)} == expected_keys
    # the untouched cluster x-y was not rewritten: only the reopened ones were
    assert stats.incremental.touched_components == 0
    assert (
        stats.incremental.changed_rows == {"edge": 4, "node": 0, "later": 4, "nothing": 0}[change]
    )


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"force_full": True}, "requested"),
        ({"max_reopened_share": 0.1}, "a full run is cheaper"),
    ],
)
def test_full_runs_on_request_or_when_removals_reopen_too_much(con, kwargs, reason) -> None:
    nodes = {"a": 1, "b": 2, "c": 3, "d": 4}
    load(con, [("a", "b"), ("b", "c"), ("c", "d")], nodes)
    tonight(con)
    load(con, [("a", "b"), ("c", "d")], nodes)
    stats = tonight(con, **kwargs)
    assert stats.mode == "full"
    assert reason in stats.reason
    assert state_rows(con) == full_rows(con)


def test_a_failed_night_leaves_the_previous_state(con, monkeypatch) -> None:
    import identity.stitch_state as stitch_state

    load(con, [("a", "b")], {"a": 1, "b": 2, "c": 3})
    tonight(con)
    before = state_rows(con)
    load(con, [("b", "c")], {"a": 1, "b": 2, "c": 3})  # a removal and an addition

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(stitch_state, "restitch_incremental", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        tonight(con)
    assert state_rows(con) == before
    monkeypatch.undo()
    stats = tonight(con)
    assert (stats.mode, stats.gone_edges, stats.new_edges) == ("incremental", 1, 1)
    assert state_rows(con) == full_rows(con)
    runs = con.execute(f"select mode from {STATE}.stitch_runs order by stitched_at").fetchall()
    assert runs == [("full",), ("incremental",)]


@pytest.mark.parametrize("seed", range(6))
def test_nights_of_random_changes_equal_a_full_run(con, seed) -> None:
    """Seeded random graphs over 8 nights: additions, merges, late data, removals."""
    rng = random.Random(seed)
    nodes: dict[str, int | None] = {}
    edges: list[tuple[str, str]] = []
    people = 0
    modes = []
    for night in range(8):
        for _ in range(rng.randint(5, 25)):  # new people, a small tree each
            people += 1
            members = [f"p{people}:{k}" for k in range(rng.randint(1, 5))]
            for member in members:
                nodes[member] = rng.choice([None, night * 10 + rng.randint(0, 9)])
            edges += [(m, rng.choice(members[:i])) for i, m in enumerate(members) if i]
        known = sorted(nodes)
        for _ in range(rng.randint(0, 6)):  # merges and new identifiers of known people
            a = rng.choice(known)
            b = rng.choice(known) if rng.random() < 0.5 else f"late{night}:{rng.random()}"
            nodes.setdefault(b, night * 10 + 9)
            edges.append((a, b))
        if night and rng.random() < 0.3:  # late data: someone seen earlier
            node = rng.choice(known)
            if nodes[node] is not None:
                nodes[node] -= 5
        if night and rng.random() < 0.4:  # edges disappear (guards, erasures)
            for _ in range(rng.randint(1, 3)):
                edges.pop(rng.randrange(len(edges)))
        if night and rng.random() < 0.2:  # an identifier is erased, with its edges
            gone = rng.choice(sorted(nodes))
            del nodes[gone]
            edges = [edge for edge in edges if gone not in edge]
        if night and rng.random() < 0.2:  # a first sighting moves later
            node = rng.choice(sorted(nodes))
            nodes[node] = None if nodes[node] is None else nodes[node] + 30
        load(con, edges, nodes)
        stats = tonight(con)
        modes.append(stats.mode)
        assert state_rows(con) == full_rows(con), f"night {night}"
    assert modes == ["full"] + ["incremental"] * 7


def guarded(con, **kwargs) -> set[tuple]:
    stitch_with_guards(
        con,
        edges_table="edges",
        nodes_table="nodes",
        keep_apart_table="keep",
        out_table="guarded",
        max_cluster_size=kwargs.pop("max_cluster_size"),
        **kwargs,
    )
    return set(
        con.execute(
            "select node, component_key, component_size, guard, guard_detail from guarded"
        ).fetchall()
    )


@pytest.mark.parametrize("seed", range(6))
def test_guards_on_the_kept_stitching_equal_guards_on_a_fresh_one(con, seed) -> None:
    """Random graphs with keep_apart decisions (some across paths, some joined by manual
    merges) and a low size ceiling: same clusters, sizes, guards and details."""
    rng = random.Random(100 + seed)
    names = [f"n{i:03d}" for i in range(120)]
    edges = [(rng.choice(names), rng.choice(names)) for _ in range(110)]
    nodes = {name: rng.randint(0, 50) for name in names}
    load(con, edges, nodes)
    pairs = {tuple(sorted(rng.sample(names, 2))) for _ in range(12)}
    con.execute(
        "create or replace table keep"
        " (decision_id varchar, identifier_key_a varchar, identifier_key_b varchar)"
    )
    con.executemany(
        "insert into keep values (?, ?, ?)",
        [(f"d{i}", a, b) for i, (a, b) in enumerate(sorted(pairs))],
    )
    ceiling = rng.choice([8, 15, 200])
    fresh = guarded(con, max_cluster_size=ceiling)
    tonight(con)
    kept = guarded(con, max_cluster_size=ceiling, stitched_table=f"{STATE}.stitched_components")
    assert kept == fresh
    assert any(guard == "kept_apart" for _, _, _, guard, _ in fresh)
