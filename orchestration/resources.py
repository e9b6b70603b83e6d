"""Resources shared by every asset: the DuckDB warehouse and the landing folder."""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from dagster_duckdb import DuckDBResource

from orchestration.run_lock import WarehouseBusy, duckdb_lock_holder, file_busy_message, run_lock
from orchestration.settings import Settings


class LandingResource(ConfigurableResource):
    """The folder deliveries land in (`landing/<source>/<YYYY-MM-DD>/`)."""

    landing_dir: str

    @property
    def path(self) -> Path:
        return Path(self.landing_dir)


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource for the warehouse file, which also holds the warehouse's
    run lock for the whole run and tidies its artefacts at the start.

    Every step of the nightly job needs the warehouse, so every run — `cdw run`, the
    schedule, the sensor, a backfill or a launch from the UI — takes the lock when Dagster
    initialises this resource (once per run: the job's executor is in-process). A second
    run on the warehouse waits `lock_wait_seconds`, then fails before any step, naming the
    run that holds it (orchestration/run_lock.py). `cdw run` holds the lock already; taking
    it again adds the run id to the holder's description. Then what is older than the
    retention is removed (orchestration/housekeeping.py).

    A connection that DuckDB refuses because another process has the file open (after
    dagster-duckdb's retries, ~100 s) fails its step with a message naming that process.
    """

    artefacts_dir: str
    lock_wait_seconds: float = 0.0
    retention_days: int = 30

    @property
    def settings(self) -> Settings:
        """The settings this resource was built from, as far as housekeeping needs them."""
        path = Path(self.database)
        return replace(
            Settings.under(path.parent),
            warehouse_path=path,
            artefacts_root=Path(self.artefacts_dir),
            retention_days=self.retention_days,
        )

    @contextlib.contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Generator[Any, None, None]:
        run = context.run
        if run is None:  # built outside a run (a test's direct call): nothing to guard
            yield self
            return
        settings = self.settings
        say = context.log.info if context.log else print
        with run_lock(
            settings.run_lock_path,
            settings.warehouse_path,
            wait=self.lock_wait_seconds,
            run_id=run.run_id,
            on_wait=say,
        ):
            from orchestration.housekeeping import prune_artefacts

            pruned = prune_artefacts(settings, context.instance, keep_run_ids=(run.run_id,))
            if pruned:
                say(pruned.describe(settings.retention_days) + " (orchestration/housekeeping.py)")
            yield self

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        manager = super().get_connection()
        try:
            connection = manager.__enter__()
        except duckdb.IOException as error:
            if duckdb_lock_holder(error) is None:
                raise
            lock = self.settings.run_lock_path
            raise WarehouseBusy(file_busy_message(Path(self.database), error, lock)) from error
        try:
            yield connection
        finally:
            # dagster-duckdb closes the connection only when the block ends without an error
            manager.__exit__(None, None, None)


def build_resources(settings: Settings) -> dict[str, object]:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        # dagster-duckdb's resource retries the connect while another process holds the
        # file's write lock; jobs run in one process, one step at a time (DuckDB: one writer).
        # Session settings (UTC, no progress bar) are SET per connection by the loaders:
        # DuckDB refuses a second, different configuration of one file in one process.
        "warehouse": WarehouseResource(
            database=str(settings.warehouse_path),
            artefacts_dir=str(settings.artefacts_dir),
            lock_wait_seconds=settings.run_lock_wait_seconds,
            retention_days=settings.retention_days,
        ),
        "landing": LandingResource(landing_dir=str(settings.landing_dir)),
    }
