-- A table, not a view: the biggest staging relations; every data test and every model
-- downstream would otherwise re-run the parse and deduplication over the full history.
{{ config(materialized='table') }}

-- One row per CRM customer record (crm_id): its row in the latest snapshot that holds it
-- (latest _partition, then updated_at, then the last _file / _line). Records missing from
-- the latest snapshot (deleted in the CRM) are kept, flagged is_in_latest_snapshot = false.
with

source as (
    select * from {{ source('raw', 'crm_customers') }}
),

country_aliases as (
    select * from {{ ref('stg_reference__country_aliases') }}
),

phones as (
    select * from {{ ref('stg_phones__normalized') }}
),

renamed as (
    select
        trim(crm.crm_id) as crm_id,
        {{ clean_text('crm.email') }} as email,
        {{ normalize_email('crm.email') }} as email_normalized,
        {{ phone_raw('crm.phone') }} as phone,
        country_aliases.country_code as phone_country_hint,
        {{ clean_text('crm.first_name') }} as first_name,
        {{ clean_text('crm.last_name') }} as last_name,
        try_cast(trim(crm.birth_date) as date) as birth_date,
        upper({{ clean_text('crm.gender') }}) as gender,
        {{ clean_text('crm.country') }} as country,
        country_aliases.country_code,
        country_aliases.default_jurisdiction as jurisdiction,
        {{ clean_text('crm.city') }} as city,
        {{ clean_text('crm.job_title') }} as job_title,
        {{ clean_text('crm.company') }} as company,
        {{ parse_iso_timestamp('crm.created_at') }} as created_at,
        {{ iso_utc_offset_minutes('crm.created_at') }} as created_at_utc_offset_minutes,
        {{ parse_iso_timestamp('crm.updated_at') }} as updated_at,
        {{ iso_utc_offset_minutes('crm.updated_at') }} as updated_at_utc_offset_minutes,
        crm._extra as extra,
        crm._file,
        crm._line,
        crm._partition,
        crm._loaded_at
    from source as crm
    left join country_aliases
        on {{ country_key('crm.country') }} = country_aliases.country_key
),

deduplicated as (
    select
        *,
        min(_partition) over (partition by crm_id) as first_seen_partition,
        _partition = max(_partition) over () as is_in_latest_snapshot,
        count(*) over (partition by crm_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by crm_id
            order by _partition desc, updated_at desc nulls last, _file desc, _line desc
        ) = 1
),

joined as (
    select
        deduplicated.crm_id,
        deduplicated.email,
        deduplicated.email_normalized,
        deduplicated.phone,
        deduplicated.phone_country_hint,
        phones.phone_e164,
        phones.is_valid as phone_is_valid,
        deduplicated.first_name,
        deduplicated.last_name,
        deduplicated.birth_date,
        deduplicated.gender,
        deduplicated.country,
        deduplicated.country_code,
        deduplicated.jurisdiction,
        deduplicated.city,
        deduplicated.job_title,
        deduplicated.company,
        deduplicated.created_at,
        deduplicated.created_at_utc_offset_minutes,
        deduplicated.updated_at,
        deduplicated.updated_at_utc_offset_minutes,
        deduplicated.is_in_latest_snapshot,
        deduplicated.first_seen_partition,
        deduplicated._partition as last_seen_partition,
        deduplicated.delivery_count,
        deduplicated.extra,
        deduplicated._file,
        deduplicated._line,
        deduplicated._partition,
        deduplicated._loaded_at
    from deduplicated
    left join phones
        on {{ phone_join('phones', 'deduplicated.phone', 'deduplicated.phone_country_hint') }}
)

select * from joined
