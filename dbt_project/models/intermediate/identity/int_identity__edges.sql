-- One row per pair of identity-graph nodes asserted together by a source (source, node a,
-- node b; node a is the smaller identifier_key), with first / last seen and how many
-- records asserted it.
--
-- Within one source record every identifier is paired with the record's hub (its first
-- identifier in the source's hub order, int_identity__observations): an identify call
-- gives anonymous_id–user_id and user_id–email, a CRM row crm_id–email and crm_id–phone.
-- A star per record connects exactly what a clique would, with k − 1 edges instead of
-- k(k − 1)/2.
--
-- Fuzzy matching adds the CRM record pairs Splink scores as one person
-- (int_identity__match_edges, source 'crm.fuzzy_match').
--
-- Guards (docs/identity.md): blocklisted junk identifiers are left out before hubs are
-- chosen (int_identity__blocked_identifiers), pairs with a device shared by several users
-- are dropped (int_identity__shared_identifiers), and the stewards' decisions (seed
-- identity_manual_decisions) win over both: a `merge` is an edge of source 'manual'
-- whatever the guards say, a `keep_apart` drops every automatic edge between its two
-- identifiers (int_identity__components keeps them apart across longer paths).
with

shared as (
    select * from {{ ref('int_identity__shared_identifiers') }}
),

decisions as (
    select * from {{ ref('int_identity__manual_decisions') }}
),

match_edges as (
    select * from {{ ref('int_identity__match_edges') }}
),

usable as (
    select * from {{ ref('int_identity__usable_observations') }}
),

hubs as (
    select * from usable
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
    from usable as member
    inner join hubs as hub
        on
            member.source = hub.source
            and member.record_id = hub.record_id
            and member.hub_rank > hub.hub_rank
),

record_assertions as (
    select
        source,
        record_id,
        least(hub_key, member_key) as identifier_key_a,
        greatest(hub_key, member_key) as identifier_key_b,
        first_seen_at,
        last_seen_at
    from asserted
),

oriented_assertions as (
    select * from record_assertions
    union all
    -- fuzzy matching: CRM records scored as one person (one assertion per scored pair)
    select
        source,
        edge_id as record_id,
        identifier_key_a,
        identifier_key_b,
        first_seen_at,
        last_seen_at
    from match_edges
),

guarded as (
    -- The one place where asserted pairs are dropped before they become edges.
    select oriented_assertions.*
    from oriented_assertions
    where
        not exists (
            select 1 from shared
            where shared.identifier_key in (
                    oriented_assertions.identifier_key_a, oriented_assertions.identifier_key_b
                )
        )
        and not exists (
            select 1 from decisions
            where
                decisions.decision = 'keep_apart'
                and decisions.identifier_key_a = oriented_assertions.identifier_key_a
                and decisions.identifier_key_b = oriented_assertions.identifier_key_b
        )
),

manual_merges as (
    select
        'manual' as source,
        decision_id as record_id,
        identifier_key_a,
        identifier_key_b,
        decided_at as first_seen_at,
        decided_at as last_seen_at
    from decisions
    where decision = 'merge'
),

oriented as (
    select * from guarded
    union all
    select * from manual_merges
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
