"""One transaction for a state write, unless the caller already opened one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb


@contextmanager
def transaction_unless_open(con: Any) -> Iterator[None]:
    """Commit what the block wrote, or roll it back on an error — in a transaction of its
    own, unless the caller already holds one (which then covers the block, and decides)."""
    try:
        con.execute("begin transaction")
        own = True
    except duckdb.TransactionException:
        own = False
    if not own:
        yield
        return
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
