-- One row per identity-graph node: a distinct (identifier_type, identifier_value) seen in
-- any source, with when it was first and last seen and which sources carried it.
with

observations as (
    select * from {{ ref('int_identity__observations') }}
),

aggregated as (
    select
        identifier_type || ':' || identifier_value as identifier_key,
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        list(distinct source order by source) as sources,
        count(*) as record_count
    from observations
    group by identifier_type, identifier_value
)

select * from aggregated
