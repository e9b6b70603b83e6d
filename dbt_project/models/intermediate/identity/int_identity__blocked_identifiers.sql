-- One row per identifier the junk blocklist (seed identity_blocklist) matches: placeholder
-- values ('undefined', all-zero UUIDs), test addresses, team mailboxes, placeholder phone
-- numbers. A blocked identifier asserts nothing: its observations are left out before
-- the edges are drawn, so it joins no cluster.
with

identifiers as (
    select * from {{ ref('int_identity__identifiers') }}
),

blocklist as (
    select * from {{ ref('identity_blocklist') }}
),

matched as (
    select
        identifiers.identifier_key,
        identifiers.identifier_type,
        identifiers.record_count,
        identifiers.sources,
        blocklist.rule_id,
        blocklist.reason
    from identifiers
    inner join blocklist
        on
            blocklist.identifier_type in ('any', identifiers.identifier_type)
            and (
                (
                    blocklist.match_kind = 'exact'
                    and lower(identifiers.identifier_value) = lower(blocklist.value)
                )
                or (
                    blocklist.match_kind = 'pattern'
                    and regexp_full_match(lower(identifiers.identifier_value), blocklist.value)
                )
            )
),

first_rule as (
    -- An identifier several rules match is reported once, under the first rule (seed order
    -- is not guaranteed: rule_id order).
    select * from matched
    qualify row_number() over (partition by identifier_key order by rule_id) = 1
)

select * from first_rule
