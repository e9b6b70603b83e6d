"""Nightly: at 02:00 UTC load yesterday's deliveries (and anything the sensor missed)."""

from datetime import timedelta

from dagster import RunRequest, ScheduleEvaluationContext, schedule

from orchestration.schedules.jobs import nightly_job


@schedule(
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    name="nightly_schedule",
    description="Every night at 02:00 UTC, the main job on yesterday's delivery date.",
)
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    return RunRequest(run_key=f"nightly-{day}", partition_key=day)
