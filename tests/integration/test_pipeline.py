"""The whole job through Dagster on a small generated dataset.

One session-scoped build is shared by every test here (`build`, tests/integration/conftest.py;
test_security.py scans the same one): generate → run `nightly` over all delivery dates in
one run → inspect the DuckDB file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType

from orchestration.cli import run_job
from orchestration.ingest.sources import SOURCES, Format
from orchestration.quality.fingerprint import schema_fingerprints
from orchestration.settings import Settings
from tests.support import pii_leaks, sample_pii

pytestmark = pytest.mark.integration


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.warehouse_path))


def test_job_succeeds_with_every_blocking_check_passing(build) -> None:
    _, _, result, _ = build
    assert result.success
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    for source in SOURCES:
        for check in ("line_accounting", "gx_critical"):
            assert evaluations[(f"raw/{source.name}", check)].passed, (source.name, check)
        assert (f"raw/{source.name}", "gx_warnings") in evaluations  # reported, may warn
    dbt_tests = [e for (key, _), e in evaluations.items() if key.startswith("staging/")]
    assert dbt_tests and all(e.passed for e in dbt_tests)


def test_every_source_has_raw_rows(build) -> None:
    settings, _, _, _ = build
    with connect(settings) as con:
        for source in SOURCES:
            (n,) = con.execute(f"SELECT count(*) FROM {source.table}").fetchone()
            assert n > 0, source.name


def test_quarantine_equals_the_generators_malformed_records(build) -> None:
    settings, _, _, _ = build
    with (settings.truth_dir / "malformed.csv").open(newline="") as handle:
        expected = {
            (r["source"], r["file"], int(r["line"]), r["reason"]) for r in csv.DictReader(handle)
        }
    with connect(settings) as con:
        actual = set(
            con.execute("SELECT source, _file, _line, reason FROM raw.quarantine").fetchall()
        )
    assert expected  # the generator made some
    assert actual == expected


def _independent_record_count(path: Path, fmt: Format) -> int:
    """Records in a landing file, counted with Python's own readers, not the loader's SQL."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    if fmt is Format.CSV:
        rows = list(csv.reader(io.StringIO(text, newline="")))
        return sum(1 for row in rows[1:] if row)  # minus the header, minus blank lines
    return sum(1 for line in text.splitlines() if line.strip())


def test_line_accounting_counted_independently(build) -> None:
    settings, manifest, _, _ = build
    with connect(settings) as con:
        out = dict(
            con.execute(
                """
                SELECT _file, sum(n) FROM (
                    SELECT _file, count(*) AS n FROM raw.quarantine GROUP BY ALL
                    UNION ALL
                """
                + " UNION ALL ".join(
                    f"SELECT _file, count(*) FROM {s.table} GROUP BY ALL" for s in SOURCES
                )
                + ") GROUP BY _file"
            ).fetchall()
        )
        audited = dict(con.execute("SELECT _file, records_in FROM raw.load_audit").fetchall())
    files = 0
    for source in SOURCES:
        for path in sorted((settings.landing_dir / source.name).rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(settings.landing_dir).as_posix()
            counted = _independent_record_count(path, source.format)
            assert out.get(relative, 0) == counted == audited[relative], relative
            files += 1
    assert files == len(audited)
    manifest_records = sum(s["records"] for s in manifest["sources"].values())
    assert sum(audited.values()) == manifest_records


def test_crawlers_are_recognised_in_generated_traffic(build) -> None:
    settings, _, _, _ = build
    with connect(settings) as con:
        total, bots = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE ua.is_crawler)
            FROM raw.web_access w JOIN raw.user_agents ua USING (user_agent)
            """
        ).fetchone()
    assert 0 < bots < total


def test_rerun_through_the_cli_gives_the_same_warehouse_and_no_personal_data(
    build, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _, _, instance = build
    loads = "SELECT source, _partition, _loaded_at FROM raw.load_audit ORDER BY ALL"
    with connect(settings) as con:
        before = schema_fingerprints(con, "raw")
        loaded_before = con.execute(loads).fetchall()
    assert run_job(settings=settings, instance=instance, reload=True) == 0
    printed = capsys.readouterr()
    with connect(settings) as con:
        after = schema_fingerprints(con, "raw")
        reloaded = con.execute(loads).fetchall()
    assert after == before  # every delivery read again: the same raw schema …
    assert all(a[2] > b[2] for a, b in zip(reloaded, loaded_before, strict=True))  # … anew
    # A run with nothing new reads no delivery again and builds no dbt model.
    assert run_job(settings=settings, instance=instance) == 0
    capsys.readouterr()
    with connect(settings) as con:
        assert con.execute(loads).fetchall() == reloaded
    (last,) = instance.get_runs(limit=1)
    built = [
        e.dagster_event.event_specific_data.materialization.asset_key.to_user_string()
        for e in instance.all_logs(last.run_id, DagsterEventType.ASSET_MATERIALIZATION)
    ]
    assert built and not [key for key in built if not key.startswith("raw/")]
    output = printed.out + printed.err
    assert "Line accounting: every record is a raw row" in output
    assert "dbt tests: " in output and " 0 failed" in output
    assert "Data Docs: " in output and "index.html" in output
    for source in SOURCES:  # every source's gate verdict is printed
        assert any(
            line.startswith(source.name) and "passed" in line and "not run" not in line
            for line in output.splitlines()
        ), source.name
    assert str(settings.warehouse_path) in output
    # the pseudonym key is named by its id, never shown; a real key, so no warning
    key = settings.pseudonym_key
    assert f"Pseudonym key: CDW_PSEUDONYM_KEY (key id {key.key_id})." in output
    assert key.secret.decode() not in output and "DEVELOPMENT KEY" not in output
    # The run summary names no person: e-mails, phones and full names in every form, no other
    # identifier (tests/support.py; docs/reliability.md, "Security checks").
    personal = sample_pii(settings.truth_dir, settings.landing_dir)
    assert all(personal.values())
    assert pii_leaks({"cdw run output": output}, personal) == []


def test_manifest_lists_every_source(build) -> None:
    _, manifest, _, _ = build
    assert set(manifest["sources"]) == {s.name for s in SOURCES}
    json.dumps(manifest)  # serialisable as written to truth/manifest.json
