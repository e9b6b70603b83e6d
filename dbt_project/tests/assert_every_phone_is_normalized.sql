-- An asset check on stg_phones__normalized in Dagster (dagster-dbt reads meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'stg_phones__normalized'}}}) }}

-- Every phone a staging model carries found its row in stg_phones__normalized, i.e. the
-- (phone, hint) pairs of stg_phones__candidates and of the staging models agree.
{%- set phone_columns = [
    ('stg_crm__customers', 'phone', 'phone_country_hint'),
    ('stg_consent__records', 'phone', 'phone_country_hint'),
    ('stg_privacy__requests', 'phone', 'phone_country_hint'),
    ('stg_privacy__requests', 'corrected_phone', 'phone_country_hint'),
    ('stg_events__messages', 'traits_phone', 'traits_phone_country_hint'),
] %}

with

phones as (
    select * from {{ ref('stg_phones__normalized') }}
),

staged_phones as (
    {%- for model, phone, hint in phone_columns %}
    select
        '{{ model }}.{{ phone }}' as staged_column,
        {{ phone }} as phone_raw,
        {{ hint }} as country_hint
    from {{ ref(model) }}
    where {{ phone }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select staged_phones.*
from staged_phones
left join phones
    on {{ phone_join('phones', 'staged_phones.phone_raw', 'staged_phones.country_hint') }}
where phones.phone_raw is null
