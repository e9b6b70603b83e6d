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

dagster_home/dagster.yaml selects it. It relies on Dagster 1.13's `_connect` and
`_conn_string` of the parent class (recheck when upgrading Dagster).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS


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

    def dispose(self) -> None:
        if "_engine" in self.__dict__:
            self._engine.dispose()
        super().dispose()
