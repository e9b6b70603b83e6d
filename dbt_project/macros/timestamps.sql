{#-
    Time: every timestamp is stored as TIMESTAMPTZ (an instant, shown in UTC) and the UTC
    offset it was written with is kept in minutes, so local time = utc + offset.

    ISO-8601 as delivered by the JSON / CSV sources ('2026-01-05T11:00:03+01:00',
    '2026-01-05T10:00:03.120Z', '2026-01-05 10:00:03'): a value with an offset or 'Z' is an
    instant; a value without one is read as UTC (offset NULL: unknown). The loader refused
    anything DuckDB cannot cast, so NULL here means the value was absent.
-#}
{% macro parse_iso_timestamp(column) -%}
    case
        when
            regexp_matches(trim({{ column }}), '(?i)(z|[+-]\d{2}(:?\d{2})?)$')
            and regexp_matches(trim({{ column }}), '\d{2}:\d{2}')
            then try_cast(trim({{ column }}) as timestamptz)
        else timezone('UTC', try_cast(trim({{ column }}) as timestamp))
    end
{%- endmacro %}

{#- The UTC offset an ISO-8601 value was written with, in minutes ('Z' = 0, none = NULL). -#}
{% macro iso_utc_offset_minutes(column) -%}
    case
        when regexp_matches(trim({{ column }}), '\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*[zZ]$') then 0
        when regexp_matches(trim({{ column }}), '\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*[+-]\d{2}(:?\d{2})?$')
            then
                (case
                    when regexp_extract(trim({{ column }}), '([+-])\d{2}(:?\d{2})?$', 1) = '-'
                        then -1
                    else 1
                end)
                * (
                    cast(regexp_extract(trim({{ column }}), '[+-](\d{2})(:?\d{2})?$', 1) as integer) * 60
                    + coalesce(
                        try_cast(
                            ltrim(regexp_extract(trim({{ column }}), '[+-]\d{2}(:?\d{2})?$', 1), ':')
                            as integer
                        ),
                        0
                    )
                )
    end
{%- endmacro %}

{#- Apache / Nginx `%t` ('17/May/2015:10:05:03 +0000', brackets already removed) as an instant. -#}
{% macro parse_clf_timestamp(column) -%}
    try_strptime(trim({{ column }}), '%d/%b/%Y:%H:%M:%S %z')
{%- endmacro %}

{#- The UTC offset of an access-log time ('+0530' = 330, '-0800' = -480), in minutes. -#}
{% macro clf_utc_offset_minutes(column) -%}
    case
        when regexp_matches(trim({{ column }}), '\s[+-]\d{4}$')
            then
                (case when regexp_extract(trim({{ column }}), '([+-])\d{4}$', 1) = '-' then -1 else 1 end)
                * (
                    cast(regexp_extract(trim({{ column }}), '[+-](\d{2})\d{2}$', 1) as integer) * 60
                    + cast(regexp_extract(trim({{ column }}), '[+-]\d{2}(\d{2})$', 1) as integer)
                )
    end
{%- endmacro %}
