-- One row per order line (order_id, line_number) of the order's latest delivery, with
-- amounts in var('reporting_currency') at the order date.
with

orders as (
    select * from {{ ref('stg_orders__orders') }}
),

rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

unnested as (
    select
        orders.order_id,
        cast(items.key as integer) + 1 as line_number,
        {{ clean_text("json_extract_string(items.value, '$.product_id')") }} as product_id,
        {{ to_integer("json_extract_string(items.value, '$.quantity')") }} as quantity,
        {{ to_money("json_extract_string(items.value, '$.unit_price')") }} as unit_price,
        orders.currency,
        orders.ordered_at,
        orders.order_status,
        orders._file,
        orders._line,
        orders._partition
    from orders
    cross join json_each(orders.items) as items
),

converted as (
    select
        unnested.order_id || '-' || cast(unnested.line_number as varchar) as order_item_id,
        unnested.order_id,
        unnested.line_number,
        unnested.product_id,
        unnested.quantity,
        unnested.unit_price,
        cast(unnested.quantity * unnested.unit_price as decimal(18, 4)) as line_amount,
        unnested.currency,
        {{ to_reporting_currency('unnested.unit_price', 'rates') }} as unit_price_reporting,
        {{ to_reporting_currency('unnested.quantity * unnested.unit_price', 'rates') }}
            as line_amount_reporting,
        upper('{{ var("reporting_currency") }}') as reporting_currency,
        unnested.ordered_at,
        unnested.order_status,
        unnested._file,
        unnested._line,
        unnested._partition
    from unnested
    left join rates
        on {{ currency_rate_join('rates', 'unnested.currency', 'unnested.ordered_at') }}
)

select * from converted
