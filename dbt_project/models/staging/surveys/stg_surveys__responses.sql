-- One row per survey response (response_id): its latest delivery.
with

source as (
    select * from {{ source('raw', 'surveys') }}
),

renamed as (
    select
        trim(response_id) as response_id,
        {{ clean_identifier('crm_id') }} as crm_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        lower({{ clean_text('survey') }}) as survey_type,
        {{ to_integer('score') }} as score,
        {{ clean_text('comment') }} as comment,
        lower({{ clean_text('language') }}) as language,
        {{ parse_iso_timestamp('submitted_at') }} as submitted_at,
        {{ iso_utc_offset_minutes('submitted_at') }} as submitted_at_utc_offset_minutes,
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
        count(*) over (partition by response_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by response_id
            order by _partition desc, _file desc, _line desc
        ) = 1
)

select * from deduplicated
