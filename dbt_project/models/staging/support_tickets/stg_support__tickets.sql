-- One row per support ticket (ticket_id): its latest delivery (a ticket is delivered again
-- when it is answered or resolved).
with

source as (
    select * from {{ source('raw', 'support_tickets') }}
),

renamed as (
    select
        trim(ticket_id) as ticket_id,
        {{ clean_identifier('crm_id') }} as crm_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        lower({{ clean_text('channel') }}) as channel,
        lower({{ clean_text('category') }}) as category,
        {{ clean_text('subject') }} as subject,
        {{ clean_text('body') }} as body,
        lower({{ clean_text('status') }}) as ticket_status,
        {{ parse_iso_timestamp('created_at') }} as created_at,
        {{ iso_utc_offset_minutes('created_at') }} as created_at_utc_offset_minutes,
        {{ parse_iso_timestamp('first_response_at') }} as first_response_at,
        {{ iso_utc_offset_minutes('first_response_at') }} as first_response_at_utc_offset_minutes,
        {{ parse_iso_timestamp('resolved_at') }} as resolved_at,
        {{ iso_utc_offset_minutes('resolved_at') }} as resolved_at_utc_offset_minutes,
        {{ to_integer('csat') }} as csat_score,
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
        count(*) over (partition by ticket_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by ticket_id
            order by _partition desc, _file desc, _line desc
        ) = 1
)

select * from deduplicated
