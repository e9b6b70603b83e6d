-- One row per `track` message (a named user action), with its taxonomy category and
-- whether it is a conversion (var('conversion_events')).
with

messages as (
    select * from {{ ref('stg_events__messages') }}
),

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

tracks as (
    select
        messages.message_id,
        messages.event_name,
        coalesce(taxonomy.category, 'uncategorized') as event_category,
        messages.event_name in (
            {%- for event in var('conversion_events') %}
            '{{ event }}'{{ "," if not loop.last }}
            {%- endfor %}
        ) as is_conversion,
        {{ clean_text("json_extract_string(messages.properties, '$.feature')") }} as feature_name,
        {{ clean_text("json_extract_string(messages.properties, '$.order_id')") }} as order_id,
        {{ clean_text("json_extract_string(messages.properties, '$.product_id')") }} as product_id,
        messages.anonymous_id,
        messages.user_id,
        messages.channel,
        messages.event_at,
        messages.event_at_local,
        messages.device_utc_offset_minutes,
        messages.timezone,
        messages.is_crawler,
        messages.device_category,
        messages.device_id,
        messages.page_path,
        messages.properties,
        messages._file,
        messages._line,
        messages._partition
    from messages
    left join taxonomy
        on messages.event_name = taxonomy.event_name
    where messages.message_type = 'track'
)

select * from tracks
