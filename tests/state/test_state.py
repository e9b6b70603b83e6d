"""The state schema on a scratch DuckDB file, without GX or Dagster: what each verdict and
release makes visible, and the backup / restore round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loader import ensure_tables
from orchestration.quality.delivery_gate import DeliveryVerdict, record_verdicts
from orchestration.state.backup import backup_state, restore_state
from orchestration.state.holds import ReleaseError, delivery_statuses, release
from orchestration.state.schema import ensure_state

DAY = date(2026, 1, 10)


@pytest.fixture
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        ensure_tables(con)
        ensure_state(con)
        yield con


def land(con, source: str, day: date, version: str, rows: int = 2) -> datetime:
    """What the loader leaves behind: rows in raw.<source> and their audit, one load."""
    loaded_at = datetime.now(UTC)
    con.execute(f"DELETE FROM raw.{source} WHERE _partition = ?", [day])
    con.execute("DELETE FROM raw.load_audit WHERE source = ? AND _partition = ?", [source, day])
    file = f"{source}/{day}/a.jsonl"
    con.execute(
        f"INSERT INTO raw.{source} (_file, _line, _partition, _loaded_at) "
        "SELECT ?, range + 1, ?, ? FROM range(?)",
        [file, day, loaded_at, rows],
    )
    con.execute(
        "INSERT INTO raw.load_audit (source, _partition, _file, file_bytes, records_in, "
        "header_records, blank_lines, raw_rows, quarantined_rows, suppressed_rows, balanced, "
        "_loaded_at, run_id, delivery_fingerprint) "
        "VALUES (?, ?, ?, 10, ?, 0, 0, ?, 0, 0, true, ?, 'r', ?)",
        [source, day, file, rows, rows, loaded_at, version],
    )
    return loaded_at


def verdict(source: str, day: date, passed: bool, held: bool) -> DeliveryVerdict:
    failed = () if passed else ("[critical] type is one of: page, …",)
    return DeliveryVerdict(source, day, passed, held, failed, (), day, day)


def visible(con, source: str) -> int:
    return con.execute(f"SELECT count(*) FROM visible.{source}").fetchall()[0][0]


def status(con, source: str, day: date) -> str:
    return con.execute(
        "SELECT status FROM state.delivery_status WHERE source = ? AND delivery_date = ?",
        [source, day],
    ).fetchall()[0][0]


def test_a_load_is_invisible_until_the_gate_accepts_it(con) -> None:
    land(con, "events", DAY, "v1")
    assert status(con, "events", DAY) == "unvalidated" and visible(con, "events") == 0
    record_verdicts(con, [verdict("events", DAY, passed=True, held=False)], "run-1")
    assert status(con, "events", DAY) == "accepted" and visible(con, "events") == 2


def test_held_released_kept_on_reload_and_judged_afresh_on_redelivery(con) -> None:
    land(con, "events", DAY, "v1")
    record_verdicts(con, [verdict("events", DAY, passed=False, held=True)], "run-1")
    assert status(con, "events", DAY) == "held" and visible(con, "events") == 0
    with pytest.raises(ReleaseError, match="needs who"):
        release(con, "events", DAY, " ", "because")
    released = release(con, "events", DAY, "steward", "known test feed")
    assert (released.status, released.released_by) == ("released", "steward")
    assert visible(con, "events") == 2
    with pytest.raises(ReleaseError, match="is released, not held"):
        release(con, "events", DAY, "steward", "again")
    # The same files loaded again (same version): judged held again, still released.
    land(con, "events", DAY, "v1")
    record_verdicts(con, [verdict("events", DAY, passed=False, held=True)], "run-2")
    assert status(con, "events", DAY) == "released" and visible(con, "events") == 2
    # A re-delivery (another version) that fails again is held: the release named v1.
    land(con, "events", DAY, "v2", rows=3)
    record_verdicts(con, [verdict("events", DAY, passed=False, held=True)], "run-3")
    assert status(con, "events", DAY) == "held" and visible(con, "events") == 0
    assert [s.status for s in delivery_statuses(con)] == ["held"]


def test_a_source_that_is_never_held_stays_visible_with_its_failure_on_record(con) -> None:
    land(con, "consent", DAY, "v1")
    record_verdicts(con, [verdict("consent", DAY, passed=False, held=False)], "run-1")
    assert status(con, "consent", DAY) == "accepted" and visible(con, "consent") == 2
    (failed,) = con.execute(
        "SELECT critical_failed FROM state.delivery_status WHERE source = 'consent'"
    ).fetchall()[0]
    assert failed == ["[critical] type is one of: page, …"]


def test_unknown_delivery_cannot_be_released(con) -> None:
    with pytest.raises(ReleaseError, match="no delivery of orders dated"):
        release(con, "orders", DAY, "steward", "why")


def test_backup_and_restore_round_trip(con, tmp_path: Path) -> None:
    land(con, "events", DAY, "v1")
    record_verdicts(con, [verdict("events", DAY, passed=False, held=True)], "run-1")
    release(con, "events", DAY, "steward", "known test feed")
    before = {
        t: con.execute(f"SELECT * FROM state.{t} ORDER BY ALL").fetchall()
        for t in ("delivery_verdicts", "delivery_releases")
    }
    counts = backup_state(con, tmp_path / "backup")
    assert counts == {"delivery_releases": 1, "delivery_verdicts": 1}
    con.execute("DELETE FROM state.delivery_releases")
    con.execute("DELETE FROM state.delivery_verdicts")
    assert status(con, "events", DAY) == "unvalidated"
    assert restore_state(con, tmp_path / "backup") == counts
    after = {t: con.execute(f"SELECT * FROM state.{t} ORDER BY ALL").fetchall() for t in before}
    assert after == before
    assert status(con, "events", DAY) == "released"


def test_restore_refuses_a_backup_of_unknown_tables(con, tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    con.execute(f"COPY (SELECT 1 AS x) TO '{folder / 'nonsense.parquet'}' (FORMAT parquet)")
    with pytest.raises(ValueError, match="nonsense"):
        restore_state(con, folder)


def test_cli_lists_holds_and_refuses_what_it_cannot_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.cli import main

    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        ensure_tables(con)
        ensure_state(con)
        land(con, "events", DAY, "v1")
        land(con, "orders", DAY, "v1")
        record_verdicts(
            con,
            [verdict("events", DAY, passed=False, held=True), verdict("orders", DAY, True, False)],
            "run-1",
        )
    monkeypatch.setenv("CDW_WAREHOUSE_PATH", str(path))
    assert main(["holds"]) == 0
    assert (
        f"events            {DAY}  held      [critical] type is one of" in capsys.readouterr().out
    )
    release_orders = [
        "release",
        "--source",
        "orders",
        "--date",
        str(DAY),
        "--by",
        "a",
        "--why",
        "b",
    ]
    assert main(release_orders) == 2
    assert "orders 2026-01-10 is accepted, not held: nothing to release" in capsys.readouterr().err
    release_events = ["release", "--source", "events", "--date", str(DAY), "--by", "ana"]
    assert main([*release_events, "--why", "known test feed"]) == 0
    assert "Released events 2026-01-10 (by ana)" in capsys.readouterr().out
    assert main(["holds"]) == 0
    listed = capsys.readouterr().out
    assert "released  [critical] type is one of" in listed
    assert "— released by ana: known test feed" in listed
