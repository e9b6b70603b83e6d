-- An asset check on stg_consent__records in Dagster (dagster-dbt reads meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'stg_consent__records'}}}) }}

-- The consent_defaults seed has a default for every jurisdiction × purpose: the four
-- jurisdictions times every purpose the seed or the consent ledger mentions.
with

defaults as (
    select * from {{ ref('consent_defaults') }}
),

jurisdictions as (
    select unnest(['GDPR', 'LGPD', 'CCPA', 'other']) as jurisdiction
),

purposes as (
    select purpose from defaults
    union
    select purpose from {{ ref('stg_consent__records') }}
),

expected as (
    select
        jurisdictions.jurisdiction,
        purposes.purpose
    from jurisdictions
    cross join purposes
)

select expected.*
from expected
left join defaults
    on
        expected.jurisdiction = defaults.jurisdiction
        and expected.purpose = defaults.purpose
where defaults.purpose is null
