"""The warehouse builds from whatever has been delivered: a source never delivered is
reported (source freshness), never a failed gate. The nightly job with only CRM files,
and with only events."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration.cli import run_job
from orchestration.settings import Settings
from sample_data import GeneratorConfig, generate

pytestmark = pytest.mark.integration

CONFIG = GeneratorConfig(customers=40, days=2, end_date=date(2026, 1, 10), seed=31)


@pytest.mark.parametrize("only", ["crm_customers", "events"])
def test_one_source_alone_builds_customers(tmp_path, monkeypatch, capsys, only: str) -> None:
    settings = Settings.under(tmp_path)
    generate(CONFIG, settings.landing_dir, settings.truth_dir)
    for folder in settings.landing_dir.iterdir():
        if folder.name != only:
            shutil.rmtree(folder)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    instance = DagsterInstance.ephemeral()
    assert run_job(settings=settings, instance=instance) == 0
    out = capsys.readouterr().out
    assert "Held deliveries: none." in out
    assert "dbt tests:" in out and ", 0 failed" in out
    (run,) = instance.get_runs()
    assert run.is_success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        loaded = dict(
            con.execute("SELECT source, count(*) FROM raw.load_audit GROUP BY 1").fetchall()
        )
        (customers,) = con.execute("SELECT count(*) FROM marts.dim_customers").fetchone()
        statuses = con.execute("SELECT DISTINCT status FROM state.delivery_status").fetchall()
    assert set(loaded) == {only}
    assert customers > 0
    assert statuses == [("accepted",)]
    # The sources never delivered are reported as such, not failed.
    assert "  orders: never delivered" in out and "  surveys: never delivered" in out
    assert f"  {only}: never delivered" not in out
