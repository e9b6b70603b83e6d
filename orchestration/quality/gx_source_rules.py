"""Per-source plausibility rules of the raw suites: `_<source>()`, `_EXTRAS`, `_DEPENDS_ON`.

What each source's data should look like beyond its landing contract (known enumerations,
plausible ranges and shares, cross-table references). `_<source>()` returns the
expectations its suite `raw_<source>` adds to the ones every raw table gets
(gx_suites.py: `_structure`, `_contract`); `_EXTRAS` maps each source to its function and
`_DEPENDS_ON` names the other tables a source's queries read (the gate runs after them).
Written in the vocabulary of gx_vocabulary.py (severities, `critical()` / `warning()` /
`rows()`, SQL helpers, reference values; the rules for SQL checks are in its docstring).
After a change here run `python -m orchestration.quality.gx_project sync`; see
docs/quality.md.
"""

from __future__ import annotations

from great_expectations.expectations.expectation import Expectation

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
    PRIVACY_REQUEST_KINDS,
    SEGMENT_TYPES,
    SOCIAL_KINDS,
    SOCIAL_PLATFORMS,
    SUBSCRIPTION_CHANGES,
    SURVEY_SCALES,
    TICKET_CHANNELS,
    TICKET_STATUSES,
    WARNING,
    _between,
    _country_keys,
    _currency,
    _in,
    _in_set,
    _not_before,
    _num,
    _present,
    _q,
    _unique_id,
    _unique_per_partition,
    rows,
)


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
