-- One row per action of an identity guard, for stewards: which identifier (or cluster) a
-- guard touched, by which rule or decision, and how much it affected. Guards: blocklist
-- (junk identifier left out), shared_device (a device or browser id of several users links
-- none of them), oversized_cluster (a cluster over the size ceiling left unmerged),
-- kept_apart / keep_apart_conflict (a steward's keep_apart decision enforced, or
-- contradicted by manual merges), manual_merge (a steward's merge added as an edge).
with

blocked as (
    select * from {{ ref('int_identity__blocked_identifiers') }}
),

shared as (
    select * from {{ ref('int_identity__shared_identifiers') }}
),

components as (
    select * from {{ ref('int_identity__components') }}
),

decisions as (
    select * from {{ ref('int_identity__manual_decisions') }}
),

blocklist_effects as (
    select
        'blocklist' as guard,
        identifier_key,
        rule_id as rule,
        reason as detail,
        1 as identifiers_affected,
        record_count as records_affected
    from blocked
),

shared_device_effects as (
    select
        'shared_device' as guard,
        identifier_key,
        'identity_max_users_per_device' as rule,
        'seen with ' || user_count || ' logged-in users (limit '
        || {{ var('identity_max_users_per_device') }} || '): links none of them' as detail,
        user_count as identifiers_affected,
        record_count as records_affected
    from shared
),

oversized_effects as (
    select
        'oversized_cluster' as guard,
        min(identifier_key) as identifier_key,
        'identity_max_cluster_size' as rule,
        any_value(guard_detail) as detail,
        count(*) as identifiers_affected,
        cast(null as bigint) as records_affected
    from components
    where guard = 'oversized_cluster'
    group by guard_detail
),

keep_apart_effects as (
    select
        guard,
        identifier_key,
        'identity_manual_decisions' as rule,
        guard_detail as detail,
        1 as identifiers_affected,
        cast(null as bigint) as records_affected
    from components
    where guard in ('kept_apart', 'keep_apart_conflict')
),

manual_merge_effects as (
    select
        'manual_merge' as guard,
        identifier_key_a as identifier_key,
        'identity_manual_decisions' as rule,
        'decision ' || decision_id || ' by ' || coalesce(decided_by, 'unknown')
        || ': merged with ' || identifier_key_b as detail,
        2 as identifiers_affected,
        cast(null as bigint) as records_affected
    from decisions
    where decision = 'merge'
),

effects as (
    select * from blocklist_effects
    union all
    select * from shared_device_effects
    union all
    select * from oversized_effects
    union all
    select * from keep_apart_effects
    union all
    select * from manual_merge_effects
)

select
    md5(guard || '|' || identifier_key || '|' || rule) as guard_effect_id,
    guard,
    identifier_key,
    -- how a steward names the identifier in the seed identity_manual_decisions
    {{ pseudonym('identifier_key') }} as identifier_hash,
    split_part(identifier_key, ':', 1) as identifier_type,
    rule,
    detail,
    identifiers_affected,
    records_affected
from effects
