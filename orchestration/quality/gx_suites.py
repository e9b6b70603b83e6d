"""The gate's expectation suites, as code (the JSON under expectations/ is generated from it).

One suite per raw source, `raw_<source>`: the rules every raw table gets (`_structure`, and
`_contract`, built from the landing contract in `orchestration/ingest/sources.py`) plus
per-source plausibility checks, validated per delivery as it loads
(orchestration/quality/delivery_gate.py). The suites are written in the vocabulary of
gx_vocabulary.py (severities, `critical()` / `warning()` / `rows()`, SQL helpers, reference
values; its docstring states what critical and warning mean and the rules for SQL checks).
Rules on dbt models are dbt tests, beside the models: each rule lives in one place. After a
change here run `python -m orchestration.quality.gx_project sync`; see docs/quality.md.

`CRITICAL`, `WARNING` and `PARTITION_COLUMN` are re-exported from gx_vocabulary.py: the gate
and the tests import them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from orchestration.ingest.parsing import ACCESS_LOG_TIME_FORMAT
from orchestration.ingest.sources import SOURCES, Format, Kind, Source
from orchestration.quality.gx_vocabulary import (
    CONSENT_PURPOSES,
    CONSENT_STATUSES,
    CRAWLER_PATTERN_SQL,
    CRAWLER_SHARE_MAX,
    CRITICAL,
    DUPLICATE_MESSAGE_SHARE_MAX,
    HTTP_METHODS,
    HTTP_STATUSES,
    JURISDICTIONS,
    LANGUAGES,
    LATE_EVENT_DAYS,
    ORDER_STATUSES,
    PARTITION_COLUMN,
    PRIVACY_REQUEST_KINDS,
    QUARANTINE_SHARE_MAX,
    SEGMENT_TYPES,
    SOCIAL_KINDS,
    SOCIAL_PLATFORMS,
    SUBSCRIPTION_CHANGES,
    SURVEY_SCALES,
    TICKET_CHANNELS,
    TICKET_STATUSES,
    WARNING,
    _between,
    _blank,
    _country_keys,
    _currency,
    _in,
    _in_set,
    _not_before,
    _num,
    _present,
    _q,
    _ts,
    _unique_id,
    _unique_per_partition,
    critical,
    rows,
    warning,
)


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


# --- per source ----------------------------------------------------------------------------


def _web_access() -> list[Expectation]:
    return [
        _in_set(
            WARNING,
            "status",
            HTTP_STATUSES,
            "Page views count 2xx/3xx responses; a status outside the registered HTTP codes "
            "points at a log format problem.",
        ),
        _in_set(
            WARNING,
            "http_method",
            HTTP_METHODS,
            "An unknown method usually means a mangled request line or a scanner.",
        ),
        rows(
            WARNING,
            f"Crawlers make at most {CRAWLER_SHARE_MAX:.0%} of the requests",
            f"""
            WITH b AS (SELECT _file, _line, {CRAWLER_PATTERN_SQL} AS crawler FROM {{batch}})
            SELECT _file, _line FROM b
            WHERE crawler AND (SELECT avg(crawler::INTEGER) FROM b) > {CRAWLER_SHARE_MAX}
            """,
            "Crawler traffic is excluded from sessions; a surge (a new bot, a scan) distorts "
            "traffic figures and channel attribution. Raw has no crawler flag yet (the "
            "crawlerdetect lookup raw.user_agents is built after this check), so this uses "
            "a coarse user-agent pattern that agrees with the lookup on the sample data.",
        ),
        rows(
            WARNING,
            "response_bytes is a byte count or '-'",
            "SELECT _file, _line FROM {batch} WHERE response_bytes IS NOT NULL "
            "AND response_bytes <> '-' AND NOT regexp_full_match(response_bytes, '[0-9]+')",
            "%b is a byte count; anything else means a shifted field.",
            column="response_bytes",
        ),
    ]


def _events() -> list[Expectation]:
    event_day = "CAST(timezone('UTC', try_cast(trim(timestamp) AS TIMESTAMPTZ)) AS DATE)"
    return [
        _in_set(
            CRITICAL,
            "type",
            SEGMENT_TYPES,
            "Staging routes each message by its Segment type (page, screen, track, "
            "identify, alias, group); any other type would be dropped from every model.",
        ),
        rows(
            WARNING,
            f"At most {DUPLICATE_MESSAGE_SHARE_MAX:.0%} of the messages are repeats",
            f"""
            WITH b AS (SELECT * FROM {{batch}}), repeats AS (
                SELECT _file, _line FROM (
                    SELECT _file, _line, row_number() OVER (
                        PARTITION BY message_id ORDER BY _file, _line) AS k
                    FROM b WHERE message_id IS NOT NULL
                ) WHERE k > 1
            )
            SELECT _file, _line FROM repeats
            WHERE (SELECT count(*) FROM repeats) > {DUPLICATE_MESSAGE_SHARE_MAX} *
                  (SELECT count(*) FROM b)
            """,
            "Collectors retry, so some messages arrive twice (staging deduplicates on "
            "message_id); a high share means a replayed batch or a collector loop.",
            column="message_id",
        ),
        rows(
            WARNING,
            "timestamp is not after the delivery date",
            f"SELECT _file, _line FROM {{batch}} WHERE {event_day} > _partition + 1",
            "An event cannot happen after it was delivered: a clock or time-zone error that "
            "would put activity in the future.",
            column="timestamp",
        ),
        rows(
            WARNING,
            f"timestamp is at most {LATE_EVENT_DAYS} days before the delivery date",
            f"SELECT _file, _line FROM {{batch}} WHERE {event_day} < _partition - "
            f"{LATE_EVENT_DAYS}",
            f"Incremental models reprocess the last {LATE_EVENT_DAYS} days; a later arrival "
            "is only picked up by a full rebuild.",
            column="timestamp",
        ),
        rows(
            WARNING,
            "Feature Used events name the feature",
            "SELECT _file, _line FROM {batch} WHERE type = 'track' AND event = 'Feature Used' "
            "AND nullif(trim(json_extract_string(properties, '$.feature')), '') IS NULL",
            "Feature usage marts group by properties.feature.",
            column="properties",
        ),
    ]


def _products() -> list[Expectation]:
    return [
        _unique_per_partition(
            CRITICAL,
            "product_id",
            "Each delivery is a full catalogue snapshot: a product twice in one snapshot "
            "would fan out every join to products (revenue counted twice).",
        ),
        _between("price", 0, None, "A negative list price is a data-entry error."),
        _currency(),
        _in_set(
            WARNING,
            "active",
            ("true", "false"),
            "Staging reads `active` as a boolean from 'true' / 'false'.",
        ),
    ]


def _crm_customers() -> list[Expectation]:
    return [
        _unique_per_partition(
            CRITICAL,
            "crm_id",
            "Each delivery is a full CRM snapshot with one record per crm_id (the same "
            "crm_id recurs across snapshots); a repeat within one snapshot would make the "
            "customer dimension ambiguous.",
        ),
        rows(
            WARNING,
            "email looks like an e-mail address",
            "SELECT _file, _line FROM {batch} WHERE "
            + _present("email")
            + r" AND NOT regexp_full_match(trim(email), '[^@\s]+@[^@\s]+\.[^@\s]+')",
            "E-mail is a stitching identifier; a malformed one cannot match anything.",
            column="email",
        ),
        rows(
            WARNING,
            "country is a country the seed knows (code, name or alias)",
            "SELECT _file, _line FROM {batch} WHERE "
            + _present("country")
            + " AND lower(strip_accents(regexp_replace(replace(trim(country), '.', ''), "
            + r"'\s+', ' ', 'g'))) NOT IN "
            + _in(_country_keys()),
            "Country sets the default jurisdiction (consent defaults) and geography; a "
            "country seeds/country_codes.csv does not know gets neither.",
            column="country",
        ),
        rows(
            WARNING,
            "birth_date is a date between 1900-01-01 and the delivery date",
            "SELECT _file, _line FROM {batch} WHERE "
            + _present("birth_date")
            + " AND coalesce(try_cast(trim(birth_date) AS DATE) "
            "NOT BETWEEN DATE '1900-01-01' AND _partition, TRUE)",
            "Age bands come from birth_date; impossible dates would skew them.",
            column="birth_date",
        ),
        _not_before(
            "updated_at", "created_at", "A record cannot be updated before it was created."
        ),
    ]


def _orders() -> list[Expectation]:
    return [
        _in_set(
            CRITICAL,
            "status",
            ORDER_STATUSES,
            "Revenue counts completed orders and subtracts refunds; an order in an unknown "
            "status would be counted wrongly in every revenue and RFM figure.",
        ),
        _currency(),
        _between(
            "total",
            0,
            None,
            "A negative order total is not an order (refunds are a status, not a negative total).",
        ),
        rows(
            WARNING,
            "items is a non-empty array",
            "SELECT _file, _line FROM {batch} WHERE coalesce(json_type(items) <> 'ARRAY' "
            "OR json_array_length(items) = 0, TRUE)",
            "Product affinity and the match % are built from line items.",
            column="items",
        ),
        rows(
            WARNING,
            "Every item has a positive quantity and a non-negative unit price",
            "SELECT _file, _line FROM {batch} WHERE "
            "len(list_filter(coalesce(json_extract_string(items, '$[*].quantity'), []), "
            "lambda v: try_cast(trim(v) AS DOUBLE) <= 0)) > 0 OR "
            "len(list_filter(coalesce(json_extract_string(items, '$[*].unit_price'), []), "
            "lambda v: try_cast(trim(v) AS DOUBLE) < 0)) > 0",
            "Zero or negative quantities and prices are data-entry errors.",
            column="items",
        ),
        _unique_per_partition(
            WARNING,
            "order_id",
            "An order appears once per delivery (a later status change comes in a later "
            "delivery); a repeat within one delivery is a duplicate export.",
        ),
    ]


def _subscriptions() -> list[Expectation]:
    return [
        _in_set(
            CRITICAL,
            "change",
            SUBSCRIPTION_CHANGES,
            "MRR movements, upgrades, downgrades and churn are derived from the change "
            "kind; an unknown kind would be left out of all of them.",
        ),
        _between("mrr", 0, None, "Monthly recurring revenue cannot be negative."),
        _currency(),
    ]


def _support_tickets() -> list[Expectation]:
    return [
        _between("csat", 1, 5, "CSAT is on a 1–5 scale; other values distort the averages."),
        _in_set(WARNING, "status", TICKET_STATUSES, "Resolution times use the status."),
        _in_set(WARNING, "channel", TICKET_CHANNELS, "Complaints are reported per channel."),
        _not_before(
            "first_response_at",
            "created_at",
            "A ticket cannot be answered before it was opened (time-zone error?).",
        ),
        _not_before(
            "resolved_at",
            "created_at",
            "A ticket cannot be resolved before it was opened (time-zone error?).",
        ),
    ]


def _surveys() -> list[Expectation]:
    out_of_scale = " OR ".join(
        f"(survey = {_q(kind)} AND {_num('score')} NOT BETWEEN {low} AND {high})"
        for kind, (low, high) in SURVEY_SCALES.items()
    )
    scales = ", ".join(f"{k} {lo}–{hi}" for k, (lo, hi) in SURVEY_SCALES.items())
    return [
        _in_set(
            CRITICAL,
            "survey",
            tuple(SURVEY_SCALES),
            "NPS, CSAT and CES are computed per survey kind; a response of an unknown kind "
            "would be scored on the wrong scale or dropped.",
        ),
        rows(
            WARNING,
            f"score is within its survey's scale ({scales})",
            f"SELECT _file, _line FROM {{batch}} WHERE {out_of_scale}",
            "An out-of-scale score would distort NPS / CSAT / CES.",
            column="score",
        ),
        _in_set(
            WARNING,
            "language",
            LANGUAGES,
            "Comments are analysed in English, Portuguese, Spanish and Italian.",
        ),
        _unique_id("response_id", "survey response"),
    ]


def _reviews() -> list[Expectation]:
    return [
        _between("rating", 1, 5, "Ratings are on a 1–5 scale; sentiment and averages assume it."),
        _in_set(
            WARNING,
            "language",
            LANGUAGES,
            "Review sentiment is scored in English, Portuguese, Spanish and Italian.",
        ),
        rows(
            WARNING,
            "product_id is in the product catalogue",
            """
            WITH b AS (SELECT * FROM {batch})
            SELECT b._file, b._line FROM b
            WHERE NOT EXISTS (SELECT 1 FROM raw.products AS p WHERE p.product_id = b.product_id)
            """,
            "A review of an unknown product cannot be attributed to a category or brand.",
            column="product_id",
        ),
        _unique_id("review_id", "review"),
    ]


def _social() -> list[Expectation]:
    return [
        _in_set(WARNING, "platform", SOCIAL_PLATFORMS, "Interactions are reported per platform."),
        _in_set(
            WARNING,
            "kind",
            SOCIAL_KINDS,
            "Shares and mentions feed the interaction marts by kind.",
        ),
        _unique_id("interaction_id", "social interaction"),
    ]


def _consent() -> list[Expectation]:
    return [
        _in_set(
            CRITICAL,
            "status",
            CONSENT_STATUSES,
            "Consent in force is decided from granted / denied / withdrawn; any other "
            "status could let data be used without consent.",
        ),
        _in_set(
            WARNING,
            "purpose",
            CONSENT_PURPOSES,
            "Purposes map to the consent-defaults seed; an unknown purpose governs nothing.",
        ),
        _in_set(
            WARNING,
            "jurisdiction",
            JURISDICTIONS,
            "Defaults differ by jurisdiction (opt-in under GDPR and LGPD, opt-out under "
            "CCPA); an unknown one falls back to 'other'.",
        ),
        _unique_id("consent_id", "consent ledger entry"),
    ]


def _privacy_requests() -> list[Expectation]:
    return [
        _in_set(
            CRITICAL,
            "kind",
            PRIVACY_REQUEST_KINDS,
            "Each request kind triggers its own process (erasure, export, …); a request of "
            "an unknown kind would silently not be honoured.",
        ),
        _in_set(
            WARNING,
            "jurisdiction",
            JURISDICTIONS,
            "Deadlines and obligations depend on the jurisdiction.",
        ),
        rows(
            WARNING,
            "rectification requests carry corrections",
            "SELECT _file, _line FROM {batch} WHERE kind = 'rectification' "
            "AND coalesce(json_type(corrections) <> 'OBJECT', TRUE)",
            "A rectification without corrected values cannot be applied.",
            column="corrections",
        ),
        _unique_id("request_id", "privacy request"),
    ]


_EXTRAS = {
    "web_access": _web_access,
    "events": _events,
    "products": _products,
    "crm_customers": _crm_customers,
    "orders": _orders,
    "subscriptions": _subscriptions,
    "support_tickets": _support_tickets,
    "surveys": _surveys,
    "reviews": _reviews,
    "social": _social,
    "consent": _consent,
    "privacy_requests": _privacy_requests,
}

_DEPENDS_ON = {
    "reviews": ("raw.products",),
}


def raw_suite_name(source: str) -> str:
    return f"raw_{source}"


def raw_suite(source: Source) -> SuiteSpec:
    # JSON columns are compared as JSON; every check above only reads VARCHAR columns.
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


# --- staging ---------------------------------------------------------------------------------
#
# The dbt staging models (schema `staging`, docs/staging.md: views, and tables for the three
# largest), validated after `dbt build`. Raw suites check what was delivered; these check
# what staging made of it: keys unique after deduplication, casts that worked, enumerations
# the marts route on, and conversions that produced a value. Each suite validates the
# **whole model** (partition_column=None): uniqueness after deduplication is a property of
# the whole model (a key delivered on two days is only a duplicate when both are in the
# batch), and a view is computed over every raw partition anyway (its deduplication windows
# span them), so filtering to the run's partitions would save little. Locators in row
# queries: `_file`, `_line` of the raw row each staging row was kept from.


def suite_specs() -> tuple[SuiteSpec, ...]:
    return RAW_SUITES
