"""The main job: every asset, in one process, one step at a time.

DuckDB allows one writing process per file, so the job runs in-process (no parallel steps
fighting for the write lock) and the instance's run queue admits one run at a time
(`dagster_home/dagster.yaml`).
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

nightly_job = define_asset_job(
    name="nightly",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Load the landing deliveries of the selected dates into the warehouse.",
)
