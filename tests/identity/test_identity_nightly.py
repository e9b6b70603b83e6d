"""Identity resolution in the nightly Dagster job, over two nights of generated data.

Night 1 loads the first half of the deliveries, night 2 the rest: clusters grow and merge.
Checked on the real DuckDB file: dim_customers and the bridge are built by the job, a
customer_id survives unless its move is recorded (with evidence for merges), every staging
record is attributed to a customer or 'anonymous', and no identifier of the generator's
truth reaches a published mart in clear text. And the accuracy command, run on this
warehouse, meets the issue's floor on generator data: precision >= 0.995, recall >= 0.99.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
from dagster import DagsterInstance

from benchmarks.identity_accuracy import dbt_threshold, run_warehouse
from identity import MatchSettings, stitch_with_guards
from orchestration.cli import run_job
from orchestration.settings import Settings
from privacy import register
from sample_data import GeneratorConfig, generate
from tests.support import personal_identifiers

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(customers=200, days=4, end_date=date(2026, 3, 4), seed=31)
FIRST_DAY = CONFIG.end_date - timedelta(days=CONFIG.days - 1)
MIDDLE_DAY = FIRST_DAY + timedelta(days=1)


def read(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("identity_nightly")
    settings = Settings.under(root)
    generate(CONFIG, settings.landing_dir, settings.truth_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        instance = DagsterInstance.ephemeral()
        assert run_job(FIRST_DAY, MIDDLE_DAY, settings=settings, instance=instance) == 0
        night_1 = dict(
            read(
                settings,
                "select identifier_key, customer_id from intermediate.int_identity__components",
            )
        )
        assert (
            run_job(
                MIDDLE_DAY + timedelta(days=1),
                CONFIG.end_date,
                settings=settings,
                instance=instance,
            )
            == 0
        )
    return settings, night_1


def test_the_job_builds_dim_customers_and_the_bridge(nights) -> None:
    settings, _ = nights
    [(customers, distinct_ids)] = read(
        settings, "select count(*), count(distinct customer_id) from marts.dim_customers"
    )
    [(clusters,)] = read(
        settings, "select count(distinct customer_id) from intermediate.int_identity__components"
    )
    assert customers == distinct_ids == clusters > 50
    [(bridged, nodes, orphans)] = read(
        settings,
        """
        select
            (select count(*) from marts.dim_customer_identifiers),
            (select count(*) from intermediate.int_identity__components),
            (select count(*) from marts.dim_customer_identifiers
             anti join marts.dim_customers using (customer_id))
        """,
    )
    assert bridged == nodes and orphans == 0
    # the bridge is found by the keyed pseudonym of an identifier key (privacy.register:
    # the same functions dbt uses, with the run's key)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        register(con, settings.pseudonym_key)
        [(found,)] = con.execute(
            """
            select count(*) from intermediate.int_identity__components as c
            join marts.dim_customer_identifiers as b
              on b.identifier_hash = cdw_pseudonym(c.identifier_key)
              and b.customer_id = c.customer_id
            """
        ).fetchall()
    assert found == nodes


def test_customer_ids_survive_or_their_move_is_recorded(nights) -> None:
    settings, night_1 = nights
    night_2 = dict(
        read(
            settings,
            "select identifier_key, customer_id from intermediate.int_identity__components",
        )
    )
    moved = {
        key: (before, night_2.get(key))
        for key, before in night_1.items()
        if night_2.get(key) != before
    }
    recorded = {
        (from_id, to_id): (kind, evidence, guards)
        for from_id, to_id, kind, evidence, guards in read(
            settings,
            """
            select from_customer_id, to_customer_id, change_kind, evidence_edges, guards
            from state.int_identity__cluster_changes
            """,
        )
    }
    assert moved, "two nights of person-shaped data should merge some clusters"
    for key, (before, after) in moved.items():
        assert (before, after) in recorded, key
    for (from_id, to_id), (kind, evidence, guards) in recorded.items():
        if kind == "merge":  # on which evidence
            assert evidence > 0, (from_id, to_id)
        elif kind in ("split", "merge_and_split", "removed"):
            # data only grew: a customer splits only because a guard now acts on it (a
            # household's device seen with its second user, a value found to be junk)
            assert guards, (kind, from_id, to_id)
        else:
            assert kind == "rekey", kind
    # most customers of night 1 kept their id
    kept = sum(1 for key, before in night_1.items() if night_2.get(key) == before)
    assert kept / len(night_1) > 0.9


def test_every_staging_record_is_attributed(nights) -> None:
    settings, _ = nights
    rows = dict(
        read(
            settings,
            """
            select source, count(*) filter (where customer_id is null or customer_id = '')
            from intermediate.int_identity__record_customers group by source
            """,
        )
    )
    assert rows and all(missing == 0 for missing in rows.values())
    for source, staged in (
        ("crm", "staging.stg_crm__customers"),
        ("orders", "staging.stg_orders__orders"),
        ("web_access", "staging.stg_web_access__requests"),
    ):
        [(attributed, records)] = read(
            settings,
            f"""
            select
                (select count(*) from intermediate.int_identity__record_customers
                 where source = '{source}'),
                (select count(*) from {staged})
            """,
        )
        assert attributed == records, source
    [(events, messages)] = read(
        settings,
        """
        select
            (select count(*) from intermediate.int_identity__record_customers
             where source like 'events.%'),
            (select count(*) from staging.stg_events__messages)
        """,
    )
    assert events == messages


def test_no_truth_identifier_in_a_published_mart(nights) -> None:
    settings, _ = nights
    values = {value.lower() for value in personal_identifiers(settings.truth_dir)}
    columns = read(
        settings,
        """
        select table_name, column_name from information_schema.columns
        where table_schema = 'marts' and data_type = 'VARCHAR'
        """,
    )
    assert columns
    for table, column in columns:
        published = {
            v.lower()
            for (v,) in read(settings, f'select distinct "{column}" from marts.{table}')
            if v
        }
        leaked = published & values
        assert not leaked, f"marts.{table}.{column} publishes {len(leaked)} identifiers"


def test_accuracy_on_generator_data_meets_the_target(nights) -> None:
    settings, _ = nights
    scores = {
        score.measure: score
        for score in run_warehouse(
            settings.warehouse_path, settings.truth_dir, MatchSettings(threshold=dbt_threshold())
        )
    }
    # the clusters the job built (guards applied); "exact only" / "exact + fuzzy" draw their
    # exact edges without the blocklist, so the generator's junk e-mails cost them precision
    score = scores["nightly graph"]
    assert score.true_pairs >= 3, "too few CRM duplicates to measure anything"
    assert score.precision >= 0.995, score
    assert score.recall >= 0.99, score


def test_the_kept_stitching_gives_what_a_full_rebuild_gives(nights) -> None:
    """Night 2 stitched on night 1's state (schema identity_state); its clusters must be
    those of a full stitching of the warehouse's own edges and identifiers."""
    settings, _ = nights
    runs = read(settings, "select mode, reason from identity_state.stitch_runs order by 1")
    assert [mode for mode, _ in runs] == ["full", "incremental"], runs
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute(
            """
            create temp table nodes as
            select identifier_key, first_seen_at from intermediate.int_identity__identifiers
            anti join intermediate.int_identity__blocked_identifiers using (identifier_key)
            """
        )
        con.execute(
            """
            create temp table keep as
            select decision_id, identifier_key_a, identifier_key_b
            from intermediate.int_identity__manual_decisions where decision = 'keep_apart'
            """
        )
        stitch_with_guards(
            con,
            edges_table="intermediate.int_identity__edges",
            nodes_table="nodes",
            keep_apart_table="keep",
            out_table="rebuilt",
            max_cluster_size=200,
        )
        differences = con.execute(
            """
            select count(*) from (
                select node, component_key, component_size, guard from rebuilt
                except
                select identifier_key, component_key, component_size, guard
                from intermediate.int_identity__components
            )
            """
        ).fetchall()[0][0]
        rows = con.execute("select count(*) from rebuilt").fetchall()[0][0]
    [(built,)] = read(settings, "select count(*) from intermediate.int_identity__components")
    assert rows == built > 0
    assert differences == 0
