-- Incremental by delivery (macros/incremental_by_delivery.sql): a request belongs to its
-- delivery date alone, so each build parses only the dates whose delivery changed.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=[
        "{{ delivery_increment_prepare('web_access') }}",
        "{{ delivery_increment_delete() }}",
    ],
    post_hook="{{ delivery_increment_record('web_access') }}",
) }}

-- One row per HTTP request line of the web server access logs (no deduplication: two
-- identical lines are two requests), typed, with the parsed user agent.
with

source as (
    select * from {{ source('raw', 'web_access') }}
    {% if is_incremental() -%}
        where _partition in {{ delivery_increment_dates() }}
    {%- endif %}
),

user_agents as (
    select * from {{ ref('stg_web_access__user_agents') }}
),

renamed as (
    select
        md5(_file || ':' || cast(_line as varchar)) as request_id,
        {{ clean_identifier('remote_host') }} as client_ip,
        {{ clean_identifier('ident') }} as remote_ident,
        {{ clean_identifier('remote_user') }} as remote_user,
        {{ clean_identifier("json_extract_string(extra_fields, '$[0]')") }} as cookie_id,

        {{ parse_clf_timestamp('request_time') }} as requested_at,
        {{ clf_utc_offset_minutes('request_time') }} as requested_at_utc_offset_minutes,

        {{ clean_text('request') }} as request_line,
        upper({{ clean_text('http_method') }}) as http_method,
        {{ clean_text('path') }} as request_uri,
        split_part({{ clean_text('path') }}, '?', 1) as request_path,
        case
            when strpos(path, '?') > 0
                then nullif(substr(path, strpos(path, '?') + 1), '')
        end as query_string,
        {{ clean_text('http_version') }} as http_version,

        try_cast(trim(status) as integer) as status_code,
        case
            when trim(response_bytes) = '-' then 0
            else try_cast(trim(response_bytes) as bigint)
        end as response_bytes,

        {{ clean_identifier('referrer') }} as referrer,
        lower(
            nullif(
                regexp_extract(
                    {{ clean_identifier('referrer') }}, '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]+)', 1
                ),
                ''
            )
        ) as referrer_host,
        user_agent,

        extra_fields,
        _file,
        _line,
        _partition,
        _loaded_at
    from source
),

joined as (
    select
        renamed.request_id,
        renamed.client_ip,
        renamed.remote_ident,
        renamed.remote_user,
        renamed.cookie_id,
        renamed.requested_at,
        renamed.requested_at_utc_offset_minutes,
        renamed.request_line,
        renamed.http_method,
        renamed.request_uri,
        renamed.request_path,
        renamed.query_string,
        renamed.http_version,
        renamed.status_code,
        renamed.response_bytes,
        renamed.referrer,
        renamed.referrer_host,
        renamed.user_agent,
        user_agents.is_crawler,
        user_agents.crawler_name,
        user_agents.browser_family,
        user_agents.browser_major,
        user_agents.os_family,
        user_agents.os_major,
        user_agents.device_family,
        user_agents.device_brand,
        user_agents.device_model,
        user_agents.device_category,
        renamed.extra_fields,
        renamed._file,
        renamed._line,
        renamed._partition,
        renamed._loaded_at
    from renamed
    left join user_agents
        on renamed.user_agent = user_agents.user_agent
)

select * from joined
