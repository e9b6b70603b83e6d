-- One row per consent ledger entry (consent_id). The ledger is append-only: an entry
-- delivered twice keeps its first delivery (lowest _partition, _file, _line).
with

source as (
    select * from {{ source('raw', 'consent') }}
),

phones as (
    select * from {{ ref('stg_phones__normalized') }}
),

renamed as (
    select
        trim(consent_id) as consent_id,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        {{ phone_raw('phone') }} as phone,
        {{ phone_hint_from_jurisdiction('jurisdiction') }} as phone_country_hint,
        {{ clean_identifier('crm_id') }} as crm_id,
        lower({{ clean_text('purpose') }}) as purpose,
        lower({{ clean_text('status') }}) as consent_status,
        {{ clean_text('jurisdiction') }} as jurisdiction,
        {{ clean_text('policy_version') }} as policy_version,
        lower({{ clean_text('source') }}) as consent_source,
        {{ parse_iso_timestamp('recorded_at') }} as recorded_at,
        {{ iso_utc_offset_minutes('recorded_at') }} as recorded_at_utc_offset_minutes,
        _extra as extra,
        _file,
        _line,
        _partition,
        _loaded_at
    from source
),

deduplicated as (
    select
        *,
        count(*) over (partition by consent_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by consent_id
            order by _partition asc, _file asc, _line asc
        ) = 1
),

joined as (
    select
        deduplicated.consent_id,
        deduplicated.anonymous_id,
        deduplicated.user_id,
        deduplicated.email,
        deduplicated.email_normalized,
        deduplicated.phone,
        deduplicated.phone_country_hint,
        phones.phone_e164,
        deduplicated.crm_id,
        deduplicated.purpose,
        deduplicated.consent_status,
        deduplicated.consent_status = 'granted' as is_granted,
        deduplicated.jurisdiction,
        deduplicated.policy_version,
        deduplicated.consent_source,
        deduplicated.recorded_at,
        deduplicated.recorded_at_utc_offset_minutes,
        deduplicated.extra,
        deduplicated.delivery_count,
        deduplicated._file,
        deduplicated._line,
        deduplicated._partition,
        deduplicated._loaded_at
    from deduplicated
    left join phones
        on {{ phone_join('phones', 'deduplicated.phone', 'deduplicated.phone_country_hint') }}
)

select * from joined
