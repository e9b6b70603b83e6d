"""Deliveries are partitioned by landing date (`landing/<source>/<YYYY-MM-DD>/`)."""

from __future__ import annotations

from datetime import date

from dagster import DailyPartitionsDefinition

from orchestration.settings import Settings

# end_offset=1: today's folder is a valid partition, so a delivery landed today can load now.
DELIVERY_DATES = DailyPartitionsDefinition(
    start_date=Settings.from_env().first_delivery_date.isoformat(), end_offset=1
)


def partition_dates(keys: list[str]) -> list[date]:
    return [date.fromisoformat(k) for k in keys]
