"""The gate's expectation suites, as code (the JSON under expectations/ is generated from it).

One suite per raw source, `raw_<source>`, validated per delivery as it loads
(orchestration/quality/delivery_gate.py). This module holds `SuiteSpec`, the rules every raw
table gets (`_structure`; `_contract`, built from the landing contract in
`orchestration/ingest/sources.py`) and the assembly (`raw_suite`, `RAW_SUITES`,
`suite_specs`). Each source's plausibility rules are in gx_source_rules.py; both are
written in the vocabulary of gx_vocabulary.py (severities, `critical()` / `warning()` /
`rows()`, SQL helpers, reference values; its docstring states what critical and warning
mean and the rules for SQL checks). Rules on dbt models are dbt tests, beside the models:
each rule lives in one place. After a change in any of the three run
`python -m orchestration.quality.gx_project sync`; see docs/quality.md.

`CRITICAL`, `WARNING` and `PARTITION_COLUMN` are re-exported from gx_vocabulary.py (the gate
and the tests import them from here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from orchestration.ingest.parsing import ACCESS_LOG_TIME_FORMAT
from orchestration.ingest.sources import SOURCES, Format, Kind, Source
from orchestration.quality.gx_source_rules import _DEPENDS_ON, _EXTRAS
from orchestration.quality.gx_vocabulary import (
    CRITICAL,
    PARTITION_COLUMN,
    QUARANTINE_SHARE_MAX,
    WARNING,
    _blank,
    _num,
    _present,
    _q,
    _ts,
    critical,
    rows,
    warning,
)

__all__ = [
    "CRITICAL",
    "PARTITION_COLUMN",
    "RAW_SUITES",
    "WARNING",
    "SuiteSpec",
    "raw_suite",
    "raw_suite_name",
    "suite_specs",
]


@dataclass(frozen=True)
class SuiteSpec:
    """A suite and the table it validates.

    `partition_column` names the column the run's date range filters (None: the suite
    always validates the whole table). `depends_on` lists the other tables its queries
    read, so the orchestrator can run the gate after them.
    """

    name: str
    table: str
    description: str
    expectations: tuple[Expectation, ...]
    partition_column: str | None = PARTITION_COLUMN
    depends_on: tuple[str, ...] = field(default_factory=tuple)

    def cdw_meta(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "partition_column": self.partition_column,
            "depends_on": list(self.depends_on),
            "description": self.description,
        }


# --- what every raw table gets -------------------------------------------------------------


def _structure(source: Source) -> list[Expectation]:
    name = source.name
    return [
        warning(
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            "The delivery holds no loadable record (empty or all quarantined). A source "
            "may legitimately skip a day, and one never delivered is reported by dbt's "
            "source freshness, so this only warns: absence never holds anything.",
        ),
        critical(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["_file", "_line"]),
            "(_file, _line) locates each landed record: a repeat means a delivery was "
            "loaded twice (a re-run must replace its partition, not append), which would "
            "double-count everything downstream.",
        ),
        rows(
            CRITICAL,
            "Raw rows per file equal the rows raw.load_audit says were loaded",
            f"""
            WITH loaded AS (
                SELECT _partition, _file, count(*) AS n FROM {{batch}} GROUP BY ALL
            ), audited AS (
                SELECT _partition, _file, sum(raw_rows) AS n FROM raw.load_audit
                WHERE source = {_q(name)} AND {{range}} GROUP BY ALL
            )
            SELECT _partition, _file FROM loaded FULL OUTER JOIN audited USING (_partition, _file)
            WHERE coalesce(loaded.n, 0) <> coalesce(audited.n, 0)
            """,
            "The table must hold exactly what the loader accounted for: a mismatch is a "
            "partial or stale load, and line accounting (every record is a raw row, a "
            "quarantine row or a suppression) would no longer hold.",
        ),
        rows(
            WARNING,
            f"At most {QUARANTINE_SHARE_MAX:.0%} of the records delivered were quarantined",
            # Returns the quarantined records (their count is the observed value) when
            # they are more than the threshold share of the records delivered.
            f"""
            WITH quarantined AS (
                SELECT _file, _line FROM raw.quarantine WHERE source = {_q(name)} AND {{range}}
            ), audited AS (
                SELECT coalesce(sum(records_in), 0) AS records_in FROM raw.load_audit
                WHERE source = {_q(name)} AND {{range}}
            ), loaded AS (SELECT count(*) AS raw_rows FROM {{batch}})
            SELECT q._file, q._line FROM quarantined AS q CROSS JOIN audited AS a
            CROSS JOIN loaded AS l
            WHERE (SELECT count(*) FROM quarantined) > {QUARANTINE_SHARE_MAX} * a.records_in
            """,
            "A high quarantine share means a sender changed its format or a feed broke: the "
            "loaded rows may be a biased remainder. See raw.quarantine (reason, _file, "
            "_line) for what was refused.",
        ),
    ]


def _contract(source: Source) -> list[Expectation]:
    """Required fields, identifiers, timestamps and numbers, as docs/landing.md states them."""
    out: list[Expectation] = []
    for f in source.fields:
        if f.required:
            out.append(
                critical(
                    gxe.ExpectColumnValuesToNotBeNull(column=f.column),
                    f"`{f.key}` is required by the landing contract (staging keys, joins and "
                    "deduplication use it); the loader quarantines records without it, so a "
                    "NULL here means the contract was bypassed.",
                )
            )
        elif f.required_when:
            out.append(
                rows(
                    CRITICAL,
                    f"{f.column} is present when {f.required_when}",
                    f"SELECT _file, _line FROM {{batch}} "
                    f"WHERE ({f.required_when}) AND {_blank(f.column)}",
                    f"`{f.key}` is required when {f.required_when}: without it the message "
                    "cannot be routed to its model in staging.",
                    column=f.column,
                )
            )
    if source.identity_columns:
        any_present = " OR ".join(_present(c) for c in source.identity_columns)
        out.append(
            rows(
                CRITICAL,
                f"At least one of {', '.join(source.identity_columns)} is present",
                f"SELECT _file, _line FROM {{batch}} WHERE NOT ({any_present})",
                "A row nobody can be identified by cannot be stitched to a customer, nor "
                "reached by consent or an erasure request.",
            )
        )
    for f in source.fields:
        if not f.timestamp:
            continue
        if source.format is Format.ACCESS_LOG:
            parsed = f"try_strptime(trim({f.column}), {_q(ACCESS_LOG_TIME_FORMAT)})"
            shape = "a combined-log time (dd/Mon/yyyy:HH:MM:SS ±hhmm)"
        else:
            parsed = _ts(f.column)
            shape = "an ISO-8601 timestamp"
        out.append(
            rows(
                CRITICAL,
                f"{f.column} parses as {shape}",
                f"SELECT _file, _line FROM {{batch}} "
                f"WHERE {_present(f.column)} AND {parsed} IS NULL",
                f"Staging casts `{f.key}` to a UTC timestamp; an unparseable value would "
                "become NULL and silently drop the row from sessions, funnels and cohorts.",
                column=f.column,
            )
        )
    for f in source.fields:
        if f.number:
            out.append(
                rows(
                    CRITICAL,
                    f"{f.column} parses as a number",
                    f"SELECT _file, _line FROM {{batch}} "
                    f"WHERE {_present(f.column)} AND {_num(f.column)} IS NULL",
                    f"Staging casts `{f.key}` to a number; an unparseable value would become "
                    "NULL and be missing from every sum and average.",
                    column=f.column,
                )
            )
    for detail, _path in source.nested_numbers:
        column, key = detail.split(".", 1)
        values = f"coalesce(json_extract_string({column}, {_q(f'$[*].{key}')}), [])"
        out.append(
            rows(
                CRITICAL,
                f"Every {detail} parses as a number",
                f"SELECT _file, _line FROM {{batch}} WHERE len(list_filter({values}, "
                f"lambda v: v IS NOT NULL AND try_cast(trim(v) AS DOUBLE) IS NULL)) > 0",
                f"Line-item `{detail}` feeds revenue and product affinity; a non-number "
                "would be dropped from them.",
                column=column,
            )
        )
    return out


def raw_suite_name(source: str) -> str:
    return f"raw_{source}"


def raw_suite(source: Source) -> SuiteSpec:
    # JSON columns are compared as JSON; every check in these suites only reads VARCHAR
    # columns.
    assert all(f.kind in (Kind.TEXT, Kind.JSON) for f in source.fields)
    expectations = [*_structure(source), *_contract(source), *_EXTRAS[source.name]()]
    return SuiteSpec(
        name=raw_suite_name(source.name),
        table=source.table,
        description=f"raw.{source.name}: {source.description} Contract: docs/landing.md.",
        expectations=tuple(expectations),
        depends_on=("raw.load_audit", "raw.quarantine", *_DEPENDS_ON.get(source.name, ())),
    )


RAW_SUITES: tuple[SuiteSpec, ...] = tuple(raw_suite(s) for s in SOURCES)


def suite_specs() -> tuple[SuiteSpec, ...]:
    """Every suite the gate runs: one per raw source (rules on dbt models are dbt tests)."""
    return RAW_SUITES
