"""The landing contract of every source, as data (docs/landing.md is its prose twin).

Each field names its raw column, where it comes from in the delivered record, and the
checks the loader applies. The SQL that parses and validates a source is generated from
this table, so a contract change is a one-line change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Format(StrEnum):
    ACCESS_LOG = "access_log"
    JSON_LINES = "json_lines"
    CSV = "csv"


class Kind(StrEnum):
    TEXT = "text"  # stored as VARCHAR exactly as delivered
    JSON = "json"  # nested object / array, stored as JSON


CUSTOMER_REFERENCE = ("crm_id", "user_id", "email")
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

    @property
    def key(self) -> str:
        return self.source_name or self.column


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

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    def column_names(self) -> list[str]:
        return [f.column for f in self.fields]


def _customer_reference() -> tuple[Field, ...]:
    return (
        Field("crm_id", description="CRM customer id (customer reference)."),
        Field("user_id", description="Application user id (customer reference)."),
        Field("email", description="E-mail address as written (customer reference)."),
    )


def _subject_identifiers() -> tuple[Field, ...]:
    return (
        Field("anonymous_id", description="Cookie / anonymous id (subject identifier)."),
        Field("user_id", description="Application user id (subject identifier)."),
        Field("email", description="E-mail address as written (subject identifier)."),
        Field("phone", description="Phone number as written (subject identifier)."),
        Field("crm_id", description="CRM customer id (subject identifier)."),
    )


WEB_ACCESS = Source(
    name="web_access",
    format=Format.ACCESS_LOG,
    description="Apache / Nginx combined access log, one request a line.",
    fields=(
        Field("remote_host", required=True, description="Client IP (%h)."),
        Field("ident", description="RFC 1413 identity (%l), usually '-'."),
        Field("remote_user", description="Authenticated user (%u), usually '-'."),
        Field(
            "request_time",
            required=True,
            timestamp=True,
            description="Request time as written (%t), e.g. '17/May/2015:10:05:03 +0000'.",
        ),
        Field("request", description="Request line as written (%r)."),
        Field("http_method", description="Method parsed from the request line."),
        Field("path", description="Path (with query) parsed from the request line."),
        Field("http_version", description="Protocol parsed from the request line."),
        Field("status", required=True, description="Final HTTP status (%>s)."),
        Field("response_bytes", description="Response size (%b); '-' means none."),
        Field("referrer", description="Referer header; '-' means none."),
        Field("user_agent", description="User-Agent header."),
        Field(
            "extra_fields",
            kind=Kind.JSON,
            description="Trailing quoted fields after the user agent, in order (JSON array); "
            "the first is the first-party cookie id in the sample data.",
        ),
    ),
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
        Field("anonymous_id", "anonymousId", description="Anonymous (cookie / device) id."),
        Field("user_id", "userId", description="Known user id."),
        Field(
            "event",
            required_when="type = 'track'",
            description="Track event name (Segment semantic events, Feature Used, …).",
        ),
        Field("name", description="Page or screen name."),
        Field("previous_id", "previousId", description="Previous id of an alias call."),
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
            description="Device clock time of the event, with the device's UTC offset.",
        ),
        Field("sent_at", "sentAt", timestamp=True, description="Device clock time of sending."),
        Field("received_at", "receivedAt", timestamp=True, description="Collector receipt time."),
        Field("properties", kind=Kind.JSON, description="Event / page properties."),
        Field("traits", kind=Kind.JSON, description="Identify / group traits."),
        Field("context", kind=Kind.JSON, description="ip, userAgent, page, campaign, device, …"),
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
    fields=(
        Field("crm_id", required=True, description="CRM customer id."),
        Field("email", description="E-mail as typed into the CRM."),
        Field("phone", description="Phone as typed into the CRM."),
        Field("first_name", description="First name."),
        Field("last_name", description="Last name."),
        Field("birth_date", description="Birth date."),
        Field("gender", description="Gender as recorded."),
        Field("country", description="Country."),
        Field("city", description="City."),
        Field("job_title", description="Job title."),
        Field("company", description="Company."),
        Field("created_at", timestamp=True, description="When the CRM record was created."),
        Field("updated_at", timestamp=True, description="When it was last updated."),
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
        Field("changed_at", required=True, timestamp=True, description="When it changed."),
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
        Field("subject", description="Subject line (free text)."),
        Field("body", description="First message (free text, may span lines)."),
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
        Field("comment", description="Free-text comment (may span lines)."),
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
        Field("title", description="Review title."),
        Field("text", description="Review text (en, pt, es, it)."),
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
        Field("handle", description="The person's handle on the platform."),
        Field("kind", required=True, description="like / share / comment / mention / follow."),
        Field("text", description="Text of a comment or mention."),
        Field("url", description="Link to the interaction."),
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
    "log_truncated",
    "log_unparseable",
    "csv_unterminated_quote",
    "csv_bad_quoting",
    "csv_field_count",
    "invalid_json",
    "not_json_object",
    "missing_required_field",
    "missing_customer_reference",
    "missing_subject_identifier",
    "invalid_timestamp",
    "invalid_number",
)
