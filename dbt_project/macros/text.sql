{#- Small text helpers used by every staging model. -#}

{#- Trimmed text, NULL when empty or only white space (JSON sources deliver '' for "none"). -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- An identifier as text: trimmed, NULL when blank or a placeholder such as '-'. -#}
{% macro clean_identifier(column) -%}
    case when trim({{ column }}) in ('', '-') then null else trim({{ column }}) end
{%- endmacro %}

{#- A number as DOUBLE (NULL when blank; the loader has already refused non-numbers). -#}
{% macro to_double(column) -%}
    try_cast(nullif(trim({{ column }}), '') as double)
{%- endmacro %}

{#- Money as DECIMAL(18, 4): exact sums, enough precision for any currency. -#}
{% macro to_money(column) -%}
    try_cast(nullif(trim({{ column }}), '') as decimal(18, 4))
{%- endmacro %}

{#- A whole number (a score, a count) as INTEGER; '4.0' is 4, '4.5' is NULL. -#}
{% macro to_integer(column) -%}
    case
        when try_cast(nullif(trim({{ column }}), '') as double)
            = floor(try_cast(nullif(trim({{ column }}), '') as double))
            then cast(try_cast(nullif(trim({{ column }}), '') as double) as integer)
    end
{%- endmacro %}

{#- true/false written in any of the usual ways; NULL when unknown. -#}
{% macro to_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', 't', 'yes', 'y', '1') then true
        when lower(trim({{ column }})) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
