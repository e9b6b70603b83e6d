"""Fuzzy matching kept between nights (identity/match_state.py): the kept pairs are used
only when nothing the matcher reads changed, and the result is always exactly what
`match_records` gives on the same input."""

from __future__ import annotations

import random

import duckdb
import pytest

from identity import MatchSettings, match_records
from identity.match_state import input_fingerprint, match_nightly
from tests.identity.test_matching import MAPPING, _person_rows

STATE = "identity_state"
# Trained as in production (u sampled), on fewer sampled pairs: the test is about keeping.
SETTINGS = MatchSettings(u_max_pairs=20_000)


@pytest.fixture
def people() -> duckdb.DuckDBPyConnection:
    """A trained-size population (u sampled, EM) of ~320 records on a fresh connection."""
    con = duckdb.connect()
    con.execute(
        """
        create table people (
            record_id varchar, first_name varchar, last_name varchar, birth_date date,
            email varchar, email_normalized varchar, phone_e164 varchar, city varchar
        )
        """
    )
    con.executemany(
        "insert into people values (?, ?, ?, ?, ?, ?, ?, ?)",
        _person_rows(random.Random(7), 300),
    )
    yield con
    con.close()


def pairs(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.sql(f"select * from {table} order by record_id_l, record_id_r").fetchall()


def fresh(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    match_records(con, "people", MAPPING, "fresh", SETTINGS, temporary=True)
    return pairs(con, "fresh")


def test_kept_only_while_the_input_is_unchanged(people) -> None:
    first = match_nightly(people, "people", MAPPING, "out", SETTINGS, state_schema=STATE)
    assert (first.mode, first.reason) == ("matched", "no kept matching")
    assert first.stats is not None and first.stats.trained != "fixed"  # u sampled
    expected = fresh(people)
    assert pairs(people, "out") == expected and first.pairs == len(expected) > 0

    second = match_nightly(people, "people", MAPPING, "out", SETTINGS, state_schema=STATE)
    assert second.mode == "kept" and second.stats is None
    assert second.fingerprint == first.fingerprint
    assert pairs(people, "out") == expected  # to the last bit

    # A column the matcher does not read changes nothing.
    people.execute("update people set email = 'x' || email")
    unread = match_nightly(people, "people", MAPPING, "out", SETTINGS, state_schema=STATE)
    assert unread.mode == "kept"

    # One record edited: matched again, and equal to a fresh match of the new input.
    people.execute("update people set last_name = 'Smyth' where record_id = 'bg-00003'")
    third = match_nightly(people, "people", MAPPING, "out", SETTINGS, state_schema=STATE)
    assert (third.mode, third.reason) == ("matched", "the matcher's inputs changed")
    assert pairs(people, "out") == fresh(people)

    forced = match_nightly(
        people, "people", MAPPING, "out", SETTINGS, state_schema=STATE, force_full=True
    )
    assert (forced.mode, forced.reason) == ("matched", "a full re-match requested")
    runs = people.sql(f"select mode from {STATE}.match_runs order by matched_at").fetchall()
    assert [m for (m,) in runs] == ["matched", "kept", "kept", "matched", "matched"]


def test_the_fingerprint_follows_rows_types_and_settings(people) -> None:
    base = input_fingerprint(people, "people", MAPPING, MatchSettings())
    assert input_fingerprint(people, "people", MAPPING, MatchSettings()) == base
    assert input_fingerprint(people, "people", MAPPING, MatchSettings(threshold=0.9)) != base
    people.execute("insert into people select * from people limit 0")  # no rows: no change
    assert input_fingerprint(people, "people", MAPPING, MatchSettings()) == base
    people.execute("delete from people where record_id = 'bg-00010'")
    deleted = input_fingerprint(people, "people", MAPPING, MatchSettings())
    assert deleted != base
    people.execute("alter table people alter birth_date type varchar")
    assert input_fingerprint(people, "people", MAPPING, MatchSettings()) != deleted
