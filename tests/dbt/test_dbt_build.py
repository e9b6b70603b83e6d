"""dbt staging layer on a small generated warehouse.

One module-scoped build: generate sample deliveries → load raw through the Dagster job →
`dbt build` (seeds, staging views, the phone Python model, data tests, unit tests) through
dbt's programmatic API → inspect the DuckDB file.
"""

from __future__ import annotations

import gc
import importlib.util
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType, SimpleNamespace

import duckdb
import pytest
from dagster import DagsterInstance
from dbt.adapters.factory import reset_adapters
from dbt.cli.main import dbtRunner, dbtRunnerResult

from orchestration.cli import run_job
from orchestration.settings import PROJECT_ROOT, Settings
from privacy import KEY_ENV, PseudonymKey
from sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.integration

DBT_DIR = PROJECT_ROOT / "dbt_project"
PHONE_MODEL = DBT_DIR / "models" / "staging" / "phones" / "stg_phones__normalized.py"
CONFIG = GeneratorConfig(customers=200, days=6, end_date=date(2026, 11, 22), seed=21)

# every source has at least one staging model stg_<prefix>__<entity>
SOURCE_PREFIXES = (
    *("web_access", "events", "products", "crm", "orders", "subscriptions"),
    *("support", "surveys", "reviews", "social", "consent", "privacy"),
)
# raw table, raw timestamp column, staging model, staged column
TIMESTAMPS = (
    ("events", "timestamp", "stg_events__messages", "event_at"),
    ("events", "original_timestamp", "stg_events__messages", "original_event_at"),
    ("events", "sent_at", "stg_events__messages", "sent_at"),
    ("events", "received_at", "stg_events__messages", "received_at"),
    ("crm_customers", "created_at", "stg_crm__customers", "created_at"),
    ("crm_customers", "updated_at", "stg_crm__customers", "updated_at"),
    ("orders", "ordered_at", "stg_orders__orders", "ordered_at"),
    ("subscriptions", "changed_at", "stg_subscriptions__changes", "changed_at"),
    ("support_tickets", "created_at", "stg_support__tickets", "created_at"),
    ("support_tickets", "first_response_at", "stg_support__tickets", "first_response_at"),
    ("support_tickets", "resolved_at", "stg_support__tickets", "resolved_at"),
    ("surveys", "submitted_at", "stg_surveys__responses", "submitted_at"),
    ("reviews", "created_at", "stg_reviews__reviews", "created_at"),
    ("social", "created_at", "stg_social__interactions", "created_at"),
    ("consent", "recorded_at", "stg_consent__records", "recorded_at"),
    ("privacy_requests", "received_at", "stg_privacy__requests", "received_at"),
    ("web_access", "request_time", "stg_web_access__requests", "requested_at"),
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("dbt_warehouse")
    settings = Settings.under(root)
    generate(CONFIG, settings.landing_dir, settings.truth_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        code = run_job(settings=settings, instance=DagsterInstance.ephemeral())
    assert code == 0, "the raw load failed"
    yield settings


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open after an in-process run.

    dbt-duckdb holds its environment (and the open database) in a class attribute after
    `dbtRunner().invoke` returns; until it is closed, this process cannot open the file
    with another configuration (e.g. read-only): DuckDB allows one per file a process.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    if DuckDBConnectionManager._ENV is not None:
        DuckDBConnectionManager._ENV.close()
        DuckDBConnectionManager._ENV = None
    reset_adapters()
    gc.collect()


@pytest.fixture(scope="module")
def dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dbt_target")


@pytest.fixture(scope="module")
def dbt_build(warehouse: Settings, dbt_target: Path):
    target = dbt_target
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDW_WAREHOUSE_PATH", str(warehouse.warehouse_path))
        # dbt as a shell runs it without a key: the development key, announced (privacy.md)
        mp.delenv(KEY_ENV, raising=False)
        result: dbtRunnerResult = dbtRunner().invoke(
            [
                "build",
                "--project-dir", str(DBT_DIR),
                "--profiles-dir", str(DBT_DIR),
                "--target-path", str(target),
                "--log-path", str(target / "logs"),
            ]
        )  # fmt: skip
    release_dbt_duckdb()
    manifest = json.loads((target / "manifest.json").read_text())
    return result, manifest


@pytest.fixture()
def con(warehouse: Settings, dbt_build) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as connection:
        yield connection


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.sql(sql).fetchall()[0][0]


def staging_models(manifest: dict) -> list[str]:
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "staging"
    )


def test_dbt_build_succeeds(dbt_build) -> None:
    result, _ = dbt_build
    assert result.exception is None, result.exception
    failed = [
        (r.node.unique_id, str(r.status), r.message)
        for r in result.result
        if str(r.status) not in ("success", "pass", "warn")
    ]
    assert result.success, failed
    assert not failed


def test_without_a_key_dbt_announces_the_development_key(dbt_build, dbt_target: Path) -> None:
    log = (dbt_target / "logs" / "dbt.log").read_text()
    key = PseudonymKey.development()
    assert "pseudonym key: DEVELOPMENT KEY (public)" in log
    assert f"Key id {key.key_id}." in log
    assert key.secret.decode() not in log


def test_unit_tests_ran_and_passed(dbt_build) -> None:
    result, _ = dbt_build
    unit = [r for r in result.result if r.node.resource_type == "unit_test"]
    assert len(unit) >= 10, [r.node.name for r in unit]
    assert all(str(r.status) == "pass" for r in unit), [(r.node.name, str(r.status)) for r in unit]


def test_every_staging_model_exists_and_is_not_empty(con, dbt_build) -> None:
    _, manifest = dbt_build
    models = staging_models(manifest)
    assert len(models) >= 20
    for source in SOURCE_PREFIXES:
        assert any(m.startswith(f"stg_{source}__") for m in models), source
    kinds = dict(
        con.sql(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_schema = 'staging'"
        ).fetchall()
    )
    materialized = {
        node["name"]: node["config"]["materialized"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    for model in models:
        assert model in kinds, f"{model} not built in schema staging"
        # Built as configured: views, except the tables docs/staging.md names.
        expected = "VIEW" if materialized[model] == "view" else "BASE TABLE"
        assert kinds[model] == expected, model
        assert scalar(con, f"SELECT count(*) FROM staging.{model}") > 0, f"{model} is empty"


def test_deduplication_removed_the_generators_duplicate_message_ids(con) -> None:
    raw_rows, raw_ids = con.sql(
        "SELECT count(*), count(DISTINCT trim(message_id)) FROM raw.events"
    ).fetchall()[0]
    assert raw_rows > raw_ids, "the generator delivers some messageIds twice"
    staged_rows, staged_ids, deliveries = con.sql(
        "SELECT count(*), count(DISTINCT message_id), sum(delivery_count) "
        "FROM staging.stg_events__messages"
    ).fetchall()[0]
    assert staged_rows == staged_ids == raw_ids
    assert deliveries == raw_rows
    # the kept delivery is the earliest received one
    later = scalar(
        con,
        """
        SELECT count(*)
        FROM staging.stg_events__messages AS s
        JOIN raw.events AS r ON trim(r.message_id) = s.message_id
        WHERE try_cast(r.received_at AS TIMESTAMPTZ) < s.received_at
        """,
    )
    assert later == 0


def test_no_timestamp_lost_in_staging(con) -> None:
    for table, raw_column, model, column in TIMESTAMPS:
        if table == "web_access":
            valid = f"try_strptime(trim(r.{raw_column}), '%d/%b/%Y:%H:%M:%S %z') IS NOT NULL"
        else:
            valid = f"try_cast(trim(r.{raw_column}) AS TIMESTAMPTZ) IS NOT NULL"
        raw_valid = scalar(con, f"SELECT count(*) FROM raw.{table} AS r WHERE {valid}")
        lost = scalar(
            con,
            f"""
            SELECT count(*)
            FROM raw.{table} AS r
            JOIN staging.{model} AS s ON s._file = r._file AND s._line = r._line
            WHERE {valid} AND s.{column} IS NULL
            """,
        )
        assert lost == 0, f"{model}.{column}: {lost} of {raw_valid} valid raw values lost"
        if table in ("events", "web_access", "orders"):
            assert raw_valid > 0, f"raw.{table}.{raw_column} has no values to check"


def test_timestamps_are_utc_with_their_offset(con) -> None:
    # local wall-clock time = UTC instant + the offset the value was written with
    mismatches = scalar(
        con,
        """
        SELECT count(*)
        FROM staging.stg_orders__orders AS s
        JOIN raw.orders AS r ON s._file = r._file AND s._line = r._line
        WHERE strftime(timezone('UTC', s.ordered_at) + to_minutes(s.ordered_at_utc_offset_minutes),
                       '%Y-%m-%dT%H:%M:%S') != left(trim(r.ordered_at), 19)
        """,
    )
    assert mismatches == 0


def load_phone_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stg_phones__normalized", PHONE_MODEL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_phone_model_maps_national_and_international_forms_to_one_e164() -> None:
    """The dbt Python model itself, run with a stub `dbt` over an in-memory DuckDB."""
    phones = load_phone_model()
    session = duckdb.connect()
    session.execute("CREATE TABLE candidates (phone_raw VARCHAR, country_hint VARCHAR)")
    session.execute(
        "INSERT INTO candidates VALUES "
        "('+1 (555) 010-9999', 'US'), ('555-010-9999', 'US'), ('(555) 010-9999', 'US'), "
        "('555-010-9999', NULL), ('0034 685262170', NULL), ('685 26 21 70', 'ES'), "
        "('+44 (0)7791 642546', 'GB'), ('(21) 99974-0637', 'BR'), ('not a phone', 'US')"
    )
    stub = SimpleNamespace(
        config=lambda **_: None,
        ref=lambda name: session.sql("SELECT * FROM candidates"),
        is_incremental=False,
    )
    rows = phones.model(stub, session).fetchall()
    by_key = {(r[0], r[1]): r for r in rows}
    assert len(rows) == 9
    us_forms = [("+1 (555) 010-9999", "US"), ("555-010-9999", "US"), ("(555) 010-9999", "US")]
    assert {by_key[k][2] for k in us_forms} == {"+15550109999"}
    assert not by_key[("555-010-9999", "US")][4]  # 555-01xx: possible, not a real number
    assert by_key[("555-010-9999", None)][2] is None  # national form without a region
    assert by_key[("0034 685262170", None)][2] == "+34685262170"  # 00 = international prefix
    assert by_key[("685 26 21 70", "ES")][2] == "+34685262170"
    assert by_key[("+44 (0)7791 642546", "GB")][2] == "+447791642546"
    assert by_key[("(21) 99974-0637", "BR")][2:5] == ("+5521999740637", True, True)
    assert by_key[("not a phone", "US")][2] is None


def test_phone_model_parses_only_new_pairs_when_incremental() -> None:
    """Incremental: the pairs already in the table (NULL hint included) are not parsed
    again; only the new ones are returned (dbt appends them)."""
    phones = load_phone_model()
    session = duckdb.connect()
    session.execute("CREATE TABLE candidates (phone_raw VARCHAR, country_hint VARCHAR)")
    session.execute(
        "INSERT INTO candidates VALUES ('555-010-9999', NULL), ('685 26 21 70', 'ES'), "
        "('(21) 99974-0637', 'BR')"
    )
    stub = SimpleNamespace(
        config=lambda **_: None,
        ref=lambda name: session.sql("SELECT * FROM candidates"),
        is_incremental=False,
        this="parsed",
    )
    phones.model(stub, session).create("parsed")  # the first build: every pair
    assert session.sql("SELECT count(*) FROM parsed").fetchall() == [(3,)]
    session.execute("DELETE FROM parsed WHERE country_hint = 'BR'")
    stub.is_incremental = True
    rows = phones.model(stub, session).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("(21) 99974-0637", "BR", "+5521999740637")]

    session.execute("UPDATE parsed SET normalized_by = 'phonenumbers 0.0.1'")
    with pytest.raises(RuntimeError, match="full-refresh"):
        phones.model(stub, session)


def test_phone_variants_of_one_person_share_an_e164(con, warehouse: Settings) -> None:
    """The generator writes each person's phone in several national / E.164 layouts."""
    per_person = con.sql(
        f"""
        SELECT t.person_id, count(DISTINCT p.phone_e164) AS numbers, count(*) AS variants
        FROM read_csv('{warehouse.truth_dir / "identities.csv"}') AS t
        JOIN staging.stg_phones__normalized AS p ON p.phone_raw = t.identifier_value
        WHERE t.identifier_type = 'phone'
        GROUP BY 1
        """
    ).fetchall()
    assert per_person
    unread = "SELECT count(*) FROM staging.stg_phones__normalized WHERE phone_e164 IS NULL"
    assert scalar(con, unread) == 0
    merged = sum(1 for _, numbers, _ in per_person if numbers == 1)
    # a rectified phone is a genuinely new number; everything else collapses to one
    assert merged / len(per_person) >= 0.95


def test_staging_rows_keep_lineage(con, dbt_build) -> None:
    _, manifest = dbt_build
    for model in staging_models(manifest):
        columns = {
            r[0]
            for r in con.sql(
                "SELECT column_name FROM information_schema.columns "
                f"WHERE table_schema = 'staging' AND table_name = '{model}'"
            ).fetchall()
        }
        if model.startswith(("stg_reference__", "stg_phones__", "stg_web_access__user")):
            continue  # reference data and per-value lookups have no landing line
        assert {"_file", "_line", "_partition"} <= columns, model


def test_reporting_currency_amounts(con) -> None:
    missing = scalar(
        con,
        "SELECT count(*) FROM staging.stg_orders__orders "
        "WHERE order_total IS NOT NULL AND order_total_reporting IS NULL",
    )
    assert missing == 0
    eur_mismatch = scalar(
        con,
        "SELECT count(*) FROM staging.stg_orders__orders "
        "WHERE currency = 'EUR' AND order_total_reporting != order_total",
    )
    assert eur_mismatch == 0


def test_dbt_project_needs_no_packages() -> None:
    assert not (DBT_DIR / "packages.yml").exists()
    assert (DBT_DIR / "snapshots" / ".gitkeep").exists()
    assert Path(PROJECT_ROOT / "seeds" / "_seeds.yml").exists()
