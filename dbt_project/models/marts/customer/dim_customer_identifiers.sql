-- One row per identifier of the identity graph that has a customer (identifier_hash): the
-- bridge from an identifier to its customer_id. Published pseudonymised: the identifier
-- appears only as its keyed pseudonym, HMAC-SHA-256 of its key ('<type>:<normalised
-- value>') with the secret CDW_PSEUDONYM_KEY (macro pseudonym, docs/privacy.md), so a
-- system that holds the identifier and the key can compute it and find the customer, and
-- nobody can read the identifier back or recompute it without the key. Blocklisted junk
-- identifiers have no customer and are not here.
with

components as (
    select * from {{ ref('int_identity__components') }}
),

bridge as (
    select
        {{ pseudonym('identifier_key') }} as identifier_hash,
        identifier_type,
        customer_id,
        first_seen_at,
        last_seen_at,
        guard
    from components
)

select * from bridge
