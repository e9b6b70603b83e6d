"""A bad delivery holds back only itself: identity and marts build on the rest; a steward's
release makes it visible; a re-delivery is judged afresh (docs/quality.md, "Held
deliveries"). Three nights of the real Dagster job on one small generated landing folder."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckEvaluation, DagsterEventType, DagsterInstance

from orchestration.cli import HELD_EXIT_CODE, main, run_job
from orchestration.settings import Settings
from sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(customers=40, days=3, end_date=date(2026, 1, 10), seed=23)
BAD_DAY = date(2026, 1, 10)


@dataclass
class Night:
    code: int  # `cdw run`'s exit code
    output: str  # what it printed
    success: bool
    materialized: set[str]
    checks: dict[tuple[str, str], AssetCheckEvaluation]


def run_night(settings: Settings, reload: bool = False) -> Night:
    """One night as `cdw run` runs it (orchestration.cli.run_job), on its own instance."""
    instance = DagsterInstance.ephemeral()
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("DAGSTER_HOME", str(settings.data_dir / "dagster_home"))
        code = run_job(settings=settings, instance=instance, reload=reload)
    (run,) = instance.get_runs()

    def events(kind: DagsterEventType) -> list:
        return [e.dagster_event.event_specific_data for e in instance.all_logs(run.run_id, kind)]

    return Night(
        code=code,
        output=printed.getvalue(),
        success=run.is_success,
        materialized={
            m.materialization.asset_key.to_user_string()
            for m in events(DagsterEventType.ASSET_MATERIALIZATION)
        },
        checks={
            (e.asset_key.to_user_string(), e.check_name): e
            for e in events(DagsterEventType.ASSET_CHECK_EVALUATION)
        },
    )


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def plant_defect(path: Path) -> str:
    """Three well-formed track messages get a `type` that is no Segment type: the loader
    keeps them (values are the gate's business), the gate's critical in-set rule fails."""
    original = path.read_text()
    lines = original.splitlines()
    planted = 0
    for i, line in enumerate(lines):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "track" and planted < 3:
            message["type"] = "bogus"
            lines[i] = json.dumps(message)
            planted += 1
    assert planted == 3
    path.write_text("\n".join(lines) + "\n")
    return original


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings.under(tmp_path_factory.mktemp("holds"))
    generate(CONFIG, settings.landing_dir, settings.truth_dir)
    mobile = settings.landing_dir / "events" / BAD_DAY.isoformat() / "mobile.jsonl"
    original = plant_defect(mobile)
    return settings, mobile, original


@pytest.fixture(scope="module")
def night1(landed):
    settings, _, _ = landed
    return run_night(settings)


def test_the_bad_delivery_is_held_and_named(landed, night1) -> None:
    settings, _, _ = landed
    checks = night1.checks
    critical = checks[("raw/events", "gx_critical")]
    assert not critical.passed
    assert critical.metadata["held"].value == [BAD_DAY.isoformat()]
    assert "type is one of" in critical.description and BAD_DAY.isoformat() in critical.description
    # The other sources' gates passed; a held delivery does not fail the run.
    assert checks[("raw/orders", "gx_critical")].passed
    assert checks[("raw/crm_customers", "gx_critical")].passed
    assert night1.success
    # `cdw run` says what is held and why, and exits with its own code.
    assert night1.code == HELD_EXIT_CODE
    assert "Held deliveries (1;" in night1.output
    assert f"events {BAD_DAY}: [critical] type is one of" in night1.output
    statuses = query(
        settings,
        "SELECT delivery_date, status FROM state.delivery_status "
        "WHERE source = 'events' ORDER BY 1",
    )
    assert statuses == [
        (date(2026, 1, 8), "accepted"),
        (date(2026, 1, 9), "accepted"),
        (BAD_DAY, "held"),
    ]
    assert query(settings, "SELECT count(*) FROM state.delivery_status WHERE status = 'held'") == [
        (1,)
    ]


def test_only_the_held_delivery_is_invisible_and_everything_else_builds(landed, night1) -> None:
    settings, _, _ = landed
    # Kept in raw, invisible to dbt: not one staged message comes from the held delivery.
    ((in_raw,),) = query(
        settings, f"SELECT count(*) FROM raw.events WHERE _partition = '{BAD_DAY}'"
    )
    assert in_raw > 0
    assert query(
        settings, f"SELECT count(*) FROM visible.events WHERE _partition = '{BAD_DAY}'"
    ) == [(0,)]
    staged = dict(
        query(settings, "SELECT _partition, count(*) FROM staging.stg_events__messages GROUP BY 1")
    )
    assert BAD_DAY not in staged and staged[date(2026, 1, 9)] > 0
    # Identity, the customer marts and the snapshot were built, and every dbt test passed.
    assert {
        "intermediate/int_identity__components",
        "marts/dim_customers",
        "snapshots/snp_identity__memberships",
        "staging/stg_events__messages",
        "staging/stg_orders__orders",
    } <= night1.materialized
    ((customers,),) = query(settings, "SELECT count(*) FROM marts.dim_customers")
    assert customers > 0
    dbt_checks = {k: e for k, e in night1.checks.items() if not k[0].startswith("raw/")}
    assert dbt_checks and all(e.passed for e in dbt_checks.values())


def test_cli_lists_the_hold_and_refuses_a_release_without_a_hold(
    landed, night1, monkeypatch, capsys
) -> None:
    settings, _, _ = landed
    monkeypatch.setenv("CDW_DATA_DIR", str(settings.data_dir))
    assert main(["holds"]) == 0
    out = capsys.readouterr().out
    assert f"events            {BAD_DAY}  held" in out
    code = main(
        ["release", "--source", "events", "--date", "2026-01-09", "--by", "t", "--why", "x"]
    )
    assert code == 2
    assert "is accepted, not held" in capsys.readouterr().err


def test_a_release_is_kept_on_reload_and_a_redelivery_is_judged_afresh(
    landed, night1, monkeypatch, capsys
) -> None:
    settings, mobile, original = landed
    monkeypatch.setenv("CDW_DATA_DIR", str(settings.data_dir))
    code = main(
        [
            "release", "--source", "events", "--date", BAD_DAY.isoformat(),
            "--by", "steward@test", "--why", "bogus types are a test feed; keep the rest",
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    assert query(
        settings,
        "SELECT released_by, reason FROM state.delivery_releases",
    ) == [("steward@test", "bogus types are a test feed; keep the rest")]

    # Night 2 reloads the same files (`--reload`): the same version, judged held again, but
    # the release names that version: it stays released, and nothing is held any more.
    night2 = run_night(settings, reload=True)
    assert night2.checks[("raw/events", "gx_critical")].passed
    assert night2.code == 0
    assert query(
        settings,
        f"SELECT status FROM state.delivery_status WHERE source = 'events' "
        f"AND delivery_date = '{BAD_DAY}'",
    ) == [("released",)]
    ((visible,),) = query(
        settings, f"SELECT count(*) FROM visible.events WHERE _partition = '{BAD_DAY}'"
    )
    ((raw,),) = query(settings, f"SELECT count(*) FROM raw.events WHERE _partition = '{BAD_DAY}'")
    assert visible == raw > 0  # visible now
    assert query(
        settings,
        f"SELECT count(*) FROM staging.stg_events__messages WHERE _partition = '{BAD_DAY}'",
    ) != [(0,)]

    # Night 3: the sender re-delivers a clean file: a new version, loaded without --reload
    # and judged afresh (accepted).
    mobile.write_text(original)
    night3 = run_night(settings)
    assert night3.checks[("raw/events", "gx_critical")].passed
    assert query(
        settings,
        "SELECT status, released_by FROM state.delivery_status "
        f"WHERE source = 'events' AND delivery_date = '{BAD_DAY}'",
    ) == [("accepted", None)]
