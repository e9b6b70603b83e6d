{#-
    The identity sources: every staging relation that carries identifiers, with its record
    id, times and identifier columns in hub order (docs/identity.md, "The graph"). Read by
    int_identity__observations (the graph) and int_identity__record_customers (who each
    record belongs to), so both see the same records.

    `relation` is a ref, except for the two sources that grow with history: 'messages' (over
    stg_events__messages) and 'web_requests' (over stg_web_access__requests), CTEs the
    calling model defines, so int_identity__observations can read only the records it
    recomputes (it also defines `known_user_ids`, which the events identifiers use to type
    an alias previousId). `delivery_partitions` is the delivery dates of a record of those
    two (NULL for the others, which observations recomputes every build).
-#}
{% macro identity_sources() %}
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
        "delivery_partitions": "delivery_partitions",
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
        "relation": "web_requests",
        "record_id": "request_id",
        "delivery_partitions": "[_partition]",
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
{{ return(sources) }}
{% endmacro %}
