{#- How a country is written, reduced for matching: accents, dots, case and spaces ignored. -#}
{% macro country_key(column) -%}
    nullif(lower(strip_accents(regexp_replace(replace(trim({{ column }}), '.', ''), '\s+', ' ', 'g'))), '')
{%- endmacro %}

{#- The UTC calendar date of a timestamptz (independent of the session time zone). -#}
{% macro utc_date(column) -%}
    cast(timezone('UTC', {{ column }}) as date)
{%- endmacro %}

{#-
    `amount` in var('reporting_currency'), given the row of stg_reference__currency_rates
    (aliased `rates_alias`) valid on the transaction day. NULL when the currency has no rate.
-#}
{% macro to_reporting_currency(amount, rates_alias='rates') -%}
    cast({{ amount }} * {{ rates_alias }}.rate_to_reporting as decimal(18, 4))
{%- endmacro %}

{#- Join condition: the rate of `currency_column` valid on the UTC day of `at_column`. -#}
{% macro currency_rate_join(rates_alias, currency_column, at_column) -%}
    {{ rates_alias }}.currency_code = upper(trim({{ currency_column }}))
    and {{ utc_date(at_column) }} >= {{ rates_alias }}.valid_from
    and {{ utc_date(at_column) }} < {{ rates_alias }}.valid_to
{%- endmacro %}
