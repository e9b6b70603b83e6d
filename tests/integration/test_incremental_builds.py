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
    night1, night2, _, night4 = (dict(n.facts["delivered_06_and_07"]) for n in nights.nights)
    redelivered = set(nights.redelivered_ids)
    assert len(redelivered) == 5
    # Night 2: the five messages of 06 delivered again with 07 are one message each,
    # delivered once more than before; the late message is staged.
    assert set(night2) - set(night1) == redelivered - set(night1)
    assert redelivered <= set(night2)
    for message_id in redelivered:
        if message_id in night1:  # already delivered on 07 too: one delivery more
            assert night2[message_id] == night1[message_id] + 1
        else:
            assert night2[message_id] >= 2
    assert nights.nights[1].facts["late_message"] == [(1,)]
    # Night 4: the extra file is withdrawn. The messages are as they were after night 1,
    # found through the delivery dates they kept; the late message is gone.
    assert night4 == night1
    assert nights.nights[3].facts["late_message"] == [(0,)]


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
