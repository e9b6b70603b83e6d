"""The Dagster code location: assets, checks, the main job, its schedule and sensor."""

from dagster import Definitions

from orchestration.dbt.assets import build_dbt_assets, dbt_resource
from orchestration.ingest.assets import load_summary, raw_asset_checks, raw_assets, user_agents
from orchestration.resources import build_resources
from orchestration.schedules.jobs import nightly_job
from orchestration.schedules.schedules import nightly_schedule
from orchestration.schedules.sensors import landing_sensor
from orchestration.settings import Settings


def build_definitions(settings: Settings) -> Definitions:
    """Everything, bound to the warehouse file and landing folder of `settings`."""
    return Definitions(
        assets=[*raw_assets, user_agents, load_summary, *build_dbt_assets(settings)],
        asset_checks=raw_asset_checks,
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=[landing_sensor],
        resources={**build_resources(settings), "dbt": dbt_resource()},
    )


defs = build_definitions(Settings.from_env())
