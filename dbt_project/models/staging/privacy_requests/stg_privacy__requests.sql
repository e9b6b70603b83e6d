-- One row per data-subject request (request_id). A request delivered twice keeps its first
-- delivery (legal deadlines run from the first receipt).
with

source as (
    select * from {{ source('raw', 'privacy_requests') }}
),

phones as (
    select * from {{ ref('stg_phones__normalized') }}
),

renamed as (
    select
        trim(request_id) as request_id,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        {{ phone_raw('phone') }} as phone,
        {{ phone_hint_from_jurisdiction('jurisdiction') }} as phone_country_hint,
        {{ clean_identifier('crm_id') }} as crm_id,
        lower({{ clean_text('kind') }}) as request_kind,
        {{ clean_text('jurisdiction') }} as jurisdiction,
        {{ parse_iso_timestamp('received_at') }} as received_at,
        {{ iso_utc_offset_minutes('received_at') }} as received_at_utc_offset_minutes,
        corrections,
        {{ clean_text("json_extract_string(corrections, '$.email')") }} as corrected_email,
        {{ phone_raw("json_extract_string(corrections, '$.phone')") }} as corrected_phone,
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
        count(*) over (partition by request_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by request_id
            order by _partition asc, _file asc, _line asc
        ) = 1
),

joined as (
    select
        deduplicated.request_id,
        deduplicated.anonymous_id,
        deduplicated.user_id,
        deduplicated.email,
        deduplicated.email_normalized,
        deduplicated.phone,
        deduplicated.phone_country_hint,
        subject_phones.phone_e164,
        deduplicated.crm_id,
        deduplicated.request_kind,
        deduplicated.jurisdiction,
        deduplicated.received_at,
        deduplicated.received_at_utc_offset_minutes,
        deduplicated.corrections,
        deduplicated.corrected_email,
        deduplicated.corrected_phone,
        corrected_phones.phone_e164 as corrected_phone_e164,
        deduplicated.extra,
        deduplicated.delivery_count,
        deduplicated._file,
        deduplicated._line,
        deduplicated._partition,
        deduplicated._loaded_at
    from deduplicated
    left join phones as subject_phones
        on
            {{ phone_join('subject_phones', 'deduplicated.phone', 'deduplicated.phone_country_hint') }}
    left join phones as corrected_phones
        on
            {{ phone_join('corrected_phones', 'deduplicated.corrected_phone', 'deduplicated.phone_country_hint') }}
)

select * from joined
