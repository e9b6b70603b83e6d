-- One row per identifier carried by a source record (source, record_id, identifier): the
-- long format of every identifier column in staging, normalised. The edges pair these up
-- within a record; the identifiers model aggregates them per node.
--
-- Each source lists its identifiers in hub order: the first one present in a record is the
-- record's hub, and every other identifier of the record is asserted together with it
-- (int_identity__edges). Types: anonymous_id (analytics cookie / mobile install id, also
-- the access-log cookie), device_id, user_id, email (normalised mailbox), phone (E.164),
-- crm_id, social_handle (platform:handle, lower case, no '@').
{%- set previous_id_type -%}
    case
        when previous_id in (select known_user_ids.user_id from known_user_ids)
            then 'user_id'
        else 'anonymous_id'
    end
{%- endset -%}
{%- set customer_reference = [
    ("'crm_id'", "crm_id"),
    ("'user_id'", "user_id"),
    ("'email'", "email_normalized"),
] -%}
{%- set subject_identifiers = [
    ("'crm_id'", "crm_id"),
    ("'user_id'", "user_id"),
    ("'email'", "email_normalized"),
    ("'phone'", "phone_e164"),
    ("'anonymous_id'", "anonymous_id"),
] -%}
{%- set sources = [
    {
        "source": "'events.' || message_type",
        "relation": "messages",
        "record_id": "message_id",
        "first_seen_at": "event_at",
        "last_seen_at": "event_at",
        "identifiers": [
            ("'user_id'", "user_id"),
            ("'anonymous_id'", "anonymous_id"),
            (previous_id_type, "previous_id"),
            ("'device_id'", "device_id"),
            ("'email'", "traits_email_normalized"),
            ("'phone'", "traits_phone_e164"),
        ],
    },
    {
        "source": "'web_access'",
        "relation": ref('stg_web_access__requests'),
        "record_id": "request_id",
        "first_seen_at": "requested_at",
        "last_seen_at": "requested_at",
        "identifiers": [("'anonymous_id'", "cookie_id")],
    },
    {
        "source": "'crm'",
        "relation": ref('stg_crm__customers'),
        "record_id": "crm_id",
        "first_seen_at": "coalesce(created_at, updated_at)",
        "last_seen_at": "coalesce(updated_at, created_at)",
        "identifiers": [
            ("'crm_id'", "crm_id"),
            ("'email'", "email_normalized"),
            ("'phone'", "phone_e164"),
        ],
    },
    {
        "source": "'orders'",
        "relation": ref('stg_orders__orders'),
        "record_id": "order_id",
        "first_seen_at": "ordered_at",
        "last_seen_at": "ordered_at",
        "identifiers": customer_reference,
    },
    {
        "source": "'subscriptions'",
        "relation": ref('stg_subscriptions__changes'),
        "record_id": "subscription_change_id",
        "first_seen_at": "changed_at",
        "last_seen_at": "changed_at",
        "identifiers": customer_reference,
    },
    {
        "source": "'support_tickets'",
        "relation": ref('stg_support__tickets'),
        "record_id": "ticket_id",
        "first_seen_at": "created_at",
        "last_seen_at": "created_at",
        "identifiers": customer_reference,
    },
    {
        "source": "'surveys'",
        "relation": ref('stg_surveys__responses'),
        "record_id": "response_id",
        "first_seen_at": "submitted_at",
        "last_seen_at": "submitted_at",
        "identifiers": customer_reference,
    },
    {
        "source": "'reviews'",
        "relation": ref('stg_reviews__reviews'),
        "record_id": "review_id",
        "first_seen_at": "created_at",
        "last_seen_at": "created_at",
        "identifiers": customer_reference,
    },
    {
        "source": "'social'",
        "relation": ref('stg_social__interactions'),
        "record_id": "interaction_id",
        "first_seen_at": "created_at",
        "last_seen_at": "created_at",
        "identifiers": customer_reference + [
            ("'social_handle'", "platform || ':' || handle_normalized"),
        ],
    },
    {
        "source": "'consent'",
        "relation": ref('stg_consent__records'),
        "record_id": "consent_id",
        "first_seen_at": "recorded_at",
        "last_seen_at": "recorded_at",
        "identifiers": subject_identifiers,
    },
    {
        "source": "'privacy_requests'",
        "relation": ref('stg_privacy__requests'),
        "record_id": "request_id",
        "first_seen_at": "received_at",
        "last_seen_at": "received_at",
        "identifiers": subject_identifiers,
    },
] %}

with

messages as (
    select * from {{ ref('stg_events__messages') }}
),

known_user_ids as (
    -- Segment's alias previousId is an anonymous id, or an earlier user id when a user id
    -- was renamed: it is typed user_id when it is known as one.
    select distinct user_id
    from messages
    where user_id is not null
),

observed as (
    {%- for src in sources %}
    {%- set outer_loop = loop %}
    {%- for identifier_type, identifier_value in src.identifiers %}
    select
        {{ src.source }} as source,
        cast({{ src.record_id }} as varchar) as record_id,
        {{ identifier_type }} as identifier_type,
        {{ identifier_value }} as identifier_value,
        {{ loop.index }} as hub_rank,
        {{ src.first_seen_at }} as first_seen_at,
        {{ src.last_seen_at }} as last_seen_at
    from {{ src.relation }}
    where {{ identifier_value }} is not null
    {%- if not (outer_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
),

deduplicated as (
    -- The same identifier twice in one record (alias: previousId = anonymousId) is one
    -- observation, at its best hub rank.
    select
        source,
        record_id,
        identifier_type,
        identifier_value,
        min(hub_rank) as hub_rank,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from observed
    group by source, record_id, identifier_type, identifier_value
)

select * from deduplicated
