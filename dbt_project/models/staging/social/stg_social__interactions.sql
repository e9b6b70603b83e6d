-- One row per social-media interaction (interaction_id): its latest delivery.
with

source as (
    select * from {{ source('raw', 'social') }}
),

renamed as (
    select
        trim(interaction_id) as interaction_id,
        lower({{ clean_text('platform') }}) as platform,
        {{ clean_text('handle') }} as handle,
        lower(ltrim({{ clean_text('handle') }}, '@')) as handle_normalized,
        lower({{ clean_text('kind') }}) as interaction_kind,
        {{ clean_text('text') }}
            as interaction_text,
        {{ clean_text('url') }} as url,
        {{ parse_iso_timestamp('created_at') }} as created_at,
        {{ iso_utc_offset_minutes('created_at') }} as created_at_utc_offset_minutes,
        {{ clean_identifier('crm_id') }} as crm_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
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
        count(*) over (partition by interaction_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by interaction_id
            order by _partition desc, _file desc, _line desc
        ) = 1
)

select * from deduplicated
