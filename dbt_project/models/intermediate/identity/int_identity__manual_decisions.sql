-- One row per steward decision in the seed identity_manual_decisions: `merge` (these two
-- identifiers are one person) or `keep_apart` (never in one cluster), with the pair
-- oriented like the edges (identifier_key_a < identifier_key_b). Decisions win over the
-- automatic rules: int_identity__edges adds merges and drops kept-apart pairs,
-- int_identity__components enforces keep_apart across longer paths.
--
-- The seed names each identifier by its keyed pseudonym (64 hex digits, as published in
-- dim_customer_identifiers.identifier_hash and shown in int_identity__guard_effects; the
-- seed is committed to git, so it holds no personal data) or, still accepted, by its
-- identifier key in clear ('email:ann@example.com'). A pseudonym is resolved to its
-- identifier through the pseudonyms of the graph's identifiers under tonight's key
-- (docs/privacy.md); a decision naming a pseudonym no identifier has (an erased subject,
-- or a seed written under another key: `cdw pseudonyms rekey-decisions`) is left out, and
-- the test assert_every_manual_decision_resolves warns about it.
with

decisions as (
    select * from {{ ref('identity_manual_decisions') }}
),

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

given as (
    select
        trim(decision_id) as decision_id,
        lower(trim(decision)) as decision,
        trim(identifier_a) as identifier_a,
        trim(identifier_b) as identifier_b,
        regexp_full_match(trim(identifier_a), '[0-9a-fA-F]{64}') as is_pseudonym_a,
        regexp_full_match(trim(identifier_b), '[0-9a-fA-F]{64}') as is_pseudonym_b,
        trim(decided_by) as decided_by,
        cast(decided_at as timestamp) as decided_at,
        reason
    from decisions
),

named_pseudonyms as (
    select lower(identifier_a) as identifier_hash from given where is_pseudonym_a
    union
    select lower(identifier_b) as identifier_hash from given where is_pseudonym_b
),

pseudonyms as (
    -- the graph's identifiers under their pseudonyms: computed only when a decision names
    -- one (the filter goes first, so without one the function never runs)
    select
        identifier_key,
        {{ pseudonym('identifier_key') }} as identifier_hash
    from identifiers
    where exists (select 1 from named_pseudonyms)
),

resolved as (
    select
        given.decision_id,
        given.decision,
        case
            when given.is_pseudonym_a then pseudonym_a.identifier_key else given.identifier_a
        end as key_a,
        case
            when given.is_pseudonym_b then pseudonym_b.identifier_key else given.identifier_b
        end as key_b,
        given.decided_by,
        given.decided_at,
        given.reason
    from given
    left join pseudonyms as pseudonym_a
        on given.is_pseudonym_a and lower(given.identifier_a) = pseudonym_a.identifier_hash
    left join pseudonyms as pseudonym_b
        on given.is_pseudonym_b and lower(given.identifier_b) = pseudonym_b.identifier_hash
),

oriented as (
    select
        decision_id,
        decision,
        least(key_a, key_b) as identifier_key_a,
        greatest(key_a, key_b) as identifier_key_b,
        decided_by,
        decided_at,
        reason
    from resolved
    where key_a is not null and key_b is not null
)

select * from oriented
