"""A defect in one raw table stops what is downstream of it, in the same Dagster run."""

from __future__ import annotations

import json
from datetime import date

import pytest
from dagster import DagsterEventType, DagsterInstance

from orchestration.definitions import build_definitions
from orchestration.schedules.sensors import range_run_request
from orchestration.settings import Settings
from sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(customers=40, days=3, end_date=date(2026, 1, 10), seed=23)


def test_a_critical_defect_blocks_its_dbt_steps_but_not_unrelated_sources(tmp_path) -> None:
    settings = Settings.under(tmp_path)
    generate(CONFIG, settings.landing_dir, settings.truth_dir)
    # The defect: well-formed events whose `type` is not a Segment type. The loader keeps
    # them (values are the gate's business, not the parser's); the gate must stop them.
    mobile = settings.landing_dir / "events" / "2026-01-10" / "mobile.jsonl"
    lines = mobile.read_text().splitlines()
    defective = 0
    for i, line in enumerate(lines):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "track" and defective < 3:
            message["type"] = "bogus"
            lines[i] = json.dumps(message)
            defective += 1
    assert defective == 3
    mobile.write_text("\n".join(lines) + "\n")

    request = range_run_request(date(2026, 1, 8), date(2026, 1, 10), run_key=None)
    result = (
        build_definitions(settings)
        .resolve_job_def("nightly")
        .execute_in_process(
            instance=DagsterInstance.ephemeral(), tags=request.tags, raise_on_error=False
        )
    )

    checks = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    assert not checks[("raw/events", "gx_critical")].passed
    assert checks[("raw/orders", "gx_critical")].passed
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    started = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
    # The unrelated sources loaded, passed their gates and were built by dbt in this run …
    assert {"raw/orders", "raw/products", "raw/events"} <= materialized
    assert {"dbt_commerce", "dbt_subscriptions", "dbt_support", "dbt_social"} <= started
    assert {
        "staging/stg_orders__orders",
        "staging/stg_orders__order_items",
        "staging/stg_products__products",
        "staging/stg_subscriptions__changes",
        "staging/stg_support__tickets",
    } <= materialized
    assert checks[("staging/stg_orders__orders", "unique_stg_orders__orders_order_id")].passed
    # … but nothing downstream of the failed gate: the steps reading raw.events (people,
    # and web_access through the shared user-agent lookup) and the warehouse step after
    # them were skipped, not run, and none of their models materialized.
    assert not {"dbt_people", "dbt_web_access", "dbt_warehouse", "user_agents"} & started
    assert not any(
        key.startswith(("staging/stg_events__", "staging/stg_crm__", "intermediate/"))
        for key in materialized
    )
    assert not result.success  # a blocked run is reported as failed, never silently green
