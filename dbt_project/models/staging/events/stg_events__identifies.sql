-- One row per `identify` message: the traits a user was identified with (an identity link
-- between anonymous_id, user_id, e-mail and phone).
with

messages as (
    select * from {{ ref('stg_events__messages') }}
),

identifies as (
    select
        message_id,
        anonymous_id,
        user_id,
        event_at,
        traits_email as email,
        traits_email_normalized as email_normalized,
        traits_phone as phone,
        traits_phone_country_hint as phone_country_hint,
        traits_phone_e164 as phone_e164,
        {{ clean_text("json_extract_string(traits, '$.first_name')") }} as first_name,
        {{ clean_text("json_extract_string(traits, '$.last_name')") }} as last_name,
        {{ clean_text("json_extract_string(traits, '$.name')") }} as full_name,
        {{ clean_text("json_extract_string(traits, '$.title')") }} as job_title,
        {{ clean_text("json_extract_string(traits, '$.company.name')") }} as company_name,
        {{ parse_iso_timestamp("json_extract_string(traits, '$.created_at')") }}
            as user_created_at,
        device_id,
        ip,
        locale,
        traits,
        _file,
        _line,
        _partition
    from messages
    where message_type = 'identify'
)

select * from identifies
