"""Fuzzy matching kept between nights: match again only when what the matcher reads changed.

`match_records` trains its model on the records themselves (u-probabilities by sampling
every pair of a small input, m by EM) and scores the blocked pairs: at 1,200 CRM records
the training is nearly all of its ~5 s, and any change to any record can move every
probability, so there is no cheaper partial re-match that gives the same numbers. But the
input changes only when a CRM snapshot arrives (weekly) or a blocklist verdict on a CRM
e-mail or phone changes; on every other night the result would be the same.

`match_nightly(con, input_table, mapping, out_table, settings, state_schema=…)` hashes
everything the result is a function of — the mapped columns of every input row and their
types, the mapping, the settings, the matcher's own code and the Splink and DuckDB
versions — and compares it with the last run's in `<state_schema>.match_runs`. Equal: the
pairs kept in `<state_schema>.matched_pairs` are the result (Splink is not even
imported). Otherwise, or with `force_full`, or when the state is missing: `match_records`,
and the state is replaced in one transaction (unless the caller already holds one, which
then covers it). Either way `out_table` holds exactly what `match_records` writes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import duckdb

from . import matching, phases
from .matching import ColumnMapping, MatchSettings, MatchStats, _ident, match_records
from .transactions import transaction_unless_open

_PAIR_COLUMNS = "record_id_l, record_id_r, match_probability, match_weight, match_reasons"


@dataclass(frozen=True)
class NightlyMatchStats:
    """What one night's matching did: `mode` "kept" (the inputs did not change: the kept
    pairs) or "matched" (`match_records` ran, `stats` its MatchStats), and why."""

    mode: str
    reason: str
    fingerprint: str
    pairs: int
    seconds: float
    stats: MatchStats | None = None


def input_fingerprint(
    con: Any, input_table: str, mapping: ColumnMapping, settings: MatchSettings
) -> str:
    """sha256 over what `match_records` reads and is: every input row's mapped columns (an
    ordered hash of the rows), their types, the mapping, the settings, the source of the
    matcher and the versions of Splink and DuckDB."""
    input_table = _ident(input_table)
    columns = [getattr(mapping, f.name) for f in fields(mapping) if getattr(mapping, f.name)]
    for column in columns:
        _ident(column)
    types = con.execute(
        f"select column_name, column_type from (describe {input_table}) order by column_name"
    ).fetchall()
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(
        f"""
        select count(*), md5(coalesce(string_agg(row_hash, '' order by row_hash), ''))
        from (select md5(cast(row({quoted}) as varchar)) as row_hash from {input_table})
        """
    ).fetchall()[0]
    digest = hashlib.sha256()
    for part in (
        repr(mapping),
        repr(settings),
        repr([t for t in types if t[0] in columns]),
        repr(rows),
        importlib.metadata.version("splink"),
        duckdb.__version__,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    for module in (matching, phases):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def match_nightly(
    con: Any,
    input_table: str,
    mapping: ColumnMapping,
    out_table: str,
    settings: MatchSettings | None = None,
    *,
    state_schema: str,
    force_full: bool = False,
    temporary: bool = False,
) -> NightlyMatchStats:
    """`match_records`' result in `out_table`, from the kept pairs when nothing the
    matcher reads changed since the last run (see the module docstring)."""
    started = time.perf_counter()
    settings = settings or MatchSettings()
    schema, out_table = _ident(state_schema), _ident(out_table)
    fingerprint = input_fingerprint(con, input_table, mapping, settings)
    reason = _why_match(con, schema, fingerprint, force_full)
    temp = "temp " if temporary else ""
    stats = None
    if reason is None:
        con.execute(
            f"create or replace {temp}table {out_table} as "
            f"select {_PAIR_COLUMNS} from {schema}.matched_pairs "
            "order by record_id_l, record_id_r"
        )
    else:
        stats = match_records(con, input_table, mapping, out_table, settings, temporary=temporary)
    pairs = con.execute(f"select count(*) from {out_table}").fetchall()[0][0]
    result = NightlyMatchStats(
        mode="kept" if reason is None else "matched",
        reason=reason or "the matcher's inputs did not change since the last run",
        fingerprint=fingerprint,
        pairs=pairs,
        seconds=time.perf_counter() - started,
        stats=stats,
    )
    with transaction_unless_open(con):
        con.execute(f"create schema if not exists {schema}")
        if stats is not None:
            con.execute(
                f"create or replace table {schema}.matched_pairs as "
                f"select {_PAIR_COLUMNS} from {out_table}"
            )
        con.execute(
            f"""
            create table if not exists {schema}.match_runs (
                matched_at timestamptz, mode varchar, reason varchar, fingerprint varchar,
                records bigint, candidate_pairs bigint, pairs bigint, seconds double
            )
            """
        )
        values = [
            _literal(result.mode),
            _literal(result.reason),
            _literal(fingerprint),
            *(
                "null" if value is None else str(value)
                for value in (
                    stats.records if stats else None,
                    stats.candidate_pairs if stats else None,
                    pairs,
                    round(result.seconds, 3),
                )
            ),
        ]
        # literals, not parameters: DuckDB's first parameter binding imports pandas
        con.execute(f"insert into {schema}.match_runs values (now(), {', '.join(values)})")
    return result


def _why_match(con: Any, schema: str, fingerprint: str, force_full: bool) -> str | None:
    """Why tonight must match (None: the kept pairs are the result)."""
    if force_full:
        return "a full re-match requested"
    present = {
        name
        for (name,) in con.execute(
            f"select table_name from duckdb_tables() where schema_name = {_literal(schema)}"
        ).fetchall()
    }
    if not {"matched_pairs", "match_runs"} <= present:
        return "no kept matching"
    last = con.execute(
        f"select fingerprint from {schema}.match_runs order by matched_at desc limit 1"
    ).fetchall()
    if not last or last[0][0] != fingerprint:
        return "the matcher's inputs changed"
    return None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
