"""The Great Expectations gate on a small generated warehouse.

One session-scoped build (150 customers × 5 days through the real Dagster job, conftest.py)
is validated by every raw suite. Every figure GX reports is recomputed here in
plain SQL, so a GX that silently returns empty or wrong metrics (the DuckDB
persisted-connection bug) fails the tests; defects injected into a copy must fail the
critical expectations with exact counts.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from orchestration.ingest.sources import SOURCES
from orchestration.quality import gx_duckdb, gx_project
from orchestration.quality.gx_gate import (
    GateError,
    GateResult,
    GateSession,
    build_data_docs,
    data_docs_index,
    validate_all_raw,
    validate_raw,
    validate_table,
)
from orchestration.quality.gx_suites import (
    CRITICAL,
    PARTITION_COLUMN,
    WARNING,
    suite_specs,
)
from orchestration.settings import Settings
from tests.support import pii_leaks, sample_pii

pytestmark = pytest.mark.integration

FIRST, LAST = date(2026, 1, 6), date(2026, 1, 10)  # every delivery of conftest.CONFIG
SUB_FIRST, SUB_LAST = date(2026, 1, 7), date(2026, 1, 9)  # a run's partitions
OUTSIDE = date(2026, 1, 6)


@pytest.fixture(scope="module")
def canary(build: Settings) -> str:
    """A real e-mail address of a generated person: it must never reach a report."""
    with (build.truth_dir / "identities.csv").open(newline="") as handle:
        return next(
            r["identifier_value"] for r in csv.DictReader(handle) if r["identifier_type"] == "email"
        )


@pytest.fixture(scope="module")
def defective(build: Settings, project: Path, canary: str, tmp_path_factory) -> dict:
    """A copy of the warehouse with defects inside and outside the validated range."""
    path = tmp_path_factory.mktemp("gx_defects") / "warehouse.duckdb"
    shutil.copyfile(build.warehouse_path, path)
    inside = f"_partition BETWEEN DATE '{SUB_FIRST}' AND DATE '{SUB_LAST}'"
    with duckdb.connect(str(path)) as con:

        def pick(where: str, n: int, offset: int) -> str:
            return (
                f"(_file, _line) IN (SELECT (_file, _line) FROM raw.events WHERE {where} "
                f"ORDER BY _file, _line LIMIT {n} OFFSET {offset})"
            )

        for where in (inside, f"_partition = DATE '{OUTSIDE}'"):
            con.execute(f"UPDATE raw.events SET message_id = NULL WHERE {pick(where, 7, 0)}")
            # An unknown type, and a canary: GX must count it without ever showing it.
            con.execute(f"UPDATE raw.events SET type = ? WHERE {pick(where, 5, 10)}", [canary])
            con.execute(f"UPDATE raw.events SET timestamp = 'soon' WHERE {pick(where, 3, 20)}")
        # A double load: three rows appended again (same _file, _line).
        con.execute(f"INSERT INTO raw.events SELECT * FROM raw.events WHERE {pick(inside, 3, 30)}")
        # A plausibility problem only: ratings out of scale.
        con.execute(
            "UPDATE raw.reviews SET rating = '7' WHERE (_file, _line) IN (SELECT (_file, _line) "
            f"FROM raw.reviews WHERE {inside} ORDER BY _file, _line LIMIT 2)"
        )
    result = validate_raw(path, "events", SUB_FIRST, SUB_LAST, project=project)
    reviews = validate_raw(path, "reviews", SUB_FIRST, SUB_LAST, project=project)
    return {"path": path, "result": result, "reviews": reviews}


def test_delivery_range_is_the_generated_one(delivery_range: tuple[date, date]) -> None:
    assert delivery_range == (FIRST, LAST)


# --- clean data ------------------------------------------------------------------------------


def test_every_raw_suite_passes_its_critical_expectations(clean: list[GateResult]) -> None:
    assert [r.suite for r in clean] == [f"raw_{s.name}" for s in SOURCES]
    for result in clean:
        print(result.summary())  # the warnings, for the record (pytest -s)
        assert result.passed_critical, result.summary()
        assert all(o.error is None for o in result.results), result.summary()
        assert (result.first, result.last) == (FIRST, LAST)


def test_every_expectation_is_classified_and_explained() -> None:
    for spec in suite_specs():
        for expectation in spec.expectations:
            assert expectation.meta["severity"] in (CRITICAL, WARNING)
            severity = getattr(expectation.severity, "value", expectation.severity)
            assert severity == expectation.meta["severity"]
            assert len(expectation.meta["why"]) > 20
    for path in (gx_project.PROJECT_DIR / "expectations").glob("*.json"):
        for expectation in json.loads(path.read_text())["expectations"]:
            assert expectation["meta"]["severity"] in (CRITICAL, WARNING), path.name
            assert expectation["meta"]["why"], path.name
            assert expectation["severity"] == expectation["meta"]["severity"], path.name


def _batch(table: str, first: date | None, last: date | None) -> str:
    if first is None:
        return f"(SELECT * FROM {table})"
    return f"(SELECT * FROM {table} WHERE _partition BETWEEN DATE '{first}' AND DATE '{last}')"


def _oracle(con, outcome, table: str, first: date | None, last: date | None, config) -> int:
    """The figure GX reports for `outcome`, computed here in plain SQL."""
    batch = _batch(table, first, last)
    kwargs = config.kwargs
    column = kwargs.get("column")

    def one(sql: str) -> int:
        return con.execute(sql).fetchall()[0][0]

    match outcome.expectation_type:
        case "expect_table_row_count_to_be_between":
            return one(f"SELECT count(*) FROM {batch}")
        case "expect_column_values_to_not_be_null":
            return one(f"SELECT count(*) FROM {batch} WHERE {column} IS NULL")
        case "expect_column_values_to_be_in_set":
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in kwargs["value_set"])
            return one(
                f"SELECT count(*) FROM {batch} WHERE {column} IS NOT NULL "
                f"AND {column} NOT IN ({values})"
            )
        case "expect_column_values_to_be_unique":
            return one(
                f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {batch} "
                f"WHERE {column} IS NOT NULL GROUP BY {column} HAVING count(*) > 1)"
            )
        case "expect_compound_columns_to_be_unique":
            columns = ", ".join(kwargs["column_list"])
            return one(
                f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {batch} "
                f"GROUP BY {columns} HAVING count(*) > 1)"
            )
        case "unexpected_rows_expectation":
            rng = f"_partition BETWEEN DATE '{first}' AND DATE '{last}'" if first else "TRUE"
            query = kwargs["unexpected_rows_query"].replace(
                gx_duckdb.partition_filter(PARTITION_COLUMN), rng
            )
            assert "getvariable" not in query
            return one(f"SELECT count(*) FROM ({query.replace('{batch}', batch)})")
    raise AssertionError(f"no SQL oracle for {outcome.expectation_type}: add one")


def _compare_with_sql(
    warehouse: Path, results: list[GateResult], first: date | None, last: date | None
) -> int:
    """Every figure of `results` equals its plain-SQL twin; how many were compared."""
    specs = {s.name: s for s in suite_specs()}
    compared = 0
    with duckdb.connect(str(warehouse)) as con:
        for result in results:
            spec = specs[result.suite]
            assert len(result.results) == len(spec.expectations)
            configs = {e.description: e.configuration for e in spec.expectations}
            assert len(configs) == len(spec.expectations), "descriptions must be unique"
            total = con.execute(f"SELECT count(*) FROM {_batch(spec.table, first, last)}")
            (rows,) = total.fetchone()
            if first is not None:
                (everything,) = con.execute(f"SELECT count(*) FROM {spec.table}").fetchone()
                assert rows < everything, spec.table
            for outcome in result.results:
                assert outcome.error is None, (result.suite, outcome)
                expected = _oracle(
                    con, outcome, spec.table, first, last, configs[outcome.description]
                )
                if outcome.expectation_type == "expect_table_row_count_to_be_between":
                    assert outcome.observed_value == expected == rows, outcome
                else:
                    assert outcome.unexpected_count == expected, (result.suite, outcome)
                if outcome.element_count is not None:
                    assert outcome.element_count == rows, (result.suite, outcome)
                compared += 1
    return compared


@pytest.mark.parametrize("scope", ["run partitions", "whole table"])
def test_gx_figures_equal_plain_sql(build: Settings, project: Path, scope: str) -> None:
    first, last = (SUB_FIRST, SUB_LAST) if scope == "run partitions" else (None, None)
    results = validate_all_raw(build.warehouse_path, first, last, build_docs=False, project=project)
    compared = _compare_with_sql(build.warehouse_path, results, first, last)
    assert compared == sum(len(s.expectations) for s in suite_specs() if s.name.startswith("raw_"))


def test_one_session_applies_each_validations_own_range(defective: dict, project: Path) -> None:
    """The nightly gate validates every source and range on one connection: each
    validation must see its own range, never the previous one's."""
    path = defective["path"]
    ranges = [(SUB_FIRST, SUB_LAST), (OUTSIDE, OUTSIDE), (None, None), (SUB_FIRST, SUB_LAST)]
    with GateSession(path, project) as session:
        results = [session.validate("raw_events", "raw.events", *r) for r in ranges]
        results.append(session.validate("raw_reviews", "raw.reviews", SUB_FIRST, SUB_LAST))
    nulls = [
        {o.description: o for o in r.results}["[critical] message_id is never null"]
        for r in results[:4]
    ]
    assert [o.unexpected_count for o in nulls] == [7, 7, 14, 7]
    for (first, last), result in zip(ranges, results, strict=False):
        assert (result.first, result.last) == (first, last)
        assert _compare_with_sql(path, [result], first, last) == len(result.results)
    assert _compare_with_sql(path, results[4:], SUB_FIRST, SUB_LAST) == len(results[4].results)
    # Leaving the session released the file: it opens for writing in this process.
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE OR REPLACE TEMP TABLE t AS SELECT 1")


def test_injected_defects_fail_the_critical_expectations_with_exact_counts(
    defective: dict,
) -> None:
    result: GateResult = defective["result"]
    assert not result.passed_critical and not result.passed_all
    by_label = {o.description: o for o in result.results}
    # Only the defects inside SUB_FIRST..SUB_LAST count (the same ones on OUTSIDE do not).
    assert by_label["[critical] message_id is never null"].unexpected_count == 7
    type_check = result.outcome("expect_column_values_to_be_in_set", "type")
    assert (type_check.success, type_check.unexpected_count) == (False, 5)
    timestamp = by_label["[critical] timestamp parses as an ISO-8601 timestamp"]
    assert (timestamp.success, timestamp.unexpected_count) == (False, 3)
    double_load = by_label["[critical] (_file, _line) is unique"]
    assert (double_load.success, double_load.unexpected_count) == (False, 6)
    audit = by_label["[critical] Raw rows per file equal the rows raw.load_audit says were loaded"]
    assert not audit.success and audit.unexpected_count >= 1
    failed = {o.description for o in result.failed_critical}
    assert failed == {
        "[critical] message_id is never null",
        type_check.description,
        timestamp.description,
        double_load.description,
        audit.description,
    }


def test_a_warning_does_not_block(defective: dict) -> None:
    reviews: GateResult = defective["reviews"]
    assert reviews.passed_critical and not reviews.passed_all
    rating = reviews.outcome(
        "unexpected_rows_expectation", "rating", "[warning] rating is between 1 and 5"
    )
    assert rating in reviews.failed_warnings and rating.unexpected_count == 2


def test_a_suite_added_as_json_is_synced_and_runs(build: Settings, tmp_path: Path) -> None:
    """Adding a suite = dropping its JSON (with meta.cdw.table) in and running sync."""
    project = tmp_path / "expectations"
    shutil.copytree(gx_project.PROJECT_DIR, project, ignore=shutil.ignore_patterns("uncommitted"))
    suite = {
        "name": "stg_orders__demo",
        "meta": {"cdw": {"table": "raw.orders", "partition_column": "_partition"}},
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "order_id"},
                "meta": {"severity": "critical", "why": "The order key."},
            }
        ],
    }
    (project / "expectations" / "stg_orders__demo.json").write_text(json.dumps(suite))
    changes = gx_project.sync(project)
    assert "validation definition stg_orders__demo" in changes
    result = validate_table(
        build.warehouse_path, "stg_orders__demo", "raw.orders", FIRST, LAST, False, project
    )
    assert result.passed_all and result.results[0].severity == CRITICAL
    with pytest.raises(GateError, match=r"validates raw\.orders"):
        validate_table(build.warehouse_path, "stg_orders__demo", "raw.events", project=project)
    with pytest.raises(GateError, match="no suite"):
        validate_table(build.warehouse_path, "stg_nothing", "raw.events", project=project)


def test_a_gx_without_the_duckdb_fix_cannot_pass(
    build: Settings, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from great_expectations.execution_engine import sqlalchemy_execution_engine as gx_sql

    without = tuple(d for d in gx_sql._PERSISTED_CONNECTION_DIALECTS if d != "duckdb")
    monkeypatch.setattr(gx_sql, "_PERSISTED_CONNECTION_DIALECTS", without)
    monkeypatch.setattr(gx_project, "enable_persisted_connection", lambda: None)
    with pytest.raises(GateError, match="persisted_connection"):
        validate_raw(build.warehouse_path, "events", build_docs=False, project=project)


# --- connections --------------------------------------------------------------------------------


def test_no_connection_lingers_after_a_validation(build: Settings, project: Path, tmp_path) -> None:
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(build.warehouse_path, path)
    validate_raw(path, "orders", FIRST, LAST, build_docs=False, project=project)
    # Same process, the configuration the Dagster job uses: write right away.
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE main.written_after_gate AS SELECT 1 AS x")
    validate_raw(path, "orders", FIRST, LAST, build_docs=False, project=project)
    # Another process: write right away.
    script = (
        "import duckdb, sys\n"
        "with duckdb.connect(sys.argv[1]) as con:\n"
        "    con.execute('CREATE TABLE main.written_by_subprocess AS SELECT 1 AS x')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)


def test_an_open_connection_in_the_process_is_a_clear_error(build: Settings, project: Path) -> None:
    with duckdb.connect(str(build.warehouse_path)), pytest.raises(GateError, match="configuration"):
        validate_raw(build.warehouse_path, "orders", build_docs=False, project=project)


@pytest.mark.parametrize("read_only", [True, False])
def test_duckdb_engine_never_shares_a_file_with_duckdb_connect(build: Settings, read_only) -> None:
    """Why the gate needs the file to itself: read-only or not, the configurations differ
    (duckdb-engine sets `custom_user_agent`), so DuckDB refuses a second instance."""
    engine = sa.create_engine(
        f"duckdb:///{build.warehouse_path}", connect_args={"read_only": read_only}
    )
    try:
        with duckdb.connect(str(build.warehouse_path)), pytest.raises(sa.exc.DBAPIError):
            engine.connect()
        with engine.connect() as con:  # alone, either configuration works
            assert con.exec_driver_sql("SELECT count(*) FROM raw.orders").fetchall()[0][0] > 0
    finally:
        engine.dispose()


# --- Data Docs and privacy ---------------------------------------------------------------------


def test_data_docs_list_every_suite(clean: list[GateResult], project: Path) -> None:
    index = data_docs_index(project)
    assert index.is_file()
    for result in clean:
        assert result.data_docs_path is not None and result.data_docs_path.is_file()
        assert result.suite in index.read_text()
    assert build_data_docs(project) == index
    for spec in suite_specs():
        assert (index.parent / "expectations" / f"{spec.name}.html").is_file()
        assert spec.name in index.read_text()


def test_no_personal_data_in_reports(
    build: Settings,
    project: Path,
    clean: list[GateResult],
    defective: dict,
    canary: str,
) -> None:
    with duckdb.connect(str(defective["path"])) as con:  # the canary really is in the data
        assert con.execute("SELECT count(*) FROM raw.events WHERE type = ?", [canary]).fetchall()
    # e-mails, phones and full names in every form, and every other identifier (tests/support.py)
    personal = sample_pii(build.truth_dir, build.landing_dir)
    assert canary.lower() in personal["email"] and sum(map(len, personal.values())) > 100
    build_data_docs(project)
    # The test's own validations (in the project copy) and the nightly job's (in the
    # warehouse's artefacts folder).
    folders = (project / "uncommitted", build.gx_artefacts_dir)
    reports = [p for f in folders for p in f.rglob("*") if p.suffix in (".html", ".json")]
    assert any(p.is_relative_to(build.gx_artefacts_dir) for p in reports)
    assert any(p.suffix == ".html" for p in reports) and any(p.suffix == ".json" for p in reports)
    texts = {str(p): p.read_text() for p in reports}
    for i, r in enumerate([*clean, defective["result"]]):
        texts[f"gate result {i} ({r.suite})"] = json.dumps(r.metadata()) + r.summary()
    assert pii_leaks(texts, personal) == []


def test_committed_project_is_in_sync_and_names_no_path() -> None:
    assert gx_project.check() == []
    config = (gx_project.PROJECT_DIR / "great_expectations.yml").read_text()
    assert "duckdb:///${CDW_WAREHOUSE_PATH}" in config
    assert ".duckdb" not in config.replace("duckdb:///", "")
