"""dbt-duckdb plugin: the keyed-pseudonym functions on dbt's DuckDB connection.

Loaded by dbt_project/profiles.yml (`plugins: - module: privacy.dbt_plugin`). When dbt opens
the warehouse, `configure_connection` defines `cdw_pseudonym(varchar)` and
`cdw_customer_id(varchar)` (privacy.pseudonyms.register) with the key of the environment
dbt runs in: `CDW_PSEUDONYM_KEY` (read here from the process environment, never through
dbt's `env_var`, which would record the value in dbt's artifacts), else the public
development key — which this plugin announces as a warning in dbt's log and output (and so
in the Dagster run's log, which streams them). The SQL models call the functions through
the macro `pseudonym` (macros/pseudonyms.sql), the Python models by name.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

from privacy.pseudonyms import PseudonymKey, register

logger = AdapterLogger("Pseudonyms")


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.key = PseudonymKey.from_env()
        if self.key.is_development:
            logger.warning(self.key.describe())
        else:
            logger.info(self.key.describe())

    def configure_connection(self, conn) -> None:
        register(conn, self.key)
