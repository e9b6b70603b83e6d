-- One row per pair of identity-graph nodes asserted together by a source (source, node a,
-- node b; node a is the smaller identifier_key), with first / last seen and how many
-- records asserted it.
--
-- Within one source record every identifier is paired with the record's hub (its first
-- identifier in the source's hub order, int_identity__observations): an identify call
-- gives anonymous_id–user_id and user_id–email, a CRM row crm_id–email and crm_id–phone.
-- A star per record connects exactly what a clique would, with k − 1 edges instead of
-- k(k − 1)/2.
with

observations as (
    select * from {{ ref('int_identity__observations') }}
),

hubs as (
    select * from observations
    qualify row_number() over (partition by source, record_id order by hub_rank) = 1
),

asserted as (
    select
        member.source,
        member.record_id,
        hub.identifier_type || ':' || hub.identifier_value as hub_key,
        member.identifier_type || ':' || member.identifier_value as member_key,
        least(hub.first_seen_at, member.first_seen_at) as first_seen_at,
        greatest(hub.last_seen_at, member.last_seen_at) as last_seen_at
    from observations as member
    inner join hubs as hub
        on
            member.source = hub.source
            and member.record_id = hub.record_id
            and member.hub_rank > hub.hub_rank
),

guarded as (
    -- The one place where asserted pairs are filtered before they become edges: the
    -- junk-identifier blocklist and the over-linking guards (later issues) go here.
    select * from asserted
),

oriented as (
    select
        source,
        record_id,
        least(hub_key, member_key) as identifier_key_a,
        greatest(hub_key, member_key) as identifier_key_b,
        first_seen_at,
        last_seen_at
    from guarded
),

aggregated as (
    select
        md5(source || '|' || identifier_key_a || '|' || identifier_key_b) as edge_id,
        source,
        identifier_key_a,
        identifier_key_b,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(distinct record_id) as assertion_count
    from oriented
    group by source, identifier_key_a, identifier_key_b
),

split as (
    select
        edge_id,
        source,
        identifier_key_a,
        split_part(identifier_key_a, ':', 1) as identifier_type_a,
        identifier_key_b,
        split_part(identifier_key_b, ':', 1) as identifier_type_b,
        first_seen_at,
        last_seen_at,
        assertion_count
    from aggregated
)

select * from split
