"""The dbt build is skipped only when it would change nothing, and leaves out seeds only
when the project did not change (orchestration/dbt/build_inputs.py): its
keys follow the project (and the pseudonym key) and the visible deliveries, and no model
reads the clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.dbt.build_inputs import (
    UNCHANGED_PROJECT_ARGS,
    WITHOUT_UNIT_TESTS,
    BuildKey,
    build_inputs_key,
    last_build_key,
    plan_build,
    record_build,
)
from orchestration.dbt.project import DBT_PROJECT_DIR
from orchestration.ingest.loader import ensure_tables
from orchestration.quality.delivery_gate import DeliveryVerdict, record_verdicts
from orchestration.state.holds import release
from orchestration.state.schema import ensure_state
from privacy import PseudonymKey

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


def test_the_keys_follow_visible_deliveries_and_the_project(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"metadata": {"generated_at": "1"}, "nodes": {}}')
    day = date(2026, 1, 10)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_tables(con)
        ensure_state(con)
        empty = build_inputs_key(con, manifest)
        assert last_build_key(con) is None
        record_build(con, empty, "run-1")
        assert last_build_key(con) == empty == build_inputs_key(con, manifest)

        con.execute(
            "INSERT INTO raw.load_audit (source, _partition, _file, file_bytes, records_in, "
            "header_records, blank_lines, raw_rows, quarantined_rows, suppressed_rows, balanced, "
            "_loaded_at, run_id, delivery_fingerprint) "
            "VALUES ('events', ?, 'events/x', 1, 1, 0, 0, 1, 0, 0, true, ?, 'r', 'v1')",
            [day, datetime(2026, 1, 11, tzinfo=UTC)],
        )
        assert build_inputs_key(con, manifest) == empty  # loaded, not yet judged: invisible
        held = DeliveryVerdict("events", day, False, True, ("x",), (), day, day)
        record_verdicts(con, [held], "run-2")
        assert build_inputs_key(con, manifest) == empty  # held: still invisible
        release(con, "events", day, "steward", "why")
        released = build_inputs_key(con, manifest)
        assert released.data != empty.data  # visible now: the next build must run
        assert released.project == empty.project  # ... without seeds

        # A parse of the same project writes other times and another catalogue name.
        manifest.write_text(
            '{"metadata": {"generated_at": "2"}, "nodes": {}, "x": {"created_at": 3}}'
        )
        reparsed = build_inputs_key(con, manifest)
        manifest.write_text('{"metadata": {"generated_at": "2"}, "nodes": {}, "x": {}}')
        assert build_inputs_key(con, manifest) == reparsed
        manifest.write_text('{"nodes": {"model.x": {}}}')
        changed = build_inputs_key(con, manifest)
        assert changed.project not in (empty.project, reparsed.project)
        assert changed.data == released.data

        # Another pseudonym key changes every pseudonym: the whole project builds again
        # (docs/privacy.md, key rotation); the same key, nothing.
        one, other = PseudonymKey.from_secret("k" * 32), PseudonymKey.from_secret("j" * 32)
        keyed = build_inputs_key(con, manifest, one.key_id)
        assert keyed == build_inputs_key(con, manifest, one.key_id)
        rotated = build_inputs_key(con, manifest, other.key_id)
        assert len({changed.project, keyed.project, rotated.project}) == 3
        assert keyed.data == rotated.data == changed.data


def test_the_plan_follows_the_keys() -> None:
    last = BuildKey(project="p", data="d")
    assert plan_build(BuildKey("p", "d"), last, full_refresh=False).skip
    trimmed = plan_build(BuildKey("p", "d2"), last, full_refresh=False)
    assert not trimmed.skip and trimmed.args == UNCHANGED_PROJECT_ARGS
    for key, previous in ((BuildKey("p2", "d2"), last), (BuildKey("p", "d2"), None)):
        everything = plan_build(key, previous, full_refresh=False)
        assert (everything.skip, everything.args) == (False, WITHOUT_UNIT_TESTS)
    for key in (BuildKey("p", "d"), BuildKey("p", "d2"), BuildKey("p2", "d")):
        refresh = plan_build(key, last, full_refresh=True).args
        assert refresh == ("--full-refresh", *WITHOUT_UNIT_TESTS)
    # The nightly job never runs unit tests, whatever the plan.
    assert WITHOUT_UNIT_TESTS == ("--exclude-resource-type", "unit_test")
    assert set(WITHOUT_UNIT_TESTS) <= set(UNCHANGED_PROJECT_ARGS)


def test_a_warehouse_with_the_combined_key_only_builds_everything(tmp_path: Path) -> None:
    """Builds recorded before the key was split carry no project key: a whole build next."""
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA incremental")
        con.execute(
            "CREATE TABLE incremental.dbt_builds "
            "(build_key VARCHAR NOT NULL, built_at TIMESTAMPTZ NOT NULL, run_id VARCHAR)"
        )
        con.execute("INSERT INTO incremental.dbt_builds VALUES ('old', now(), 'r0')")
        assert last_build_key(con) is None
        record_build(con, BuildKey("p", "d"), "r1")
        assert last_build_key(con) == BuildKey("p", "d")
