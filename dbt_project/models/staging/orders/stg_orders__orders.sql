-- One row per order (order_id): its latest delivery (an order is delivered again when its
-- status changes, e.g. refunded), with the total in var('reporting_currency').
with

source as (
    select * from {{ source('raw', 'orders') }}
),

rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

renamed as (
    select
        trim(order_id) as order_id,
        {{ clean_identifier('crm_id') }} as crm_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        {{ parse_iso_timestamp('ordered_at') }} as ordered_at,
        {{ iso_utc_offset_minutes('ordered_at') }} as ordered_at_utc_offset_minutes,
        lower({{ clean_text('status') }}) as order_status,
        upper({{ clean_text('currency') }}) as currency,
        {{ to_money('total') }} as order_total,
        items,
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
        count(*) over (partition by order_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by order_id
            order by _partition desc, _file desc, _line desc
        ) = 1
),

converted as (
    select
        deduplicated.order_id,
        deduplicated.crm_id,
        deduplicated.user_id,
        deduplicated.email,
        deduplicated.email_normalized,
        deduplicated.ordered_at,
        deduplicated.ordered_at_utc_offset_minutes,
        deduplicated.order_status,
        deduplicated.currency,
        deduplicated.order_total,
        {{ to_reporting_currency('deduplicated.order_total', 'rates') }} as order_total_reporting,
        upper('{{ var("reporting_currency") }}') as reporting_currency,
        cast(json_array_length(deduplicated.items) as integer) as line_count,
        deduplicated.items,
        deduplicated.extra,
        deduplicated.delivery_count,
        deduplicated._file,
        deduplicated._line,
        deduplicated._partition,
        deduplicated._loaded_at
    from deduplicated
    left join rates
        on {{ currency_rate_join('rates', 'deduplicated.currency', 'deduplicated.ordered_at') }}
)

select * from converted
