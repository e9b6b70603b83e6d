-- An asset check on dim_customer_identifiers in Dagster (dagster-dbt reads meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'dim_customer_identifiers'}}}) }}

-- No published pseudonym is an unkeyed hash anyone could recompute (DESIGN.md, Pseudonyms;
-- docs/privacy.md): not the bridge's identifier_hash (sha256 / md5 of the identifier key or
-- of its bare value), not a customer_id made the old way ('cus_' + md5 of the cluster key),
-- not dim_customers' e-mail or phone pseudonym (sha256 of the normalised value or key).
-- Returns the offending rows, naming the column only.
with

components as (
    select * from {{ ref('int_identity__components') }}
),

bridge as (
    select * from {{ ref('dim_customer_identifiers') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

golden as (
    select * from {{ ref('int_identity__golden_records') }}
),

unkeyed_bridge as (
    select 'dim_customer_identifiers.identifier_hash' as published_column
    from bridge
    inner join components on bridge.customer_id = components.customer_id
    where
        bridge.identifier_hash in (
            sha256(components.identifier_key), md5(components.identifier_key),
            sha256(components.identifier_value), md5(components.identifier_value)
        )
),

unkeyed_customer_ids as (
    select 'int_identity__components.customer_id' as published_column
    from components
    where components.customer_id = 'cus_' || left(md5(components.component_key), 16)
),

unkeyed_contacts as (
    select 'dim_customers.email_hash / phone_hash' as published_column
    from customers
    inner join golden on customers.customer_id = golden.customer_id
    where
        customers.email_hash in (sha256(golden.email), sha256('email:' || golden.email))
        or customers.phone_hash in (sha256(golden.phone), sha256('phone:' || golden.phone))
)

select * from unkeyed_bridge
union all
select * from unkeyed_customer_ids
union all
select * from unkeyed_contacts
