-- One row per distinct user agent, parsed once at ingest (raw.user_agents).
with

source as (
    select * from {{ source('raw', 'user_agents') }}
),

renamed as (
    select
        user_agent,
        is_crawler,
        crawler_name,
        browser_family,
        browser_major,
        os_family,
        os_major,
        device_family,
        device_brand,
        device_model,
        case
            when is_crawler then 'bot'
            when device_family = 'iPad' or lower(user_agent) like '%tablet%' then 'tablet'
            when
                os_family in ('iOS', 'Android')
                or lower(user_agent) like '%mobile%'
                then 'mobile'
            else 'desktop'
        end as device_category,
        parsed_by
    from source
)

select * from renamed
