"""The Dagster code location: assets, checks, the main job, its schedule and sensor."""

import dagster as dg
from dagster import Definitions

from orchestration.dbt.assets import build_dbt_assets, dbt_resource
from orchestration.ingest.assets import build_ingest_assets
from orchestration.resources import build_resources
from orchestration.schedules.jobs import nightly_job
from orchestration.schedules.schedules import nightly_schedule
from orchestration.schedules.sensors import build_landing_sensor
from orchestration.settings import Settings


def build_definitions(settings: Settings) -> Definitions:
    """Everything, bound to `settings` (warehouse file, landing folder, first delivery date,
    GX project): the one place settings enter the code location."""
    return Definitions(
        assets=[*build_ingest_assets(settings), *build_dbt_assets(settings)],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=[build_landing_sensor(settings)],
        resources={**build_resources(settings), "dbt": dbt_resource(settings)},
    )


@dg.definitions
def defs() -> Definitions:
    """The code location `dagster dev` and the daemon load (pyproject.toml), built when
    Dagster loads it, not when this module is imported: `cdw` imports build_definitions
    and binds its own settings, and building needs the dbt manifest (a `dbt parse` when it
    is stale or was made for another warehouse, ~15 s)."""
    return build_definitions(Settings.from_env())
