{#-
    Phones are normalised once per distinct (phone as written, region hint) pair by the
    Python model stg_phones__normalized (library: phonenumbers). Every staging model that
    carries a phone computes the same pair with these macros and joins on it, so the hint
    rules live here and in stg_phones__candidates only.
-#}

{#- The phone as written, trimmed; NULL when blank. This is the join key `phone_raw`. -#}
{% macro phone_raw(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#-
    Region hint from a privacy jurisdiction: LGPD is Brazil, CCPA is the United States;
    GDPR spans many countries, so no hint (numbers written with + or 00 still parse).
-#}
{% macro phone_hint_from_jurisdiction(column) -%}
    case upper(trim({{ column }}))
        when 'LGPD' then 'BR'
        when 'CCPA' then 'US'
    end
{%- endmacro %}

{#- Region hint from a locale such as 'es-ES' or 'pt_BR' (the region part, upper case). -#}
{% macro phone_hint_from_locale(column) -%}
    case
        when regexp_matches(trim({{ column }}), '^[A-Za-z]{2,3}[-_][A-Za-z]{2}$')
            then upper(right(trim({{ column }}), 2))
    end
{%- endmacro %}

{#- Join condition to stg_phones__normalized (aliased `alias`) for a (phone, hint) pair. -#}
{% macro phone_join(alias, phone_column, hint_column) -%}
    {{ alias }}.phone_raw = {{ phone_column }}
    and {{ alias }}.country_hint is not distinct from {{ hint_column }}
{%- endmacro %}

{#-
    Pre-hook of the incremental stg_phones__normalized: its rows whose pair is no longer a
    candidate (the records that carried it were withdrawn, held or erased) are deleted, so
    the table holds exactly the candidates, as a full rebuild does. NULL-safe on the hint.
-#}
{% macro phones_delete_stale_pairs() -%}
    {%- if is_incremental() %}
    delete from {{ this }} as parsed
    where not exists (
        select 1
        from {{ ref('stg_phones__candidates') }} as candidates
        where {{ phone_join('parsed', 'candidates.phone_raw', 'candidates.country_hint') }}
    )
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}
