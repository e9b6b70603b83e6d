-- One row per currency and validity period: its rate to var('reporting_currency').
with

rates as (
    select
        upper(trim(currency)) as currency_code,
        rate_to_eur,
        valid_from
    from {{ ref('currency_rates') }}
),

reporting_rates as (
    select * from rates
    where currency_code = upper('{{ var("reporting_currency") }}')
),

-- Each currency's rate to the reporting currency changes when either rate changes.
boundaries as (
    select
        currency_code,
        valid_from
    from rates

    union

    select
        currencies.currency_code,
        reporting_rates.valid_from
    from (select distinct currency_code from rates) as currencies
    cross join reporting_rates
),

periods as (
    select
        boundaries.currency_code,
        boundaries.valid_from,
        currency_rates.rate_to_eur,
        reporting_rates.rate_to_eur as reporting_rate_to_eur
    from boundaries
    asof inner join rates as currency_rates
        on
            boundaries.currency_code = currency_rates.currency_code
            and boundaries.valid_from >= currency_rates.valid_from
    asof inner join reporting_rates
        on boundaries.valid_from >= reporting_rates.valid_from
),

final as (
    select
        currency_code,
        valid_from,
        coalesce(
            lead(valid_from) over (partition by currency_code order by valid_from),
            date '9999-12-31'
        ) as valid_to,
        rate_to_eur,
        upper('{{ var("reporting_currency") }}') as reporting_currency,
        -- rounded so that cross rates are exact to 10 decimals (no 1.4999999999999998)
        round(rate_to_eur / reporting_rate_to_eur, 10) as rate_to_reporting
    from periods
)

select * from final
