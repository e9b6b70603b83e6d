-- One row per distinct (phone as written, region hint) pair found in any raw source.
-- The input of the Python model stg_phones__normalized; the hint rules are the macros in
-- macros/phones.sql, which the staging models use too, so their join always finds a row.
with

country_aliases as (
    select * from {{ ref('stg_reference__country_aliases') }}
),

crm as (
    select
        {{ phone_raw('crm.phone') }} as phone_raw,
        country_aliases.country_code as country_hint
    from {{ source('raw', 'crm_customers') }} as crm
    left join country_aliases
        on {{ country_key('crm.country') }} = country_aliases.country_key
),

consent as (
    select
        {{ phone_raw('phone') }} as phone_raw,
        {{ phone_hint_from_jurisdiction('jurisdiction') }} as country_hint
    from {{ source('raw', 'consent') }}
),

privacy_subjects as (
    select
        {{ phone_raw('phone') }} as phone_raw,
        {{ phone_hint_from_jurisdiction('jurisdiction') }} as country_hint
    from {{ source('raw', 'privacy_requests') }}
),

privacy_corrections as (
    select
        {{ phone_raw("json_extract_string(corrections, '$.phone')") }} as phone_raw,
        {{ phone_hint_from_jurisdiction('jurisdiction') }} as country_hint
    from {{ source('raw', 'privacy_requests') }}
),

event_traits as (
    select
        {{ phone_raw("json_extract_string(traits, '$.phone')") }} as phone_raw,
        {{ phone_hint_from_locale("json_extract_string(context, '$.locale')") }} as country_hint
    from {{ source('raw', 'events') }}
),

unioned as (
    select * from crm
    union
    select * from consent
    union
    select * from privacy_subjects
    union
    select * from privacy_corrections
    union
    select * from event_traits
)

select * from unioned
where phone_raw is not null
