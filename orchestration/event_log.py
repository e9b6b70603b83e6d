"""Dagster's event log in one SQLite file, with connections kept open between events.

A nightly run stores about a thousand events (one per asset and check planned, one per
result, the step events), each in its own transaction. Dagster's
`ConsolidatedSqliteEventLogStorage` opens a new SQLite connection for every one and closes
it afterwards; closing the last connection to a WAL database checkpoints the WAL into the
database and deletes it, so every event paid a connect, a commit with fsync and a
checkpoint: py-spy put half of a benchmark's wall time there (docs/benchmarks.md). This
storage is the same class with one pooled engine per process, and `synchronous=NORMAL`, the
setting SQLite documents for WAL mode (a commit is durable at the next checkpoint; a power
cut can lose the last events, never corrupt the file).

A run over a range of delivery dates (a first build, a backfill) plans every asset check
once per partition: Dagster 1.13 writes one `asset_check_executions` row per check and
date, serialising the same planned event again for each row in one multi-row INSERT that
SQLAlchemy compiles afresh, and reflects the asset-key table's columns for every event.
This storage serialises each planned event once and inserts its rows with `executemany`
(the same rows), and remembers the columns for the process's life (the schema only changes
with `dagster instance migrate`). It also plans each asset's materialisation as one event
for the run's partition range instead of one event per date — what Dagster does when
DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS is set, with its documented cost: when
such a run fails, its dates show as missing in the UI rather than failed (the run itself
shows failed, and holds are recorded in the warehouse, not in Dagster). What it saves:
`python -m benchmarks.event_log --days 89` (docs/benchmarks.md).

Deleting a run (housekeeping) also deletes its asset check rows, which Dagster's own
`delete_events_for_run` keeps.

dagster_home/dagster.yaml selects it. It relies on Dagster 1.13's `_connect`,
`_conn_string`, `_store_asset_check_evaluation_planned`, `delete_events_for_run` and
`_has_asset_key_col_on_connection` of the parent class (recheck when upgrading Dagster;
tests/unit/test_event_log.py compares the rows with the parent's).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from dagster._core.events import AssetCheckEvaluationPlanned
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster_shared.serdes import serialize_value


class PooledSqliteEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """ConsolidatedSqliteEventLogStorage whose connections outlive one event."""

    @cached_property
    def _engine(self) -> sa.engine.Engine:
        engine = sa.create_engine(
            self._conn_string,
            pool_size=2,
            max_overflow=8,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

        return engine

    @contextmanager
    def _connect(self) -> Iterator[sa.engine.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        return True

    def _store_asset_check_evaluation_planned(
        self, event: EventLogEntry, event_id: int | None
    ) -> None:
        dagster_event = event.dagster_event
        assert dagster_event is not None
        planned = dagster_event.event_specific_data
        assert isinstance(planned, AssetCheckEvaluationPlanned)
        partition_keys = (
            planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        )
        row = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(event),
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        with self.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.insert(),
                [row | {"partition": key} for key in partition_keys],
            )

    def delete_events_for_run(self, conn: sa.engine.Connection, run_id: str) -> None:
        """Dagster's deletion of a run's events (`DagsterInstance.delete_run`), and also
        the run's rows in `asset_check_executions`, which Dagster 1.13 leaves behind: one
        per check and partition, with the serialised event, they were two thirds of the
        event log after 19 pruned nights (orchestration/housekeeping.py)."""
        super().delete_events_for_run(conn, run_id)
        conn.execute(
            AssetCheckExecutionsTable.delete().where(AssetCheckExecutionsTable.c.run_id == run_id)
        )

    def _has_asset_key_col_on_connection(
        self, conn: sa.engine.Connection, column_name: str
    ) -> bool:
        known = self.__dict__.setdefault("_asset_key_columns", {})
        if column_name not in known:
            known[column_name] = super()._has_asset_key_col_on_connection(conn, column_name)
        return known[column_name]

    def dispose(self) -> None:
        if "_engine" in self.__dict__:
            self._engine.dispose()
        super().dispose()
