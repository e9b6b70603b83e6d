-- An asset check on int_identity__components in Dagster (dagster-dbt reads meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'int_identity__components'}}}) }}

-- Every identity-graph node is in exactly one of: int_identity__components (it has a
-- cluster) or int_identity__blocked_identifiers (junk, joins none). One row per node that
-- is in neither or in both.
with

identifiers as (
    select identifier_key from {{ ref('int_identity__identifiers') }}
),

clustered as (
    select identifier_key from {{ ref('int_identity__components') }}
),

blocked as (
    select identifier_key from {{ ref('int_identity__blocked_identifiers') }}
)

select
    identifiers.identifier_key,
    clustered.identifier_key is not null as is_clustered,
    blocked.identifier_key is not null as is_blocked
from identifiers
left join clustered on identifiers.identifier_key = clustered.identifier_key
left join blocked on identifiers.identifier_key = blocked.identifier_key
where (clustered.identifier_key is null) = (blocked.identifier_key is null)
