"""A nightly build equals a full rebuild: after four nights of new, late, duplicate,
re-delivered, held, released and withdrawn deliveries (conftest.py), every staging,
intermediate and mart table has the same rows as `dbt build --full-refresh` of the same
warehouse gives (DESIGN.md's "same warehouse": ordered content hashes per table)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import BAD_DAY, DAYS, Nights, query

pytestmark = pytest.mark.integration


def test_the_nightly_warehouse_equals_a_full_rebuild(nights: Nights) -> None:
    nightly = nights.nights[-1].fingerprints
    assert set(nightly) == set(nights.rebuilt)
    for schema, tables in nightly.items():
        assert tables, f"nothing compared in {schema}"
        assert set(tables) == set(nights.rebuilt[schema]), schema
        differing = sorted(t for t in tables if tables[t] != nights.rebuilt[schema][t])
        assert not differing, f"{schema}: {differing} differ from a full rebuild"
    assert "staging.stg_events__messages" in nightly["staging"]
    assert "marts.dim_customers" in nightly["marts"]


def test_duplicates_and_late_messages_count_once_and_leave_when_withdrawn(
    nights: Nights,
) -> None:
    before, night2, _, night4 = (n.facts for n in nights.nights)
    # Night 2: five messages of 06 delivered again with 07, and one late message.
    assert night2["redelivered_messages"][0][0] == before["redelivered_messages"][0][0] + 5
    assert night2["late_message"] == [(1,)]
    staged = sum(n for _, n in night2["events_staged_by_day"])
    assert staged == sum(n for _, n in before["events_staged_by_day"]) + (
        dict(night2["events_staged_by_day"])[DAYS[3]] + 1  # day 09, and the late one
    )
    # Night 4: the extra file is withdrawn: the duplicates count once again, the late
    # message is gone — found through the delivery dates the messages kept.
    assert night4["redelivered_messages"] == before["redelivered_messages"]
    assert night4["late_message"] == [(0,)]


def test_a_shorter_redelivery_replaces_its_day(nights: Nights) -> None:
    night3, night4 = (dict(n.facts["requests_by_day"]) for n in nights.nights[2:])
    assert night4[DAYS[3]] == night3[DAYS[3]] - 3
    assert {d: n for d, n in night4.items() if d != DAYS[3]} == {
        d: n for d, n in night3.items() if d != DAYS[3]
    }


def test_each_incremental_model_recorded_the_loads_it_processed(nights: Nights) -> None:
    visible = query(
        nights.settings,
        "SELECT delivery_date, loaded_at FROM state.delivery_status "
        "WHERE source = 'events' AND status IN ('accepted', 'released') ORDER BY 1",
    )
    recorded = query(
        nights.settings, "SELECT * FROM incremental.stg_events__messages__loads ORDER BY 1"
    )
    assert recorded == visible and len(recorded) == len(DAYS)
    assert BAD_DAY in dict(recorded)
