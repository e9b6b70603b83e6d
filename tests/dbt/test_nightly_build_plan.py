"""What the nightly dbt step builds, in real Dagster runs on a scratch warehouse
(orchestration/dbt/assets.py with build_inputs.plan_build):

    run 1  day 1 lands, first build: everything (seeds, models, data tests) but the unit
           tests, which never run in the nightly job
    run 2  day 2 lands, the project is unchanged: seeds and the tests of seeds alone are
           left out too; the run succeeds, every model builds, and a test from a model to
           a seed still runs
    run 3  nothing new: the build is skipped
    run 4  nothing new, but a new pseudonym key (a key rotation, docs/privacy.md): everything
           is built again, every customer_id changes, each recorded as a key_rotation
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance

from orchestration.cli import run_job
from orchestration.settings import Settings
from privacy import PseudonymKey, new_secret
from sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(customers=30, days=2, end_date=date(2026, 3, 2), seed=5)
DAYS = [CONFIG.end_date - timedelta(days=1), CONFIG.end_date]
MODEL_SCHEMAS = ("staging", "intermediate", "marts")
SEED_ASSET = "reference/country_codes"
SEED_ONLY_CHECK = (SEED_ASSET, "unique_country_codes_iso2")
MODEL_TO_SEED_CHECK = (
    "staging/stg_events__tracks",
    "relationships_stg_events__tracks_event_name__event_name__ref_event_taxonomy_",
)


@dataclass
class Run:
    code: int
    success: bool
    materialized: set[str]
    checks: set[tuple[str, str]]
    messages: list[str]


def run(settings: Settings) -> Run:
    instance = DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
        patch.setenv("DAGSTER_HOME", str(settings.data_dir / "dagster_home"))
        code = run_job(settings=settings, instance=instance)
    (dagster_run,) = instance.get_runs()
    logs = instance.all_logs(dagster_run.run_id)

    def events(kind: DagsterEventType) -> list:
        return [e.dagster_event.event_specific_data for e in logs if e.dagster_event_type == kind]

    return Run(
        code=code,
        success=dagster_run.is_success,
        materialized={
            m.materialization.asset_key.to_user_string()
            for m in events(DagsterEventType.ASSET_MATERIALIZATION)
        },
        checks={
            (e.asset_key.to_user_string(), e.check_name)
            for e in events(DagsterEventType.ASSET_CHECK_EVALUATION)
        },
        messages=[e.user_message for e in logs if e.user_message.startswith("dbt build")],
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[Run]]:
    root = tmp_path_factory.mktemp("nightly_plan")
    settings = Settings.under(root / "warehouse")
    generated = root / "generated"
    generate(CONFIG, generated / "landing", generated / "truth")
    settings.landing_dir.mkdir(parents=True)
    shutil.copytree(generated / "truth", settings.truth_dir)

    def land(day: date) -> None:
        for folder in sorted((generated / "landing").glob(f"*/{day.isoformat()}")):
            shutil.copytree(folder, settings.landing_dir / folder.parent.name / folder.name)

    done = []
    land(DAYS[0])
    done.append(run(settings))
    land(DAYS[1])
    done.append(run(settings))
    done.append(run(settings))
    rotated = dataclasses.replace(settings, pseudonym_key=PseudonymKey.from_secret(new_secret()))
    done.append(run(rotated))
    return settings, done


def test_the_first_build_builds_everything(runs) -> None:
    _, (first, *_) = runs
    assert first.code == 0 and first.success
    (message,) = first.messages
    assert message.startswith("dbt build --exclude-resource-type unit_test: first recorded")
    assert SEED_ASSET in first.materialized
    assert {SEED_ONLY_CHECK, MODEL_TO_SEED_CHECK} <= first.checks


def test_an_unchanged_project_builds_without_seeds(runs) -> None:
    settings, (first, second, *_) = runs
    assert second.code == 0 and second.success
    (message,) = second.messages
    assert "--exclude resource_type:seed" in message
    assert "--exclude-resource-type unit_test" in message
    assert "project did not change" in message
    # The seeds were not built, and dagster-dbt's optional outputs let the run succeed.
    assert not {a for a in second.materialized if a.startswith("reference/")}
    # Every model still built: the same dbt assets as the first run, less the seeds.
    models = {a for a in first.materialized if a.split("/")[0] in MODEL_SCHEMAS}
    assert len(models) > 30 and models <= second.materialized
    assert "staging/stg_events__messages" in second.materialized
    assert "marts/dim_customers" in second.materialized
    # A test of a seed alone did not run; a test from a model to a seed did.
    assert SEED_ONLY_CHECK not in second.checks
    assert MODEL_TO_SEED_CHECK in second.checks
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        days = con.sql("SELECT DISTINCT _partition FROM staging.stg_events__messages").fetchall()
        builds = con.sql(
            "SELECT count(*), count(DISTINCT project_key), count(DISTINCT data_key) "
            "FROM incremental.dbt_builds"
        ).fetchall()
    assert sorted(d for (d,) in days) == DAYS
    # builds recorded: runs 1 and 2 with one project (and run 4 with a new pseudonym key)
    assert builds == [(3, 2, 2)]


def test_nothing_new_skips_the_build(runs) -> None:
    _, (_, _, third, _) = runs
    assert third.code == 0 and third.success
    (message,) = third.messages
    assert message.startswith("dbt build skipped: nothing became visible")
    assert not {a for a in third.materialized if a.split("/")[0] in MODEL_SCHEMAS}


def test_a_new_pseudonym_key_builds_everything_again(runs) -> None:
    """Nothing new, but another key: the build key changed (orchestration/dbt/build_inputs.py),
    so every model is built again with the new key; the clusters stay, every customer_id
    changes, and the history records each customer's move as a key_rotation."""
    settings, (*_, fourth) = runs
    assert fourth.code == 0 and fourth.success
    (message,) = fourth.messages
    assert "the project (or the pseudonym key) changed" in message
    assert "marts/dim_customers" in fourth.materialized
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        (customers,) = con.sql("SELECT count(*) FROM marts.dim_customers").fetchone()
        con.execute(
            "CREATE TEMP TABLE rotation AS SELECT * FROM state.int_identity__cluster_changes "
            "WHERE changed_at = (SELECT max(changed_at) FROM state.int_identity__cluster_changes)"
        )
        kinds = con.sql(
            "SELECT change_kind, count(*), count(DISTINCT from_customer_id) FROM rotation "
            "GROUP BY ALL"
        ).fetchall()
        (stale,) = con.sql(
            "SELECT count(*) FROM marts.dim_customers "
            "WHERE customer_id IN (SELECT from_customer_id FROM rotation)"
        ).fetchone()
        (renamed,) = con.sql(
            "SELECT count(*) FROM marts.dim_customers "
            "WHERE customer_id IN (SELECT to_customer_id FROM rotation)"
        ).fetchone()
    assert customers > 10
    assert kinds == [("key_rotation", customers, customers)]
    assert stale == 0 and renamed == customers
