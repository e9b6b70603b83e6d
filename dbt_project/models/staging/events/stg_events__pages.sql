-- One row per page view (web `page`) or screen view (mobile `screen`) message.
with

messages as (
    select * from {{ ref('stg_events__messages') }}
),

pages as (
    select
        message_id,
        message_type,
        page_name,
        anonymous_id,
        user_id,
        event_at,
        event_at_local,
        device_utc_offset_minutes,
        timezone,
        ip,
        user_agent,
        is_crawler,
        device_category,
        page_url,
        page_path,
        page_search,
        page_referrer,
        page_referrer_host,
        page_title,
        campaign_source,
        campaign_medium,
        campaign_name,
        campaign_term,
        campaign_content,
        device_id,
        app_name,
        locale,
        properties,
        _file,
        _line,
        _partition
    from messages
    where message_type in ('page', 'screen')
)

select * from pages
