-- One row per way of writing a country (code, name or alias), reduced for matching.
with

countries as (
    select * from {{ ref('country_codes') }}
),

written_forms as (
    select
        iso2,
        iso3,
        country_name,
        default_jurisdiction,
        unnest(
            list_concat(
                [iso2, iso3, country_name],
                coalesce(string_split(aliases, '|'), [])
            )
        ) as written_as
    from countries
),

keyed as (
    select distinct
        {{ country_key('written_as') }} as country_key,
        upper(iso2) as country_code,
        upper(iso3) as country_code_iso3,
        country_name,
        default_jurisdiction
    from written_forms
    where {{ country_key('written_as') }} is not null
)

select * from keyed
