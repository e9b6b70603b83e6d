"""Resources shared by every asset: the DuckDB warehouse and the landing folder."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource

from orchestration.settings import Settings


class LandingResource(ConfigurableResource):
    """The folder deliveries land in (`landing/<source>/<YYYY-MM-DD>/`)."""

    landing_dir: str

    @property
    def path(self) -> Path:
        return Path(self.landing_dir)


def build_resources(settings: Settings) -> dict[str, object]:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        # dagster-duckdb's resource retries the connect while another process holds the
        # file's write lock; jobs run in one process, one step at a time (DuckDB: one writer).
        # Session settings (UTC, no progress bar) are SET per connection by the loaders:
        # DuckDB refuses a second, different configuration of one file in one process.
        "warehouse": DuckDBResource(database=str(settings.warehouse_path)),
        "landing": LandingResource(landing_dir=str(settings.landing_dir)),
    }
