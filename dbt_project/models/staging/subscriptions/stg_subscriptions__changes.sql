-- One row per subscription plan change (subscription_id, changed_at, change_type); a
-- change delivered twice keeps its latest delivery. MRR also in var('reporting_currency').
with

source as (
    select * from {{ source('raw', 'subscriptions') }}
),

rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

renamed as (
    select
        trim(subscription_id) as subscription_id,
        {{ clean_identifier('crm_id') }} as crm_id,
        {{ clean_identifier('user_id') }} as user_id,
        {{ clean_text('email') }} as email,
        {{ normalize_email('email') }} as email_normalized,
        lower({{ clean_text('plan') }}) as plan,
        lower({{ clean_text('change') }}) as change_type,
        {{ parse_iso_timestamp('changed_at') }} as changed_at,
        {{ iso_utc_offset_minutes('changed_at') }} as changed_at_utc_offset_minutes,
        {{ to_money('mrr') }} as mrr,
        upper({{ clean_text('currency') }}) as currency,
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
        count(*) over (partition by subscription_id, changed_at, change_type) as delivery_count
    from renamed
    qualify
        row_number() over (
            partition by subscription_id, changed_at, change_type
            order by _partition desc, _file desc, _line desc
        ) = 1
),

converted as (
    select
        md5(
            deduplicated.subscription_id
            || '|' || coalesce(cast(deduplicated.changed_at as varchar), '')
            || '|' || coalesce(deduplicated.change_type, '')
        ) as subscription_change_id,
        deduplicated.subscription_id,
        deduplicated.crm_id,
        deduplicated.user_id,
        deduplicated.email,
        deduplicated.email_normalized,
        deduplicated.plan,
        deduplicated.change_type,
        deduplicated.changed_at,
        deduplicated.changed_at_utc_offset_minutes,
        deduplicated.mrr,
        deduplicated.currency,
        {{ to_reporting_currency('deduplicated.mrr', 'rates') }} as mrr_reporting,
        upper('{{ var("reporting_currency") }}') as reporting_currency,
        deduplicated.extra,
        deduplicated.delivery_count,
        deduplicated._file,
        deduplicated._line,
        deduplicated._partition,
        deduplicated._loaded_at
    from deduplicated
    left join rates
        on {{ currency_rate_join('rates', 'deduplicated.currency', 'deduplicated.changed_at') }}
)

select * from converted
