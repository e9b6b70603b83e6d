"""The vocabulary the raw suites are written in: severities, builders, SQL helpers, values.

Severities (`CRITICAL`, `WARNING`) and the builders that mark an expectation with one
(`critical()`, `warning()`, `rows()` for a check written as SQL); the small SQL helpers
(`_q`, `_in`, `_present`, `_blank`, `_ts`, `_num`); the common checks built from them
(`_in_set`, `_unique_id`, `_unique_per_partition`, `_between`, `_currency`, `_not_before`);
the reference values and thresholds, some read from the dbt seeds. The suites themselves
are in gx_suites.py (what every raw table gets) and gx_source_rules.py (per source).

Every expectation carries `meta = {"severity": "critical" | "warning", "why": "..."}` (and
GX's own `severity` field, kept equal). **Critical**: the data would make something
downstream wrong (a missing key, an unparseable timestamp, an event type staging cannot
route, a double load); a delivery that fails one is held back (invisible downstream) until
it is re-delivered or a steward releases it. **Warning**: the data
is implausible and a steward should look (unknown currency, rating outside 1..5, a
quarantine share above 5 %); the run goes on.

Rules for the SQL in `UnexpectedRowsExpectation`s:
* read the batch as `{batch}` (the run's partitions of the suite's table); other tables are
  filtered to the same partitions with `{range}` (expanded to `gx_duckdb.partition_filter`);
* select only locators (`_file`, `_line`, `_partition`), never a value of the row: the
  gate never reports sample values (privacy), and this keeps it so even if the result
  format is ever raised. The observed value is the number of rows returned, so a
  threshold check returns the offending rows (e.g. the quarantined records) when the
  threshold is exceeded, and nothing otherwise;
* use `try_cast` / `try_strptime`, never `CAST`: a failing cast error message would quote
  the offending value;
* a query that joins reads the batch through a CTE (`WITH b AS (SELECT * FROM {batch})`):
  GX aliases `{batch}` itself only when the query has no JOIN.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Literal

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from orchestration.quality.gx_duckdb import partition_filter
from orchestration.settings import PROJECT_ROOT, business_term

Severity = Literal["critical", "warning"]
CRITICAL: Severity = "critical"
WARNING: Severity = "warning"
PARTITION_COLUMN = "_partition"
SEEDS_DIR = PROJECT_ROOT / "seeds"

# Reference sets. The Segment message types are the spec; currencies, consent purposes,
# jurisdictions and countries come from the dbt seeds (a value the seeds do not know
# converts to NULL or gets no default downstream); the rest are what the marts handle.
SEGMENT_TYPES = ("page", "screen", "track", "identify", "alias", "group")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE")
HTTP_STATUSES = tuple(
    str(code)
    for code in (
        *(100, 101, 102, 103),
        *range(200, 209),
        226,
        *range(300, 309),
        *range(400, 419),
        *range(421, 427),
        *(428, 429, 431, 451),
        *range(500, 509),
        *(510, 511),
    )
)


def _seed(name: str, column: str) -> tuple[str, ...]:
    """Distinct values of a dbt seed column: the warnings know what the models know."""
    with (SEEDS_DIR / name).open(newline="", encoding="utf-8") as handle:
        return tuple(sorted({row[column] for row in csv.DictReader(handle) if row[column]}))


def country_key(value: str) -> str:
    """Python twin of the dbt macro `country_key` (macros: trim, no dots, lower, no accents)."""
    text = " ".join(value.replace(".", "").split()).lower()
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _country_keys() -> tuple[str, ...]:
    with (SEEDS_DIR / "country_codes.csv").open(newline="", encoding="utf-8") as handle:
        forms = {
            form
            for row in csv.DictReader(handle)
            for form in (row["iso2"], row["iso3"], row["country_name"], *row["aliases"].split("|"))
            if form
        }
    return tuple(sorted({country_key(f) for f in forms}))


CURRENCIES = _seed("currency_rates.csv", "currency")
ORDER_STATUSES = ("completed", "cancelled", "refunded")
SUBSCRIPTION_CHANGES = ("start", "upgrade", "downgrade", "cancel", "reactivate")
TICKET_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
TICKET_CHANNELS = ("email", "chat", "phone", "web_form", "social", "app")
SURVEY_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
LANGUAGES = ("en", "pt", "es", "it")
SOCIAL_PLATFORMS = (
    "twitter", "x", "facebook", "instagram", "linkedin", "tiktok", "youtube", "reddit",
    "pinterest", "threads", "bluesky", "mastodon",
)  # fmt: skip
SOCIAL_KINDS = ("like", "share", "comment", "mention", "follow")
CONSENT_STATUSES = ("granted", "denied", "withdrawn")
CONSENT_PURPOSES = _seed("consent_defaults.csv", "purpose")
JURISDICTIONS = _seed("consent_defaults.csv", "jurisdiction")
PRIVACY_REQUEST_KINDS = ("erasure", "access", "rectification", "restriction", "opt_out")

QUARANTINE_SHARE_MAX = 0.05
CRAWLER_SHARE_MAX = 0.5
DUPLICATE_MESSAGE_SHARE_MAX = 0.05
CRAWLER_PATTERN_SQL = (
    "regexp_matches(lower(coalesce(user_agent, '')), 'bot|crawl|spider|slurp|archiver|fetcher|"
    "scanner|externalhit|zgrab|headless|python-requests|curl/|wget/|go-http-client|libwww|"
    "scrapy|httpclient')"
)
LATE_EVENT_DAYS = int(business_term("late_arrival_days"))  # dbt_project.yml, one setting


# --- marking an expectation, and SQL -------------------------------------------------------


def _meta(severity: Severity, why: str, column: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"severity": severity, "why": why}
    if column:
        meta["column"] = column
    return meta


def _describe(expectation: Expectation) -> str:
    """A one-line statement of what is expected (Data Docs show it on result pages)."""
    kwargs = expectation.configuration.kwargs
    column = kwargs.get("column")
    kind = expectation.expectation_type
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} is never null"
    if kind == "expect_column_values_to_be_in_set":
        values = [str(v) for v in kwargs["value_set"]]
        shown = ", ".join(values) if len(values) <= 8 else f"{len(values)} known values"
        return f"{column} is one of: {shown}"
    if kind == "expect_column_values_to_be_unique":
        return f"{column} is unique"
    if kind == "expect_compound_columns_to_be_unique":
        return f"({', '.join(kwargs['column_list'])}) is unique"
    if kind == "expect_table_row_count_to_be_between":
        return f"The batch has at least {kwargs.get('min_value')} row(s)"
    raise ValueError(f"describe {kind} explicitly")


def _mark(
    expectation: Expectation, severity: Severity, why: str, column: str | None
) -> Expectation:
    text = expectation.description or _describe(expectation)
    expectation.description = f"[{severity}] {text}"  # shown on Data Docs result pages
    expectation.meta = _meta(severity, why, column)
    expectation.severity = severity  # GX's own field, kept equal to meta.severity
    expectation.notes = f"**{severity}**: {why}"  # shown on Data Docs suite pages
    return expectation


def critical(expectation: Expectation, why: str, column: str | None = None) -> Expectation:
    return _mark(expectation, CRITICAL, why, column)


def warning(expectation: Expectation, why: str, column: str | None = None) -> Expectation:
    return _mark(expectation, WARNING, why, column)


def rows(
    severity: Severity, description: str, sql: str, why: str, column: str | None = None
) -> Expectation:
    """An `UnexpectedRowsExpectation`: `sql` returns the offending rows (see module doc)."""
    query = " ".join(sql.replace("{range}", partition_filter(PARTITION_COLUMN)).split())
    # GX formats the query with str.format: `{batch}` is the only brace allowed (a regex
    # quantifier such as `[A-Z]{2}` would be taken for a placeholder).
    if "{batch}" not in query or re.search(r"[{}]", query.replace("{batch}", "")):
        raise ValueError(f"{description}: the query must use {{batch}} and no other braces")
    expectation = gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=query, description=description
    )
    mark = critical if severity == CRITICAL else warning
    return mark(expectation, why, column)


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(_q(v) for v in values) + ")"


def _present(column: str) -> str:
    return f"nullif(trim({column}), '') IS NOT NULL"


def _blank(column: str) -> str:
    return f"nullif(trim({column}), '') IS NULL"


def _ts(column: str) -> str:
    return f"try_cast(trim({column}) AS TIMESTAMPTZ)"


def _num(column: str) -> str:
    return f"try_cast(trim({column}) AS DOUBLE)"


# --- common checks -------------------------------------------------------------------------


def _in_set(severity: Severity, column: str, values: Iterable[str], why: str) -> Expectation:
    expectation = gxe.ExpectColumnValuesToBeInSet(column=column, value_set=list(values))
    return (critical if severity == CRITICAL else warning)(expectation, why)


def _unique_id(column: str, what: str) -> Expectation:
    return warning(
        gxe.ExpectColumnValuesToBeUnique(column=column),
        f"Each {what} has one id; a repeat within the run's partitions is a re-delivery "
        "(staging keeps one row per id, so this only warns).",
    )


def _unique_per_partition(severity: Severity, column: str, why: str) -> Expectation:
    expectation = gxe.ExpectCompoundColumnsToBeUnique(column_list=[PARTITION_COLUMN, column])
    return (critical if severity == CRITICAL else warning)(expectation, why)


def _between(
    column: str,
    low: float | None,
    high: float | None,
    why: str,
    severity: Severity = WARNING,
    where: str = "TRUE",
) -> Expectation:
    value = _num(column)
    bounds = []
    if low is not None:
        bounds.append(f"{value} < {low}")
    if high is not None:
        bounds.append(f"{value} > {high}")
    label = (
        f"{column} is between {low} and {high}"
        if low is not None and high is not None
        else f"{column} is at least {low}"
        if low is not None
        else f"{column} is at most {high}"
    )
    return rows(
        severity,
        label,
        f"SELECT _file, _line FROM {{batch}} WHERE ({where}) AND ({' OR '.join(bounds)})",
        why,
        column=column,
    )


def _currency(column: str = "currency") -> Expectation:
    return _in_set(
        WARNING,
        column,
        CURRENCIES,
        "Amounts are converted to the reporting currency with seeds/currency_rates.csv; a "
        "currency the seed does not list converts to NULL.",
    )


def _not_before(later: str, earlier: str, why: str) -> Expectation:
    return rows(
        WARNING,
        f"{later} is not before {earlier}",
        f"SELECT _file, _line FROM {{batch}} WHERE {_ts(later)} < {_ts(earlier)}",
        why,
        column=later,
    )
