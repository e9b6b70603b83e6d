-- One row per steward decision in the seed identity_manual_decisions: `merge` (these two
-- identifiers are one person) or `keep_apart` (never in one cluster), with the pair
-- oriented like the edges (identifier_key_a < identifier_key_b). Decisions win over the
-- automatic rules: int_identity__edges adds merges and drops kept-apart pairs,
-- int_identity__components enforces keep_apart across longer paths.
with

decisions as (
    select * from {{ ref('identity_manual_decisions') }}
),

oriented as (
    select
        trim(decision_id) as decision_id,
        lower(trim(decision)) as decision,
        least(trim(identifier_key_a), trim(identifier_key_b)) as identifier_key_a,
        greatest(trim(identifier_key_a), trim(identifier_key_b)) as identifier_key_b,
        trim(decided_by) as decided_by,
        cast(decided_at as timestamp) as decided_at,
        reason
    from decisions
)

select * from oriented
