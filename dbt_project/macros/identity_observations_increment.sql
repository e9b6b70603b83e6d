{#-
    int_identity__observations, incremental (docs/identity.md, "Observations from new
    records only"). Of its sources only the events and the access log grow with history;
    the others are a few rows a customer and are recomputed every build. Each build:

      1. changed delivery dates of `events` and `web_access` = visible loads the model has
         not processed, and processed loads no longer visible (incremental_by_delivery.sql's
         rule, with the model's own bookkeeping `incremental.<model>__loads`);
      2. affected records = staging records delivered on a changed date (their
         `delivery_partitions`) and records whose observations came from one (the same
         column, kept on each observation), so a record whose delivery vanished is found
         too; plus every alias call, whose previousId is typed by the user ids of all
         messages;
      3. the observations of the affected records and of the small sources are deleted and
         the model's SQL recomputes them from staging (`identity_observations_records`);
      4. the loads now visible are recorded.
    A full refresh (or a first build) computes everything and records every visible load.
-#}

{% macro identity_observations_prepare() -%}
    {%- if is_incremental() %}
    {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    {%- if 'delivery_partitions' not in existing %}
    {#- A warehouse built before the model was incremental: nothing is recorded, so every
        load counts as changed and every record is recomputed. #}
    alter table {{ this }} add column delivery_partitions date[];
    {%- endif %}
    create schema if not exists incremental;
    create table if not exists {{ delivery_increment_relation('loads') }}
        (source varchar, _partition date, _loaded_at timestamp with time zone);
    create or replace table {{ delivery_increment_relation('changed') }} as
    with

    visible_loads as (
        select 'events' as source, * from ({{ visible_loads_sql('events') }})
        union all
        select 'web_access' as source, * from ({{ visible_loads_sql('web_access') }})
    ),

    processed_loads as (
        select source, _partition, _loaded_at from {{ delivery_increment_relation('loads') }}
    ),

    new_or_gone as (
        (select * from visible_loads except select * from processed_loads)
        union all
        (select * from processed_loads except select * from visible_loads)
    )

    select
        coalesce(list(distinct _partition) filter (where source = 'events'), [])
            as events_dates,
        coalesce(list(distinct _partition) filter (where source = 'web_access'), [])
            as web_access_dates
    from new_or_gone;

    create or replace table {{ delivery_increment_relation('affected') }} as
    with

    changed as (
        select * from {{ delivery_increment_relation('changed') }}
    )

    select 'events' as source_family, message_id as record_id
    from {{ ref('stg_events__messages') }}, changed
    where list_has_any(delivery_partitions, changed.events_dates) or message_type = 'alias'
    union
    select 'events', record_id
    from {{ this }}, changed
    where source like 'events.%' and list_has_any(delivery_partitions, changed.events_dates)
    union
    select 'web_access', request_id
    from {{ ref('stg_web_access__requests') }}, changed
    where list_contains(changed.web_access_dates, _partition)
    union
    select 'web_access', record_id
    from {{ this }}, changed
    where source = 'web_access' and list_has_any(delivery_partitions, changed.web_access_dates);

    delete from {{ this }}
    where
        source not like 'events.%' and source <> 'web_access'
        or source = 'events.alias'
        or source like 'events.%' and record_id in (
            select record_id from {{ delivery_increment_relation('affected') }}
            where source_family = 'events'
        )
        or source = 'web_access' and record_id in (
            select record_id from {{ delivery_increment_relation('affected') }}
            where source_family = 'web_access'
        )
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}

{% macro identity_observations_records(source_family) -%}
    {#- The condition on a grown source's records: every record on a full build, the
        affected ones on an incremental build. -#}
    {%- if is_incremental() -%}
    ({{ 'message_id' if source_family == 'events' else 'request_id' }}) in (
        select record_id from {{ delivery_increment_relation('affected') }}
        where source_family = '{{ source_family }}'
    )
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{% macro identity_observations_record() -%}
    create schema if not exists incremental;
    create or replace table {{ delivery_increment_relation('loads') }} as
    select 'events' as source, * from ({{ visible_loads_sql('events') }})
    union all
    select 'web_access' as source, * from ({{ visible_loads_sql('web_access') }});
    drop table if exists {{ delivery_increment_relation('affected') }};
    drop table if exists {{ delivery_increment_relation('changed') }}
{%- endmacro %}
