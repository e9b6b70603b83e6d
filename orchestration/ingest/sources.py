"""The landing contract of every source, as data: the one source of truth.

Each field names its raw column, where it comes from in the delivered record, the checks
the loader applies, its description and whether it holds personal data. Generated from
this module: the SQL that parses and validates a source (parsing.py), the raw GX suites
(orchestration/quality/gx_suites.py), the dbt sources YAML
(`dbt_project/models/staging/<source>/_<source>__sources.yml`) and the per-source tables
of docs/landing.md (`python -m orchestration.ingest.contract_docs --write`). So a
contract change is a one-line change here, then a regeneration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Format(StrEnum):
    ACCESS_LOG = "access_log"
    JSON_LINES = "json_lines"
    CSV = "csv"

    @property
    def label(self) -> str:
        """How the delivered files look, in a phrase."""
        return {
            Format.ACCESS_LOG: "Apache / Nginx combined log lines",
            Format.JSON_LINES: "JSON lines",
            Format.CSV: "CSV with header",
        }[self]

    @property
    def origin(self) -> str | None:
        """What a field's `key` names in a delivered record (None: a log position)."""
        return {
            Format.ACCESS_LOG: None,
            Format.JSON_LINES: "JSON field",
            Format.CSV: "CSV column",
        }[self]


class Kind(StrEnum):
    TEXT = "text"  # stored as VARCHAR exactly as delivered
    JSON = "json"  # nested object / array, stored as JSON


CUSTOMER_REFERENCE = ("crm_id", "user_id", "email")

# The lower bound of a timestamp's plausible range (`Field.not_before`): the setting
# CDW_FIRST_DELIVERY_DATE (Settings.first_delivery_date), or a fixed ISO date for fields that
# carry history older than the first delivery (a CRM record created years earlier).
FIRST_DELIVERY = "first_delivery"
HISTORY_FLOOR = "1970-01-01"
# The upper bound: the delivery date plus this many days (a record cannot describe
# something that happens after it was delivered; a day of slack for time zones).
FUTURE_SLACK_DAYS = 1

# JSON types (DuckDB's json_type names) a JSON-lines field may arrive as without a
# `type_change` warning: numbers as JSON numbers, text as JSON strings, nested values as
# objects (or arrays, per field). JSON null is "absent", never a type change.
JSON_NUMBER_TYPES = ("UBIGINT", "BIGINT", "DOUBLE")
JSON_TEXT_TYPES = ("VARCHAR",)
SUBJECT_IDENTIFIERS = ("anonymous_id", "user_id", "email", "phone", "crm_id")


@dataclass(frozen=True)
class Field:
    column: str
    source_name: str | None = None  # JSON key / CSV header when it differs from `column`
    kind: Kind = Kind.TEXT
    required: bool = False
    timestamp: bool = False
    number: bool = False
    required_when: str | None = None  # SQL condition over raw columns, e.g. "type = 'track'"
    description: str = ""
    # Timestamps only: the plausible range's lower bound (FIRST_DELIVERY or an ISO date); a
    # value before it or more than FUTURE_SLACK_DAYS after the delivery date is quarantined
    # as `implausible_timestamp`. None: no range (a device clock, which may be anything).
    not_before: str | None = FIRST_DELIVERY
    # JSON-kind fields: the JSON types the field arrives as (default: an object).
    json_types: tuple[str, ...] = ("OBJECT",)
    # Access log only: where in the line the value comes from (`%h`, `Referer`, …).
    log_field: str | None = None
    # Personal data: the kind (identifier, email, phone, name, ip, free_text, …; the dbt
    # sources' `meta.pii_kind`), every kind a nested value may hold when there are several
    # (`meta.pii_kinds`), and why a column that is not plainly an identifier counts.
    pii: str | None = None
    pii_kinds: tuple[str, ...] = ()
    pii_note: str = ""

    @property
    def key(self) -> str:
        return self.source_name or self.column

    @property
    def plausible_range(self) -> bool:
        return self.timestamp and self.not_before is not None

    def expected_json_types(self) -> tuple[str, ...]:
        """The JSON types this field may arrive as in a JSON-lines record (else a
        `type_change` warning)."""
        if self.kind is Kind.JSON:
            return self.json_types
        return JSON_NUMBER_TYPES if self.number else JSON_TEXT_TYPES


@dataclass(frozen=True)
class Freshness:
    """dbt source freshness, judged on the delivery date (`LOADED_AT_FIELD`)."""

    warn_after_days: int
    error_after_days: int


@dataclass(frozen=True)
class Column:
    """A raw column the loader writes beside the contract fields (or of a derived table)."""

    name: str
    ddl: str  # type and constraints in the CREATE TABLE
    description: str


# Load metadata: every raw source table has these after its contract columns.
LOAD_METADATA: tuple[Column, ...] = (
    Column(
        "_extra",
        "JSON",
        "Unknown extra columns / top-level JSON fields of the record, kept as delivered "
        "(JSON object); NULL when none.",
    ),
    Column(
        "_file",
        "VARCHAR NOT NULL",
        "Landing file the record came from, relative to the landing root "
        "(e.g. `events/2026-11-01/web.jsonl.gz`).",
    ),
    Column(
        "_line",
        "BIGINT NOT NULL",
        "1-based physical line of the record in `_file` (for CSV: the line on which the "
        "record starts; the header is line 1).",
    ),
    Column(
        "_partition",
        "DATE NOT NULL",
        "Delivery date: the landing folder date, the Dagster partition key. "
        "Freshness is judged on it.",
    ),
    Column(
        "_loaded_at",
        "TIMESTAMPTZ NOT NULL",
        "When the run that loaded the row started (UTC).",
    ),
)

# The dbt source all raw tables belong to (`source('raw', '<table>')`), and its defaults.
RAW_SOURCE_NAME = "raw"
RAW_SCHEMA = "raw"
# What dbt reads: the views `visible.<table>` = raw.<table> less the rows of deliveries the
# Great Expectations gate holds back (orchestration/state/schema.py creates them).
VISIBLE_SCHEMA = "visible"
RAW_SOURCE_DESCRIPTION = (
    "Raw landing data loaded by Dagster (one table per source, typed in staging), as dbt "
    "sees it: the accepted and released deliveries only (views `visible.<table>` over "
    "`raw.<table>`; held deliveries are in state.delivery_status)."
)
LOADED_AT_FIELD = "cast(_partition as timestamp)"
DAILY_FRESHNESS = Freshness(warn_after_days=2, error_after_days=4)


@dataclass(frozen=True)
class DerivedTable:
    """A raw table the ingest assets derive from sources (not landed): documented in the
    dbt sources YAML of the source it belongs to."""

    name: str
    description: str
    columns: tuple[Column, ...]
    freshness: Freshness | None = None  # None: not partitioned, no freshness check

    @property
    def table(self) -> str:
        return f"{RAW_SCHEMA}.{self.name}"

    def ddl(self) -> str:
        columns = ",\n".join(f"    {c.name} {c.ddl}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.table} (\n{columns}\n)"


@dataclass(frozen=True)
class Source:
    name: str
    format: Format
    fields: tuple[Field, ...]
    description: str
    # Which identifiers must not all be empty, and the reason used when they are.
    identity_columns: tuple[str, ...] = ()
    identity_reason: str | None = None
    # Numeric checks inside nested arrays: (detail, JSON path returning a list).
    nested_numbers: tuple[tuple[str, str], ...] = ()
    extra_notes: tuple[str, ...] = field(default_factory=tuple)
    # dbt source freshness of the raw table, and why it differs from the daily default.
    freshness: Freshness = DAILY_FRESHNESS
    freshness_note: str = ""
    # Raw tables derived from this source, documented beside it (raw.user_agents).
    derived_tables: tuple[DerivedTable, ...] = ()

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    def column_names(self) -> list[str]:
        return [f.column for f in self.fields]


def _customer_reference() -> tuple[Field, ...]:
    return (
        Field("crm_id", description="CRM customer id (customer reference).", pii="identifier"),
        Field("user_id", description="Application user id (customer reference).", pii="identifier"),
        Field("email", description="E-mail address as written (customer reference).", pii="email"),
    )


def _subject_identifiers() -> tuple[Field, ...]:
    return (
        Field(
            "anonymous_id",
            description="Cookie / anonymous id (subject identifier).",
            pii="identifier",
        ),
        Field("user_id", description="Application user id (subject identifier).", pii="identifier"),
        Field("email", description="E-mail address as written (subject identifier).", pii="email"),
        Field("phone", description="Phone number as written (subject identifier).", pii="phone"),
        Field("crm_id", description="CRM customer id (subject identifier).", pii="identifier"),
    )


USER_AGENTS = DerivedTable(
    name="user_agents",
    description="Each distinct user agent seen in web_access.user_agent or "
    "events.context.userAgent, parsed once by the ingest asset raw/user_agents with ua-parser "
    "(uap-core regexes: browser, OS, device; device family 'Spider' = bot) and crawlerdetect "
    "(CrawlerDetect list: also scripts, feed fetchers, monitors). One row per user agent; "
    "not partitioned (no delivery date), so no freshness check.",
    columns=(
        Column(
            "user_agent",
            "VARCHAR PRIMARY KEY",
            "The User-Agent string exactly as delivered (primary key).",
        ),
        Column(
            "is_crawler",
            "BOOLEAN NOT NULL",
            "True when ua-parser says device family 'Spider' or crawlerdetect lists it.",
        ),
        Column(
            "crawler_name",
            "VARCHAR",
            "Name of the matched crawler pattern (crawlerdetect) or the ua-parser family of a "
            "Spider; NULL for non-crawlers.",
        ),
        Column(
            "browser_family",
            "VARCHAR",
            "Browser (user-agent) family by ua-parser, e.g. 'Chrome', 'Mobile Safari', "
            "'Googlebot'.",
        ),
        Column("browser_major", "VARCHAR", "Browser major version by ua-parser (text)."),
        Column(
            "os_family",
            "VARCHAR",
            "Operating-system family by ua-parser, e.g. 'Windows', 'iOS', 'Android'.",
        ),
        Column("os_major", "VARCHAR", "Operating-system major version by ua-parser (text)."),
        Column(
            "device_family",
            "VARCHAR",
            "Device family by ua-parser, e.g. 'iPhone', 'Pixel 7', 'Other', 'Spider'.",
        ),
        Column("device_brand", "VARCHAR", "Device brand by ua-parser, e.g. 'Apple', 'Google'."),
        Column("device_model", "VARCHAR", "Device model by ua-parser."),
        Column(
            "parsed_by",
            "VARCHAR NOT NULL",
            "Library versions that produced the row, e.g. 'ua-parser 1.0.2, crawlerdetect 0.4.2'.",
        ),
    ),
)

_NOT_A_REQUEST_LINE = " (empty when `%r` is not `METHOD PATH PROTO`)."

WEB_ACCESS = Source(
    name="web_access",
    format=Format.ACCESS_LOG,
    description="Apache / Nginx combined access log, one request a line.",
    fields=(
        Field(
            "remote_host", required=True, log_field="%h", description="Client IP (%h).", pii="ip"
        ),
        Field("ident", log_field="%l", description="RFC 1413 identity (%l), usually '-'."),
        Field(
            "remote_user",
            log_field="%u",
            description="Authenticated user (%u), usually '-'.",
            pii="identifier",
        ),
        Field(
            "request_time",
            required=True,
            timestamp=True,
            log_field="%t",
            description="Request time as written (%t), e.g. '17/May/2015:10:05:03 +0000'.",
        ),
        Field("request", log_field="%r", description="Request line as written (%r)."),
        Field(
            "http_method",
            log_field="parsed from %r",
            description="Method parsed from the request line" + _NOT_A_REQUEST_LINE,
        ),
        Field(
            "path",
            log_field="parsed from %r",
            description="Path (with query) parsed from the request line" + _NOT_A_REQUEST_LINE,
        ),
        Field(
            "http_version",
            log_field="parsed from %r",
            description="Protocol parsed from the request line" + _NOT_A_REQUEST_LINE,
        ),
        Field(
            "status",
            required=True,
            log_field="%>s",
            description="Final HTTP status (%>s), 3 digits.",
        ),
        Field("response_bytes", log_field="%b", description="Response size (%b); '-' means none."),
        Field("referrer", log_field="Referer", description="Referer header; '-' means none."),
        Field("user_agent", log_field="User-agent", description="User-Agent header."),
        Field(
            "extra_fields",
            kind=Kind.JSON,
            json_types=("ARRAY",),
            log_field="trailing quoted fields",
            description="Trailing quoted fields after the user agent, in order (JSON array, an "
            "empty array when none); the first is the first-party cookie id in the sample data.",
            pii="identifier",
            pii_note="the first is a cookie id.",
        ),
    ),
    derived_tables=(USER_AGENTS,),
)

EVENTS = Source(
    name="events",
    format=Format.JSON_LINES,
    description="Segment Spec messages (page, screen, track, identify, alias, group).",
    identity_columns=("anonymous_id", "user_id"),
    identity_reason="missing_subject_identifier",
    fields=(
        Field("message_id", "messageId", required=True, description="Unique message id."),
        Field("type", required=True, description="page, screen, track, identify, alias, group."),
        Field(
            "anonymous_id",
            "anonymousId",
            description="Anonymous (cookie / device) id.",
            pii="identifier",
        ),
        Field("user_id", "userId", description="Known user id.", pii="identifier"),
        Field(
            "event",
            required_when="type = 'track'",
            description="Track event name (Segment semantic events, Feature Used, …).",
        ),
        Field("name", description="Page or screen name."),
        Field(
            "previous_id",
            "previousId",
            description="Previous id of an alias call.",
            pii="identifier",
        ),
        Field("group_id", "groupId", description="Group (account) id of a group call."),
        Field(
            "timestamp",
            required=True,
            timestamp=True,
            description="When the event happened, corrected for device clock skew (ISO-8601).",
        ),
        Field(
            "original_timestamp",
            "originalTimestamp",
            timestamp=True,
            not_before=None,
            description="Device clock time of the event, with the device's UTC offset.",
        ),
        Field(
            "sent_at",
            "sentAt",
            timestamp=True,
            not_before=None,
            description="Device clock time of sending.",
        ),
        Field("received_at", "receivedAt", timestamp=True, description="Collector receipt time."),
        Field("properties", kind=Kind.JSON, description="Event / page properties."),
        Field(
            "traits",
            kind=Kind.JSON,
            description="Identify / group traits.",
            pii="identifier",
            pii_kinds=("email", "phone", "name", "identifier"),
            pii_note="identify traits hold e-mail, phone and name.",
        ),
        Field(
            "context",
            kind=Kind.JSON,
            description="ip, userAgent, page, campaign, device, …",
            pii="ip",
            pii_kinds=("ip", "identifier"),
            pii_note="holds the client IP and the device id.",
        ),
        Field("integrations", kind=Kind.JSON, description="Destination switches."),
    ),
)

PRODUCTS = Source(
    name="products",
    format=Format.CSV,
    description="Full product catalogue snapshot per delivery.",
    fields=(
        Field("product_id", required=True, description="Product id."),
        Field("name", description="Product name."),
        Field("category", description="Category."),
        Field("brand", description="Brand."),
        Field("price", number=True, description="List price in `currency`."),
        Field("currency", description="ISO-4217 currency code."),
        Field("active", description="Whether the product is sold (true / false)."),
    ),
)

CRM_CUSTOMERS = Source(
    name="crm_customers",
    format=Format.CSV,
    description="Full CRM customer snapshot per delivery.",
    freshness=Freshness(warn_after_days=8, error_after_days=15),
    freshness_note="The CRM delivers a full snapshot weekly (the sample data: day 1, every 7th "
    "day and the last day), so the daily 2 / 4-day rule would fail mid-week.",
    fields=(
        Field("crm_id", required=True, description="CRM customer id.", pii="identifier"),
        Field("email", description="E-mail as typed into the CRM.", pii="email"),
        Field("phone", description="Phone as typed into the CRM.", pii="phone"),
        Field("first_name", description="First name.", pii="name"),
        Field("last_name", description="Last name.", pii="name"),
        Field("birth_date", description="Birth date.", pii="birth_date"),
        Field("gender", description="Gender as recorded.", pii="demographic"),
        Field("country", description="Country."),
        Field("city", description="City.", pii="address"),
        Field("job_title", description="Job title."),
        Field("company", description="Company."),
        Field(
            "created_at",
            timestamp=True,
            not_before=HISTORY_FLOOR,
            description="When the CRM record was created.",
        ),
        Field(
            "updated_at",
            timestamp=True,
            not_before=HISTORY_FLOOR,
            description="When it was last updated.",
        ),
    ),
)

ORDERS = Source(
    name="orders",
    format=Format.JSON_LINES,
    description="Orders, one a line.",
    identity_columns=CUSTOMER_REFERENCE,
    identity_reason="missing_customer_reference",
    nested_numbers=(
        ("items.quantity", "$.items[*].quantity"),
        ("items.unit_price", "$.items[*].unit_price"),
    ),
    fields=(
        Field("order_id", required=True, description="Order id."),
        *_customer_reference(),
        Field("ordered_at", required=True, timestamp=True, description="When it was placed."),
        Field("status", required=True, description="completed / cancelled / refunded."),
        Field("currency", required=True, description="ISO-4217 currency of the amounts."),
        Field("total", required=True, number=True, description="Order total in `currency`."),
        Field(
            "items",
            kind=Kind.JSON,
            required=True,
            json_types=("ARRAY",),
            description="Array of {product_id, quantity, unit_price}.",
        ),
    ),
)

SUBSCRIPTIONS = Source(
    name="subscriptions",
    format=Format.JSON_LINES,
    description="Subscription plan changes, one a line.",
    identity_columns=CUSTOMER_REFERENCE,
    identity_reason="missing_customer_reference",
    fields=(
        Field("subscription_id", required=True, description="Subscription id."),
        *_customer_reference(),
        Field("plan", required=True, description="Plan after the change."),
        Field(
            "change",
            required=True,
            description="start / upgrade / downgrade / cancel / reactivate.",
        ),
        Field(
            "changed_at",
            required=True,
            timestamp=True,
            not_before=HISTORY_FLOOR,
            description="When it changed.",
        ),
        Field("mrr", number=True, description="Monthly recurring revenue after the change."),
        Field("currency", description="ISO-4217 currency of `mrr`."),
    ),
)

SUPPORT_TICKETS = Source(
    name="support_tickets",
    format=Format.CSV,
    description="Support tickets; quoted fields may hold newlines.",
    identity_columns=CUSTOMER_REFERENCE,
    identity_reason="missing_customer_reference",
    fields=(
        Field("ticket_id", required=True, description="Ticket id."),
        *_customer_reference(),
        Field("channel", description="email / chat / phone / web …"),
        Field("category", description="Ticket category."),
        Field("subject", description="Subject line (free text).", pii="free_text"),
        Field("body", description="First message (free text, may span lines).", pii="free_text"),
        Field("status", description="open / pending / solved / closed …"),
        Field("created_at", required=True, timestamp=True, description="When it was opened."),
        Field("first_response_at", timestamp=True, description="First agent response."),
        Field("resolved_at", timestamp=True, description="When it was resolved."),
        Field("csat", number=True, description="Satisfaction score 1–5 (optional)."),
    ),
)

SURVEYS = Source(
    name="surveys",
    format=Format.CSV,
    description="Survey responses (NPS, CSAT, CES); quoted fields may hold newlines.",
    identity_columns=CUSTOMER_REFERENCE,
    identity_reason="missing_customer_reference",
    fields=(
        Field("response_id", required=True, description="Response id."),
        *_customer_reference(),
        Field("survey", required=True, description="nps / csat / ces."),
        Field("score", required=True, number=True, description="Score on the survey's scale."),
        Field("comment", description="Free-text comment (may span lines).", pii="free_text"),
        Field("language", description="Language of the comment (en, pt, es, it)."),
        Field("submitted_at", required=True, timestamp=True, description="When submitted."),
    ),
)

REVIEWS = Source(
    name="reviews",
    format=Format.JSON_LINES,
    description="Product reviews.",
    identity_columns=CUSTOMER_REFERENCE,
    identity_reason="missing_customer_reference",
    fields=(
        Field("review_id", required=True, description="Review id."),
        *_customer_reference(),
        Field("product_id", required=True, description="Reviewed product."),
        Field("rating", required=True, number=True, description="Rating 1–5."),
        Field("title", description="Review title.", pii="free_text"),
        Field("text", description="Review text (en, pt, es, it).", pii="free_text"),
        Field("language", description="Language of the text."),
        Field("created_at", required=True, timestamp=True, description="When written."),
    ),
)

SOCIAL = Source(
    name="social",
    format=Format.JSON_LINES,
    description="Social-media interactions with the brand.",
    fields=(
        Field("interaction_id", required=True, description="Interaction id."),
        Field("platform", required=True, description="Social platform."),
        Field("handle", description="The person's handle on the platform.", pii="handle"),
        Field("kind", required=True, description="like / share / comment / mention / follow."),
        Field("text", description="Text of a comment or mention.", pii="free_text"),
        Field(
            "url",
            description="Link to the interaction.",
            pii="handle",
            pii_note="the link contains the handle.",
        ),
        Field("created_at", required=True, timestamp=True, description="When it happened."),
        *_customer_reference(),
    ),
)

CONSENT = Source(
    name="consent",
    format=Format.JSON_LINES,
    description="Append-only consent ledger.",
    identity_columns=SUBJECT_IDENTIFIERS,
    identity_reason="missing_subject_identifier",
    fields=(
        Field("consent_id", required=True, description="Ledger entry id."),
        *_subject_identifiers(),
        Field("purpose", required=True, description="analytics / personalization / …"),
        Field("status", required=True, description="granted / denied / withdrawn."),
        Field("jurisdiction", description="GDPR / LGPD / CCPA / other."),
        Field("policy_version", description="Version of the privacy policy agreed to."),
        Field("source", description="Where the choice was made (banner, app, …)."),
        Field("recorded_at", required=True, timestamp=True, description="When recorded."),
    ),
)

PRIVACY_REQUESTS = Source(
    name="privacy_requests",
    format=Format.JSON_LINES,
    description="Data-subject requests.",
    identity_columns=SUBJECT_IDENTIFIERS,
    identity_reason="missing_subject_identifier",
    fields=(
        Field("request_id", required=True, description="Request id."),
        *_subject_identifiers(),
        Field(
            "kind",
            required=True,
            description="erasure / access / rectification / restriction / opt_out.",
        ),
        Field("jurisdiction", description="GDPR / LGPD / CCPA / other."),
        Field("received_at", required=True, timestamp=True, description="When received."),
        Field(
            "corrections",
            kind=Kind.JSON,
            description="Corrected values for a rectification (JSON object).",
            pii="identifier",
            pii_kinds=("email", "phone", "name", "address"),
            pii_note="corrected personal values.",
        ),
    ),
)

SOURCES: tuple[Source, ...] = (
    WEB_ACCESS,
    EVENTS,
    PRODUCTS,
    CRM_CUSTOMERS,
    ORDERS,
    SUBSCRIPTIONS,
    SUPPORT_TICKETS,
    SURVEYS,
    REVIEWS,
    SOCIAL,
    CONSENT,
    PRIVACY_REQUESTS,
)

SOURCES_BY_NAME: dict[str, Source] = {s.name: s for s in SOURCES}

# Quarantine reasons, in the order they are tested (docs/landing.md).
QUARANTINE_REASONS: tuple[str, ...] = (
    "invalid_encoding",
    "nul_character",
    "log_truncated",
    "log_unparseable",
    "csv_unterminated_quote",
    "csv_bad_quoting",
    "csv_field_count",
    "json_array",
    "invalid_json",
    "not_json_object",
    "missing_required_field",
    "missing_customer_reference",
    "missing_subject_identifier",
    "invalid_timestamp",
    "implausible_timestamp",
    "invalid_number",
)


@dataclass(frozen=True)
class LoadWarning:
    """A kind of warning the loader computes on the records it loads (`raw.load_warnings`):
    the record loads as delivered, and the gate reports the warning on its delivery
    (`[warning] <kind>: …` in the verdict). A warning never holds a delivery."""

    kind: str
    applies_to: str
    meaning: str


# The loader's warnings, in the order docs/landing.md lists them.
LOAD_WARNINGS: tuple[LoadWarning, ...] = (
    LoadWarning(
        "missing_column",
        "CSV sources",
        "a contract column is not in the file's header (a renamed or dropped column): its "
        "value is NULL for every record of the file. (A required column missing quarantines "
        "the records instead.)",
    ),
    LoadWarning(
        "type_change",
        "JSON-lines sources",
        "a field arrived as another JSON type than the contract's (a number as a string, "
        "a string as a number, an object as a string, …; `detail` names the type found). "
        "The value is stored as text as delivered; one that cannot be read as its field's "
        "type is quarantined instead (`invalid_number`, `invalid_timestamp`).",
    ),
    LoadWarning(
        "naive_timestamp",
        "JSON-lines and CSV sources",
        "a timestamp without a UTC offset (e.g. `2026-11-30 10:00`): loaded and read as "
        "UTC by staging, which may be wrong by the sender's offset.",
    ),
    LoadWarning(
        "spreadsheet_formula",
        "CSV sources",
        "a text value that a spreadsheet would run as a formula (starts with `=`, or "
        "`+ - @` and a function call, e.g. `=HYPERLINK(...)`): kept as text, never "
        "evaluated; flagged because an export of it to a spreadsheet would run it.",
    ),
)

LOAD_WARNING_KINDS: tuple[str, ...] = tuple(w.kind for w in LOAD_WARNINGS)


@dataclass(frozen=True)
class DriftRule:
    """What happens when a delivery differs from the contract (docs/landing.md,
    "Schema drift")."""

    change: str
    outcome: str
    severity: str  # kept | quarantined | warning | gate


DRIFT_POLICY: tuple[DriftRule, ...] = (
    DriftRule(
        "an unknown column (CSV) or top-level field (JSON)",
        "loaded; the value is kept in `_extra` (a JSON object)",
        "kept",
    ),
    DriftRule(
        "a required field missing, null or blank (a CSV file without the column included)",
        "the record is quarantined: `missing_required_field`, `detail` names the field",
        "quarantined",
    ),
    DriftRule(
        "an optional CSV column missing from the header (or renamed: the new name lands "
        "in `_extra`)",
        "loaded with the column NULL; warning `missing_column` on the delivery",
        "warning",
    ),
    DriftRule(
        "an optional JSON field absent",
        "loaded with the column NULL, no warning: JSON senders omit empty optional fields "
        "(Segment does)",
        "kept",
    ),
    DriftRule(
        'a field of another JSON type that still reads as its field\'s type (`"12.5"` '
        "for a number, `42` for an id, a string for an object)",
        "loaded as delivered; warning `type_change` on the delivery",
        "warning",
    ),
    DriftRule(
        "a value that cannot be read as its field's type",
        "the record is quarantined: `invalid_timestamp` / `invalid_number`",
        "quarantined",
    ),
    DriftRule(
        "a new value of an enumerated field (a status, a kind, a language, …)",
        "loaded; the gate reports it (`[warning] <column> in set`). The six values staging "
        "routes on (events `type`, orders `status`, subscriptions `change`, surveys "
        "`survey`, consent `status`, privacy_requests `kind`) are critical instead: a "
        "record staging cannot route would be dropped downstream, so the delivery is held "
        "(docs/quality.md)",
        "gate",
    ),
    DriftRule(
        "a timestamp without a UTC offset (`2026-11-30 10:00`)",
        "loaded, read as UTC by staging; warning `naive_timestamp` on the delivery",
        "warning",
    ),
    DriftRule(
        "a timestamp outside its plausible range (before its lower bound, or more than "
        f"{FUTURE_SLACK_DAYS} day after the delivery date; e.g. year 1, 1900 or 9999)",
        "the record is quarantined: `implausible_timestamp`, `detail` names the field",
        "quarantined",
    ),
)
