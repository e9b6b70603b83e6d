-- One row per staging record of every identity source (source, record_id): the customer
-- it belongs to, or 'anonymous'. The customer is that of the record's first identifier in
-- hub order that has a cluster; a record whose identifiers are all blocklisted junk, or
-- that carries none (an access-log line without a cookie), is 'anonymous'. Marts attribute
-- facts to customers through this table.
{%- set sources = identity_sources() %}

with

messages as (
    select * from {{ ref('stg_events__messages') }}
),

web_requests as (
    select * from {{ ref('stg_web_access__requests') }}
),

observations as (
    select * from {{ ref('int_identity__observations') }}
),

components as (
    select * from {{ ref('int_identity__components') }}
),

records as (
    {%- for src in sources %}
    select distinct
        {{ src.source }} as source,
        cast({{ src.record_id }} as varchar) as record_id
    from {{ src.relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

record_hubs as (
    select
        observations.source,
        observations.record_id,
        components.customer_id,
        components.identifier_type as attributed_by
    from observations
    inner join components
        on
            observations.identifier_type || ':' || observations.identifier_value
            = components.identifier_key
    qualify row_number() over (
            partition by observations.source, observations.record_id
            order by observations.hub_rank
        ) = 1
),

attributed as (
    select
        records.source,
        records.record_id,
        coalesce(record_hubs.customer_id, 'anonymous') as customer_id,
        record_hubs.attributed_by,
        record_hubs.customer_id is not null as is_attributed
    from records
    left join record_hubs
        on
            records.source = record_hubs.source
            and records.record_id = record_hubs.record_id
)

select * from attributed
