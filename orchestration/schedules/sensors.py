"""Notices new or changed landing partitions and loads them in one run.

The cursor maps each delivery date to a fingerprint of its files (names, sizes, mtimes)
across all sources; dates whose fingerprint changed are loaded as one partition range.
"""

import json
from datetime import date

from dagster import (
    DefaultSensorStatus,
    RunRequest,
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


def range_run_request(first: date | str, last: date | str, run_key: str | None) -> RunRequest:
    """One run for a whole partition range (assets use a single-run backfill policy)."""
    return RunRequest(
        run_key=run_key,
        tags={
            ASSET_PARTITION_RANGE_START_TAG: str(first),
            ASSET_PARTITION_RANGE_END_TAG: str(last),
        },
    )


@sensor(
    job=nightly_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Loads landing dates whose files appeared or changed since the last look.",
)
def landing_sensor(context: SensorEvaluationContext):
    current = landing_fingerprints(Settings.from_env())
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(d for d, fp in current.items() if seen.get(d) != fp)
    if not changed:
        return SkipReason("no new or changed deliveries")
    context.update_cursor(json.dumps(current, sort_keys=True))
    run_key = "landing-" + "-".join([changed[0], changed[-1], current[changed[-1]]])
    return range_run_request(changed[0], changed[-1], run_key)
