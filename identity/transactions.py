"""One transaction for a state write, unless the caller already opened one."""

from __future__ import annotations

from typing import Any

import duckdb


def begin_unless_open(con: Any) -> bool:
    """Open a transaction; False when the caller already holds one (it covers ours)."""
    try:
        con.execute("begin transaction")
    except duckdb.TransactionException:
        return False
    return True
