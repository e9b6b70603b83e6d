"""The dbt build is skipped only when it would change nothing (orchestration/dbt/
build_inputs.py): its key follows the project and the visible deliveries, and no model
reads the clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.dbt.build_inputs import build_inputs_key, last_build_key, record_build
from orchestration.dbt.project import DBT_PROJECT_DIR
from orchestration.ingest.loader import ensure_tables
from orchestration.quality.delivery_gate import DeliveryVerdict, record_verdicts
from orchestration.state.holds import release
from orchestration.state.schema import ensure_state

CLOCK = re.compile(
    r"\b(now\s*\(|current_date|current_timestamp|run_started_at|today\s*\(|getdate|sysdate)",
    re.IGNORECASE,
)


def test_no_model_macro_test_or_snapshot_reads_the_clock() -> None:
    files = [
        p
        for folder in ("models", "macros", "tests", "snapshots")
        for p in (DBT_PROJECT_DIR / folder).rglob("*")
        if p.suffix in (".sql", ".py")
    ]
    assert len(files) > 40
    readers = [str(p) for p in files if CLOCK.search(p.read_text())]
    assert readers == []


def test_the_key_follows_visible_deliveries_and_the_project(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"nodes": {}}')
    day = date(2026, 1, 10)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_tables(con)
        ensure_state(con)
        empty = build_inputs_key(con, manifest)
        assert last_build_key(con) is None
        record_build(con, empty, "run-1")
        assert last_build_key(con) == empty == build_inputs_key(con, manifest)

        con.execute(
            "INSERT INTO raw.load_audit VALUES ('events', ?, 'events/x', 1, 1, 0, 0, 1, 0, 0, "
            "true, ?, 'r', 'v1')",
            [day, datetime(2026, 1, 11, tzinfo=UTC)],
        )
        assert build_inputs_key(con, manifest) == empty  # loaded, not yet judged: invisible
        held = DeliveryVerdict("events", day, False, True, ("x",), (), day, day)
        record_verdicts(con, [held], "run-2")
        assert build_inputs_key(con, manifest) == empty  # held: still invisible
        release(con, "events", day, "steward", "why")
        released = build_inputs_key(con, manifest)
        assert released != empty  # visible now: the next build must run

        manifest.write_text('{"nodes": {"model.x": {}}}')
        assert build_inputs_key(con, manifest) not in (empty, released)
