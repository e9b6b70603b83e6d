"""Notices new or changed landing partitions and loads them in one run.

The cursor maps each delivery date to a fingerprint of its files (names, sizes, mtimes)
across all sources; dates whose fingerprint changed are loaded as one partition range.
"""

import json
from datetime import date

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from orchestration.ingest.landing import all_delivery_dates, files_for, fingerprint
from orchestration.ingest.sources import SOURCES
from orchestration.partitions import FULL_REFRESH_TAG, RELOAD_TAG
from orchestration.schedules.jobs import nightly_job
from orchestration.settings import Settings


def landing_fingerprints(settings: Settings) -> dict[str, str]:
    names = [s.name for s in SOURCES]
    fingerprints = {}
    for day in all_delivery_dates(settings.landing_dir, names):
        if day < settings.first_delivery_date:
            continue  # outside the partition set; `cdw run` reports these
        files = [f for s in names for f in files_for(settings.landing_dir, s, day)]
        fingerprints[day.isoformat()] = fingerprint(files)
    return fingerprints


def range_run_request(
    first: date | str,
    last: date | str,
    run_key: str | None,
    reload: bool = False,
    full_refresh: bool = False,
) -> RunRequest:
    """One run for a whole partition range (assets use a single-run backfill policy);
    `reload` reads every delivery of the range again, changed or not; `full_refresh`
    rebuilds every dbt model from scratch."""
    tags = {ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)}
    if reload:
        tags[RELOAD_TAG] = "true"
    if full_refresh:
        tags[FULL_REFRESH_TAG] = "true"
    return RunRequest(run_key=run_key, tags=tags)


def build_landing_sensor(settings: Settings) -> SensorDefinition:
    @sensor(
        job=nightly_job,
        name="landing_sensor",
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.STOPPED,
        description="Loads landing dates whose files appeared or changed since the last look.",
    )
    def landing_sensor(context: SensorEvaluationContext):
        return changed_dates_request(context, settings)

    return landing_sensor


def changed_dates_request(context: SensorEvaluationContext, settings: Settings):
    current = landing_fingerprints(settings)
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(d for d, fp in current.items() if seen.get(d) != fp)
    if not changed:
        return SkipReason("no new or changed deliveries")
    context.update_cursor(json.dumps(current, sort_keys=True))
    run_key = "landing-" + "-".join([changed[0], changed[-1], current[changed[-1]]])
    return range_run_request(changed[0], changed[-1], run_key)
