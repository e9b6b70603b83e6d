-- An asset check on stg_events__messages in Dagster (dagster-dbt reads meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'stg_events__messages'}}}) }}

-- Deduplication removes repeated deliveries only: every messageId in raw.events is in
-- stg_events__messages exactly once, and delivery counts add up to the raw rows.
with

raw_messages as (
    select
        trim(message_id) as message_id,
        count(*) as raw_rows
    from {{ source('raw', 'events') }}
    group by 1
),

staged as (
    select * from {{ ref('stg_events__messages') }}
)

select
    raw_messages.message_id,
    raw_messages.raw_rows,
    staged.delivery_count
from raw_messages
left join staged
    on raw_messages.message_id = staged.message_id
where staged.message_id is null or staged.delivery_count != raw_messages.raw_rows
