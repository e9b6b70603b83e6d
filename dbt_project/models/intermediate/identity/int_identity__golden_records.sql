-- One row per customer (customer_id) with a golden value for each person attribute and
-- the source it came from. Survivorship: the most trusted source first
-- (var('identity_source_trust'): CRM, then identify calls, then consent records), then
-- the most recently observed non-NULL value, then the smallest record id. Personal data:
-- internal to the warehouse; dim_customers publishes only non-identifying and hashed
-- attributes.
{%- set trust = var('identity_source_trust') %}
{%- set attributes = [
    'email', 'phone', 'first_name', 'last_name', 'birth_date', 'gender',
    'country_code', 'city', 'jurisdiction', 'job_title', 'company',
] %}

with

record_customers as (
    select * from {{ ref('int_identity__record_customers') }}
    where is_attributed
),

crm as (
    select * from {{ ref('stg_crm__customers') }}
),

identifies as (
    select * from {{ ref('stg_events__identifies') }}
),

consent as (
    select * from {{ ref('stg_consent__records') }}
),

crm_values as (
    select
        'crm' as source,
        crm_id as record_id,
        coalesce(updated_at, created_at) as observed_at,
        email_normalized as email,
        phone_e164 as phone,
        first_name,
        last_name,
        cast(birth_date as varchar) as birth_date,
        gender,
        country_code,
        city,
        jurisdiction,
        job_title,
        company
    from crm
),

identify_values as (
    select
        'events.identify' as source,
        message_id as record_id,
        event_at as observed_at,
        email_normalized as email,
        phone_e164 as phone,
        first_name,
        last_name,
        cast(null as varchar) as birth_date,
        cast(null as varchar) as gender,
        cast(null as varchar) as country_code,
        cast(null as varchar) as city,
        cast(null as varchar) as jurisdiction,
        job_title,
        company_name as company
    from identifies
),

consent_values as (
    select
        'consent' as source,
        consent_id as record_id,
        recorded_at as observed_at,
        email_normalized as email,
        phone_e164 as phone,
        cast(null as varchar) as first_name,
        cast(null as varchar) as last_name,
        cast(null as varchar) as birth_date,
        cast(null as varchar) as gender,
        cast(null as varchar) as country_code,
        cast(null as varchar) as city,
        jurisdiction,
        cast(null as varchar) as job_title,
        cast(null as varchar) as company
    from consent
),

source_values as (
    select * from crm_values
    union all
    select * from identify_values
    union all
    select * from consent_values
),

long_values as (
    select
        record_customers.customer_id,
        source_values.source,
        source_values.record_id,
        source_values.observed_at,
        attributes.attribute.name as attribute_name,
        attributes.attribute.value as attribute_value
    from source_values
    inner join record_customers
        on
            source_values.source = record_customers.source
            and source_values.record_id = record_customers.record_id
    cross join
        unnest([
            {%- for attribute in attributes %}
            { 'name': '{{ attribute }}', 'value': source_values.{{ attribute }} }
            {{- "," if not loop.last }}
            {%- endfor %}
        ]) as attributes (attribute)
    where attributes.attribute.value is not null
),

survivors as (
    select * from long_values
    qualify row_number() over (
            partition by customer_id, attribute_name
            order by
                case source
                    {%- for source in trust %}
                    when '{{ source }}' then {{ loop.index }}
                    {%- endfor %}
                end,
                observed_at desc nulls last,
                record_id asc
        ) = 1
),

golden as (
    select
        customer_id,
        {%- for attribute in attributes %}
        max(attribute_value) filter (where attribute_name = '{{ attribute }}') as {{ attribute }},
        max(source) filter (where attribute_name = '{{ attribute }}') as {{ attribute }}_source,
        {%- endfor %}
        count(distinct source || '|' || record_id) as contributing_records
    from survivors
    group by customer_id
)

select * from golden
