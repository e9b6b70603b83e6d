-- Incremental by delivery (macros/incremental_by_delivery.sql): each build parses only the
-- messages whose deliveries changed since the last one, and equals a full rebuild.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ delivery_increment_prepare('events', 'message_id', 'trim(message_id)') }}",
        "{{ delivery_increment_delete('message_id') }}",
    ],
    post_hook="{{ delivery_increment_record('events') }}",
) }}

-- One row per Segment message (message_id), deduplicated: retries deliver the same
-- messageId again; the earliest receipt wins (then the lowest _partition, _file, _line).
with

source as (
    select * from {{ source('raw', 'events') }}
    {% if is_incremental() -%}
        where trim(message_id) in {{ delivery_increment_keys('message_id') }}
    {%- endif %}
),

user_agents as (
    select * from {{ ref('stg_web_access__user_agents') }}
),

phones as (
    select * from {{ ref('stg_phones__normalized') }}
),

renamed as (
    select
        -- ids
        trim(message_id) as message_id,
        lower(trim(type)) as message_type,
        {{ clean_text('event') }} as event_name,
        {{ clean_text('name') }} as page_name,
        {{ clean_identifier('anonymous_id') }} as anonymous_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_identifier('previous_id') }} as previous_id,
        {{ clean_identifier('group_id') }} as group_id,
        {{ clean_text("json_extract_string(_extra, '$.channel')") }} as channel,

        -- time: instants in UTC plus the offset each was written with
        {{ parse_iso_timestamp('timestamp') }} as event_at,
        {{ iso_utc_offset_minutes('timestamp') }} as event_at_utc_offset_minutes,
        {{ parse_iso_timestamp('original_timestamp') }} as original_event_at,
        {{ iso_utc_offset_minutes('original_timestamp') }}
            as original_event_at_utc_offset_minutes,
        {{ parse_iso_timestamp('sent_at') }} as sent_at,
        {{ iso_utc_offset_minutes('sent_at') }} as sent_at_utc_offset_minutes,
        {{ parse_iso_timestamp('received_at') }} as received_at,
        {{ iso_utc_offset_minutes('received_at') }} as received_at_utc_offset_minutes,
        coalesce(
            {{ iso_utc_offset_minutes('original_timestamp') }},
            {{ iso_utc_offset_minutes('sent_at') }}
        ) as device_utc_offset_minutes,
        {{ clean_text("json_extract_string(context, '$.timezone')") }} as timezone,

        -- context
        {{ clean_identifier("json_extract_string(context, '$.ip')") }} as ip,
        {{ clean_text("json_extract_string(context, '$.userAgent')") }} as user_agent,
        {{ clean_text("json_extract_string(context, '$.locale')") }} as locale,
        {{ clean_text("json_extract_string(context, '$.page.url')") }} as page_url,
        {{ clean_text("json_extract_string(context, '$.page.path')") }} as page_path,
        {{ clean_text("json_extract_string(context, '$.page.search')") }} as page_search,
        {{ clean_text("json_extract_string(context, '$.page.referrer')") }} as page_referrer,
        lower(
            nullif(
                regexp_extract(
                    json_extract_string(context, '$.page.referrer'),
                    '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]+)',
                    1
                ),
                ''
            )
        ) as page_referrer_host,
        {{ clean_text("json_extract_string(context, '$.page.title')") }} as page_title,
        {{ clean_text("json_extract_string(context, '$.campaign.source')") }} as campaign_source,
        {{ clean_text("json_extract_string(context, '$.campaign.medium')") }} as campaign_medium,
        {{ clean_text("json_extract_string(context, '$.campaign.name')") }} as campaign_name,
        {{ clean_text("json_extract_string(context, '$.campaign.term')") }} as campaign_term,
        {{ clean_text("json_extract_string(context, '$.campaign.content')") }} as campaign_content,
        {{ clean_identifier("json_extract_string(context, '$.device.id')") }} as device_id,
        {{ clean_text("json_extract_string(context, '$.device.type')") }} as device_type,
        {{ clean_text("json_extract_string(context, '$.device.manufacturer')") }}
            as device_manufacturer,
        {{ clean_text("json_extract_string(context, '$.device.model')") }} as device_model,
        {{ clean_text("json_extract_string(context, '$.os.name')") }} as os_name,
        {{ clean_text("json_extract_string(context, '$.os.version')") }} as os_version,
        {{ clean_text("json_extract_string(context, '$.app.name')") }} as app_name,
        {{ clean_text("json_extract_string(context, '$.app.version')") }} as app_version,
        {{ clean_text("json_extract_string(context, '$.library.name')") }} as library_name,
        {{ clean_text("json_extract_string(context, '$.library.version')") }} as library_version,

        -- identify traits that identify a person
        {{ clean_text("json_extract_string(traits, '$.email')") }} as traits_email,
        {{ normalize_email("json_extract_string(traits, '$.email')") }}
            as traits_email_normalized,
        {{ phone_raw("json_extract_string(traits, '$.phone')") }} as traits_phone,
        {{ phone_hint_from_locale("json_extract_string(context, '$.locale')") }}
            as traits_phone_country_hint,

        -- payloads, as delivered
        properties,
        traits,
        context,
        integrations,
        _extra as extra,

        -- lineage
        _file,
        _line,
        _partition,
        _loaded_at
    from source
),

deduplicated as (
    select
        *,
        count(*) over (partition by message_id) as delivery_count,
        list_sort(list_distinct(list(_partition) over (partition by message_id)))
            as delivery_partitions
    from renamed
    qualify
        row_number() over (
            partition by message_id
            order by received_at asc nulls last, _partition asc, _file asc, _line asc
        ) = 1
),

joined as (
    select
        deduplicated.message_id,
        deduplicated.message_type,
        deduplicated.event_name,
        deduplicated.page_name,
        deduplicated.anonymous_id,
        deduplicated.user_id,
        deduplicated.previous_id,
        deduplicated.group_id,
        deduplicated.channel,
        deduplicated.event_at,
        deduplicated.event_at_utc_offset_minutes,
        deduplicated.original_event_at,
        deduplicated.original_event_at_utc_offset_minutes,
        deduplicated.sent_at,
        deduplicated.sent_at_utc_offset_minutes,
        deduplicated.received_at,
        deduplicated.received_at_utc_offset_minutes,
        deduplicated.device_utc_offset_minutes,
        cast(
            timezone('UTC', deduplicated.event_at)
            + to_minutes(coalesce(deduplicated.device_utc_offset_minutes, 0))
            as timestamp
        ) as event_at_local,
        deduplicated.timezone,
        deduplicated.ip,
        deduplicated.user_agent,
        user_agents.is_crawler,
        user_agents.browser_family,
        user_agents.os_family,
        user_agents.device_family,
        user_agents.device_category,
        deduplicated.locale,
        deduplicated.page_url,
        deduplicated.page_path,
        deduplicated.page_search,
        deduplicated.page_referrer,
        deduplicated.page_referrer_host,
        deduplicated.page_title,
        deduplicated.campaign_source,
        deduplicated.campaign_medium,
        deduplicated.campaign_name,
        deduplicated.campaign_term,
        deduplicated.campaign_content,
        deduplicated.device_id,
        deduplicated.device_type,
        deduplicated.device_manufacturer,
        deduplicated.device_model,
        deduplicated.os_name,
        deduplicated.os_version,
        deduplicated.app_name,
        deduplicated.app_version,
        deduplicated.library_name,
        deduplicated.library_version,
        deduplicated.traits_email,
        deduplicated.traits_email_normalized,
        deduplicated.traits_phone,
        deduplicated.traits_phone_country_hint,
        phones.phone_e164 as traits_phone_e164,
        deduplicated.properties,
        deduplicated.traits,
        deduplicated.context,
        deduplicated.integrations,
        deduplicated.extra,
        deduplicated.delivery_count,
        deduplicated.delivery_partitions,
        deduplicated._file,
        deduplicated._line,
        deduplicated._partition,
        deduplicated._loaded_at
    from deduplicated
    left join user_agents
        on deduplicated.user_agent = user_agents.user_agent
    left join phones
        on
            {{ phone_join('phones', 'deduplicated.traits_phone', 'deduplicated.traits_phone_country_hint') }}
)

select * from joined
