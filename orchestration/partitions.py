"""Deliveries are partitioned by landing date (`landing/<source>/<YYYY-MM-DD>/`)."""

from __future__ import annotations

from datetime import date

from dagster import DailyPartitionsDefinition

from orchestration.settings import Settings


def delivery_dates(settings: Settings) -> DailyPartitionsDefinition:
    """One partition per delivery date from `settings.first_delivery_date`. end_offset=1:
    today's folder is a valid partition, so a delivery landed today can load now."""
    return DailyPartitionsDefinition(
        start_date=settings.first_delivery_date.isoformat(), end_offset=1
    )


def partition_dates(keys: list[str]) -> list[date]:
    return [date.fromisoformat(k) for k in keys]


# A run tagged with this ("true") reloads every delivery of its range, changed or not
# (after a loader or contract change: `cdw run --reload`). Otherwise unchanged deliveries
# are skipped (orchestration.ingest.loader.changed_deliveries).
RELOAD_TAG = "cdw/reload"

# A run tagged with this ("true") rebuilds every dbt model from scratch (`dbt build
# --full-refresh`): after a change to an incremental model's SQL or columns, or to the
# seeds its rows were computed with (`cdw run --full-refresh`).
FULL_REFRESH_TAG = "cdw/full_refresh"
