-- One row per product ever delivered: its row in the latest catalogue snapshot that holds
-- it (latest _partition, then the last _file / _line), with the price in
-- var('reporting_currency') at that snapshot's date.
with

source as (
    select * from {{ source('raw', 'products') }}
),

rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

renamed as (
    select
        trim(product_id) as product_id,
        {{ clean_text('name') }} as product_name,
        {{ clean_text('category') }} as category,
        {{ clean_text('brand') }} as brand,
        {{ to_money('price') }} as price,
        upper({{ clean_text('currency') }}) as currency,
        {{ to_boolean('active') }} as is_active,
        _file,
        _line,
        _partition,
        _loaded_at
    from source
),

deduplicated as (
    select
        *,
        min(_partition) over (partition by product_id) as first_seen_partition,
        _partition = max(_partition) over () as is_in_latest_snapshot,
        count(*) over (partition by product_id) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by product_id
            order by _partition desc, _file desc, _line desc
        ) = 1
),

converted as (
    select
        deduplicated.product_id,
        deduplicated.product_name,
        deduplicated.category,
        deduplicated.brand,
        deduplicated.price,
        deduplicated.currency,
        {{ to_reporting_currency('deduplicated.price', 'rates') }} as price_reporting,
        upper('{{ var("reporting_currency") }}') as reporting_currency,
        deduplicated.is_active,
        deduplicated.is_in_latest_snapshot,
        deduplicated.first_seen_partition,
        deduplicated._partition as last_seen_partition,
        deduplicated.delivery_count,
        deduplicated._file,
        deduplicated._line,
        deduplicated._partition,
        deduplicated._loaded_at
    from deduplicated
    left join rates
        on
            deduplicated.currency = rates.currency_code
            and deduplicated._partition >= rates.valid_from
            and deduplicated._partition < rates.valid_to
)

select * from converted
