-- An asset check on stg_orders__orders in Dagster (dagster-dbt reads meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'stg_orders__orders'}}}) }}

-- Revenue is summed in the reporting currency: an order whose currency the rates seed
-- knows must convert. A missing rate for its date, or a broken join, would drop it from
-- every revenue figure. (An unknown currency is NULL on purpose, and warned about by the
-- raw gate.)
with

orders as (
    select * from {{ ref('stg_orders__orders') }}
),

known_currencies as (
    select distinct currency_code from {{ ref('stg_reference__currency_rates') }}
)

select
    orders.order_id,
    orders.currency
from orders
inner join known_currencies
    on orders.currency = known_currencies.currency_code
where
    orders.order_total is not null
    and orders.order_total_reporting is null
