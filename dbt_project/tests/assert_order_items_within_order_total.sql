{{ config(severity='warn') }}
-- The order lines of an order never add up to more than its total (the total may be
-- larger: shipping, fees). A warning: real shops have discounts on the total.
with

items as (
    select
        order_id,
        sum(line_amount) as items_amount
    from {{ ref('stg_orders__order_items') }}
    group by 1
),

orders as (
    select * from {{ ref('stg_orders__orders') }}
)

select
    orders.order_id,
    orders.order_total,
    items.items_amount
from orders
inner join items
    on orders.order_id = items.order_id
where items.items_amount > orders.order_total + 0.01
