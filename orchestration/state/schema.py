"""DDL of the `state` schema and of the `visible` views dbt reads raw data through.

A delivery is one source × delivery date, loaded as a set of files whose fingerprint (name,
size, modification time of each) identifies the delivery's version. The gate writes one
verdict per delivery load; a steward's release names the delivery version it releases, so
reloading the same files keeps the release, while a re-delivery (other files) is judged
afresh.

`visible.<source>` is `raw.<source>` less the rows of held deliveries: the dbt sources
read these views, so a held delivery stays in raw (flagged in `state.delivery_status`) and
is invisible downstream until it is re-delivered or released.
"""

from __future__ import annotations

import duckdb

from orchestration.ingest.sources import SOURCES, VISIBLE_SCHEMA
from orchestration.ingest.user_agents import USER_AGENTS_DDL

STATE_SCHEMA = "state"

# Sources whose deliveries are never held: withdrawals and erasures have legal deadlines,
# so their failed expectations are reported and their bad records quarantined instead.
NEVER_HELD = frozenset({"consent", "privacy_requests"})

_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS state.delivery_verdicts (
        source VARCHAR NOT NULL,
        delivery_date DATE NOT NULL,
        loaded_at TIMESTAMPTZ NOT NULL,
        delivery_fingerprint VARCHAR NOT NULL,
        passed_critical BOOLEAN NOT NULL,
        held BOOLEAN NOT NULL,
        critical_failed VARCHAR[] NOT NULL,
        warnings VARCHAR[] NOT NULL,
        validated_first DATE NOT NULL,
        validated_last DATE NOT NULL,
        validated_at TIMESTAMPTZ NOT NULL,
        run_id VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS state.delivery_releases (
        source VARCHAR NOT NULL,
        delivery_date DATE NOT NULL,
        delivery_fingerprint VARCHAR NOT NULL,
        released_at TIMESTAMPTZ NOT NULL,
        released_by VARCHAR NOT NULL,
        reason VARCHAR NOT NULL
    )
    """,
)

# One row per delivery currently in raw (raw.load_audit holds the current load of each):
# its latest verdict and any release of its version. status: accepted (passed, or failed a
# critical expectation of a source that is never held), held, released, or unvalidated
# (loaded, but the gate has not judged this load yet: invisible, like a held one).
_STATUS_VIEW = """
CREATE OR REPLACE VIEW state.delivery_status AS
WITH current_loads AS (
    SELECT source, _partition AS delivery_date, _loaded_at AS loaded_at,
           max(delivery_fingerprint) AS delivery_fingerprint,
           count(*) AS files, sum(records_in) AS records_in, sum(raw_rows) AS raw_rows
    FROM raw.load_audit GROUP BY ALL
),
latest_verdicts AS (
    SELECT * FROM state.delivery_verdicts
    QUALIFY row_number() OVER (
        PARTITION BY source, delivery_date, loaded_at ORDER BY validated_at DESC
    ) = 1
),
latest_releases AS (
    SELECT * FROM state.delivery_releases
    QUALIFY row_number() OVER (
        PARTITION BY source, delivery_date, delivery_fingerprint ORDER BY released_at DESC
    ) = 1
)
SELECT
    l.source, l.delivery_date, l.loaded_at, l.delivery_fingerprint, l.files, l.records_in,
    l.raw_rows,
    CASE
        WHEN v.source IS NULL THEN 'unvalidated'
        WHEN NOT v.held THEN 'accepted'
        WHEN r.source IS NOT NULL THEN 'released'
        ELSE 'held'
    END AS status,
    v.passed_critical, v.critical_failed, v.warnings, v.validated_at, v.run_id,
    r.released_at, r.released_by, r.reason AS release_reason
FROM current_loads AS l
LEFT JOIN latest_verdicts AS v
    ON v.source = l.source AND v.delivery_date = l.delivery_date AND v.loaded_at = l.loaded_at
LEFT JOIN latest_releases AS r
    ON r.source = l.source AND r.delivery_date = l.delivery_date
    AND r.delivery_fingerprint = l.delivery_fingerprint
"""


def _visible_view(source: str) -> str:
    return f"""
    CREATE OR REPLACE VIEW {VISIBLE_SCHEMA}.{source} AS
    SELECT delivered.* FROM raw.{source} AS delivered
    WHERE EXISTS (
        SELECT 1 FROM state.delivery_status AS s
        WHERE s.source = '{source}' AND s.status IN ('accepted', 'released')
          AND s.delivery_date = delivered._partition AND s.loaded_at = delivered._loaded_at
    )
    """


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    """Create the state tables (never dropped) and (re)create the views over them.

    Needs the raw tables (orchestration.ingest.loader.ensure_tables) to exist first.
    """
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {VISIBLE_SCHEMA}")
    for ddl in _TABLES:
        con.execute(ddl)
    con.execute(_STATUS_VIEW)
    for source in SOURCES:
        con.execute(_visible_view(source.name))
    # The user-agent lookup is no delivery (nothing to hold): dbt sees it whole.
    con.execute(USER_AGENTS_DDL)
    con.execute(
        f"CREATE OR REPLACE VIEW {VISIBLE_SCHEMA}.user_agents AS SELECT * FROM raw.user_agents"
    )
