-- One row per customer (customer_id): a person as identity resolution sees them — an
-- identity cluster — with first / last seen, identifier counts per type, the sources that
-- know them and the non-identifying part of the golden record. Published: no names, no
-- clear-text e-mail or phone (their keyed pseudonyms, the same as in the bridge
-- dim_customer_identifiers, for matching with systems that hold the key), no city.
{%- set identifier_types = [
    'anonymous_id', 'device_id', 'user_id', 'email', 'phone', 'crm_id', 'social_handle',
] %}

with

components as (
    select * from {{ ref('int_identity__components') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

golden as (
    select * from {{ ref('int_identity__golden_records') }}
),

clusters as (
    select
        components.customer_id,
        min(components.first_seen_at) as first_seen_at,
        max(components.last_seen_at) as last_seen_at,
        count(*) as identifier_count,
        {%- for identifier_type in identifier_types %}
        count(*) filter (
            where components.identifier_type = '{{ identifier_type }}'
        ) as {{ identifier_type }}_count,
        {%- endfor %}
        list_sort(list_distinct(flatten(list(identifiers.sources)))) as sources,
        bool_or(components.guard is not null) as is_touched_by_guard
    from components
    inner join identifiers on components.identifier_key = identifiers.identifier_key
    group by components.customer_id
),

customers as (
    select
        clusters.customer_id,
        clusters.user_id_count + clusters.email_count + clusters.phone_count
        + clusters.crm_id_count > 0 as is_identified,
        clusters.first_seen_at,
        clusters.last_seen_at,
        clusters.identifier_count,
        {%- for identifier_type in identifier_types %}
        clusters.{{ identifier_type }}_count,
        {%- endfor %}
        clusters.sources,
        {{ identifier_pseudonym('email', 'golden.email') }} as email_hash,
        {{ identifier_pseudonym('phone', 'golden.phone') }} as phone_hash,
        golden.country_code,
        golden.jurisdiction,
        golden.gender,
        year(cast(golden.birth_date as date)) as birth_year,
        golden.email_source,
        golden.country_code_source,
        golden.jurisdiction_source,
        clusters.is_touched_by_guard
    from clusters
    left join golden on clusters.customer_id = golden.customer_id
)

select * from customers
