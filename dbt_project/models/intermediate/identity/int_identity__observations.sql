-- One row per identifier carried by a source record (source, record_id, identifier): the
-- long format of every identifier column in staging, normalised. The edges pair these up
-- within a record; the identifiers model aggregates them per node.
--
-- Each source lists its identifiers in hub order: the first one present in a record is the
-- record's hub, and every other identifier of the record is asserted together with it
-- (int_identity__edges). Types: anonymous_id (analytics cookie / mobile install id, also
-- the access-log cookie), device_id, user_id, email (normalised mailbox), phone (E.164),
-- crm_id, social_handle (platform:handle, lower case, no '@').
--
-- Incremental (macros/identity_observations_increment.sql): each build recomputes the
-- event and access-log records whose deliveries changed, every alias call and the small
-- sources, and equals a full rebuild.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ identity_observations_prepare() }}",
    post_hook="{{ identity_observations_record() }}",
) }}
{%- set sources = identity_sources() %}

with

messages as (
    select * from {{ ref('stg_events__messages') }}
    where {{ identity_observations_records('events') }}
),

web_requests as (
    select * from {{ ref('stg_web_access__requests') }}
    where {{ identity_observations_records('web_access') }}
),

known_user_ids as (
    -- Segment's alias previousId is an anonymous id, or an earlier user id when a user id
    -- was renamed: it is typed user_id when it is known as one in any message.
    select distinct user_id
    from {{ ref('stg_events__messages') }}
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
        {{ src.last_seen_at }} as last_seen_at,
        {{ src.get('delivery_partitions', 'cast(null as date[])') }} as delivery_partitions
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
        max(last_seen_at) as last_seen_at,
        any_value(delivery_partitions) as delivery_partitions
    from observed
    group by source, record_id, identifier_type, identifier_value
)

select * from deduplicated
