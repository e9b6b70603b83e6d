-- The business term "conversion" is defined once, in var('conversion_events'); the
-- event_taxonomy seed's is_conversion column must say the same thing.
-- Fails with one row per disagreeing event name.
with

taxonomy as (
    select * from {{ ref('event_taxonomy') }}
),

conversion_events as (
    select unnest([
        {%- for event in var('conversion_events') %}
        '{{ event }}'{{ "," if not loop.last }}
        {%- endfor %}
    ]) as event_name
),

compared as (
    select
        coalesce(taxonomy.event_name, conversion_events.event_name) as event_name,
        coalesce(taxonomy.is_conversion, false) as seed_says,
        conversion_events.event_name is not null as var_says
    from taxonomy
    full outer join conversion_events
        on taxonomy.event_name = conversion_events.event_name
)

select * from compared
where seed_says != var_says
