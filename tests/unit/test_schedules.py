"""The nightly schedule, the landing sensor and the landing-folder checks."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import RunRequest, SkipReason, build_schedule_context, build_sensor_context
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orchestration.definitions import defs as load_defs
from orchestration.ingest.landing import landing_problems
from orchestration.ingest.sources import SOURCES
from orchestration.schedules.schedules import nightly_schedule
from orchestration.schedules.sensors import build_landing_sensor
from orchestration.settings import Settings


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    for source, day in [("events", "2026-01-01"), ("orders", "2026-01-02")]:
        (root / source / day).mkdir(parents=True)
        (root / source / day / "part.jsonl").write_text("{}\n")
    return root


def test_definitions_load_with_every_source_and_check() -> None:
    graph = load_defs().resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    raw = {k for k in keys if k.startswith("raw/")}
    assert raw == {f"raw/{s.name}" for s in SOURCES} | {"raw/user_agents", "raw/load_summary"}
    assert any(k.startswith("staging/stg_events__") for k in keys)  # dbt models
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    for source in SOURCES:
        for check in ("line_accounting", "gx_critical", "gx_warnings"):
            assert (f"raw/{source.name}", check) in checks
    assert load_defs().resolve_job_def("nightly") is not None


def test_nightly_schedule_runs_yesterdays_partition() -> None:
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 3, 2, 2, tzinfo=UTC))
    request = nightly_schedule(context)
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2026-03-01"
    assert nightly_schedule.cron_schedule == "0 2 * * *"


def test_sensor_requests_one_run_for_new_dates_then_skips(landing: Path) -> None:
    landing_sensor = build_landing_sensor(Settings.under(landing.parent))
    first = landing_sensor(build_sensor_context(cursor=None))
    assert isinstance(first, RunRequest)
    assert first.tags[ASSET_PARTITION_RANGE_START_TAG] == "2026-01-01"
    assert first.tags[ASSET_PARTITION_RANGE_END_TAG] == "2026-01-02"

    context = build_sensor_context(cursor=None)
    landing_sensor(context)
    again = landing_sensor(build_sensor_context(cursor=context.cursor))
    assert isinstance(again, SkipReason)

    # A file rewritten in one delivery triggers exactly that date.
    changed = landing / "orders" / "2026-01-02" / "part.jsonl"
    changed.write_text("{}\n{}\n")
    os.utime(changed, ns=(1, 1))
    third = landing_sensor(build_sensor_context(cursor=context.cursor))
    assert isinstance(third, RunRequest)
    assert (
        third.tags[ASSET_PARTITION_RANGE_START_TAG],
        third.tags[ASSET_PARTITION_RANGE_END_TAG],
    ) == ("2026-01-02", "2026-01-02")
    assert json.loads(context.cursor)["2026-01-01"]


def test_landing_problems_are_reported(landing: Path) -> None:
    (landing / "events" / "yesterday").mkdir()
    (landing / "events" / "stray.jsonl").write_text("{}\n")
    (landing / "clickstream").mkdir()
    problems = {(p.path, p.problem) for p in landing_problems(landing, ["events", "orders"])}
    assert problems == {
        ("clickstream", "not a known source folder"),
        ("events/stray.jsonl", "file outside a YYYY-MM-DD folder"),
        ("events/yesterday", "folder name is not a YYYY-MM-DD date"),
    }
