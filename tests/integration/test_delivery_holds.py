"""A bad delivery holds back only itself: identity and marts build on the rest; a steward's
release makes it visible and survives a reload of the same files; a re-delivery is judged
afresh (docs/quality.md, "Held deliveries"). On the shared four nights (conftest.py)."""

from __future__ import annotations

import pytest

from orchestration.cli import HELD_EXIT_CODE
from tests.integration.conftest import BAD_DAY, DAYS, Nights

pytestmark = pytest.mark.integration


def test_night_1_holds_the_bad_delivery_and_names_it(nights: Nights) -> None:
    night = nights.nights[0]
    critical = night.checks[("raw/events", "gx_critical")]
    assert not critical.passed
    assert critical.metadata["held"].value == [BAD_DAY.isoformat()]
    assert f"{BAD_DAY} held: [critical] type is one of" in critical.description
    # The other sources' gates passed; a held delivery does not fail the run …
    assert night.checks[("raw/orders", "gx_critical")].passed
    assert night.checks[("raw/crm_customers", "gx_critical")].passed
    assert night.success
    # … but `cdw run` says what is held and why, and exits with its own code.
    assert night.code == HELD_EXIT_CODE
    assert "Held deliveries (1;" in night.output
    assert f"events {BAD_DAY}: [critical] type is one of" in night.output
    events = {day: status for (source, day), status in night.statuses.items() if source == "events"}
    assert events == {DAYS[0]: "accepted", DAYS[1]: "accepted", BAD_DAY: "held"}
    assert [k for k, status in night.statuses.items() if status != "accepted"] == [
        ("events", BAD_DAY)
    ]


def test_night_1_builds_everything_else_from_the_accepted_data(nights: Nights) -> None:
    night = nights.nights[0]
    # Kept in raw, invisible to dbt: not one staged message comes from the held delivery.
    assert dict(night.facts["events_in_raw_by_day"])[BAD_DAY] > 0
    assert BAD_DAY not in dict(night.facts["events_visible_by_day"])
    staged = dict(night.facts["events_staged_by_day"])
    assert BAD_DAY not in staged and staged[DAYS[1]] > 0
    # Identity, the customer marts and the snapshot were built, and every dbt test passed.
    assert {
        "intermediate/int_identity__components",
        "marts/dim_customers",
        "state/snp_identity__memberships",
        "staging/stg_events__messages",
        "staging/stg_orders__orders",
    } <= night.materialized
    assert night.facts["customers"][0][0] > 0
    dbt_checks = {k: e for k, e in night.checks.items() if not k[0].startswith("raw/")}
    assert dbt_checks and all(e.passed for e in dbt_checks.values())


def test_a_hold_stays_red_until_released(nights: Nights) -> None:
    night = nights.nights[1]  # events of 07 re-delivered and accepted; 08 not touched
    assert night.statuses[("events", DAYS[1])] == "accepted"
    assert night.statuses[("events", BAD_DAY)] == "held"
    critical = night.checks[("raw/events", "gx_critical")]
    assert not critical.passed and f"{BAD_DAY} held" in critical.description
    assert night.code == HELD_EXIT_CODE


def test_a_release_survives_a_reload_of_the_same_files(nights: Nights) -> None:
    assert nights.releases == [("steward@test", "bogus types are a test feed")]
    night = nights.nights[2]  # released, then `--reload`: judged held again, still released
    assert night.statuses[("events", BAD_DAY)] == "released"
    assert night.checks[("raw/events", "gx_critical")].passed
    assert night.code == 0
    visible = dict(night.facts["events_visible_by_day"])
    assert visible[BAD_DAY] == dict(night.facts["events_in_raw_by_day"])[BAD_DAY] > 0
    assert dict(night.facts["events_staged_by_day"])[BAD_DAY] > 0


def test_a_clean_redelivery_is_judged_afresh(nights: Nights) -> None:
    night = nights.nights[3]
    assert night.statuses[("events", BAD_DAY)] == "accepted"
    assert night.checks[("raw/events", "gx_critical")].passed
    assert night.code == 0
