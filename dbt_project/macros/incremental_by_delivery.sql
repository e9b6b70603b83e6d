{#-
    Incremental staging by delivery: a model over one raw source processes only what
    became visible since its last build — new, re-delivered, released or withdrawn
    deliveries, by their load — and equals a full rebuild (docs/staging.md, "Incremental
    staging").

    The model records which loads it has processed (schema `incremental`, table
    `<model>__loads`: one row per delivery date and load). Each incremental build:
      1. changed delivery dates = visible loads it has not processed, and processed loads
         no longer visible (a reload replaced them, a hold hid them, a withdrawal removed
         them);
      2. affected keys = the keys of the visible rows of those dates, and the keys whose
         rows in the model came from one of those dates (column `delivery_partitions`:
         every delivery date a key was delivered on, so a key whose only other delivery
         vanished is found too);
      3. the model's rows of the affected keys are deleted, and the model's SQL recomputes
         those keys from every visible row that has them (so deduplication across days —
         the earliest receipt, the latest delivery — sees all of a key's deliveries);
      4. the loads now visible are recorded.
    A failed build records nothing, so the next one redoes the same work. A full refresh
    (or a first build) computes everything and records every visible load.

    In a model that deduplicates a key across delivery dates (stg_events__messages):
        pre_hook=["{{ delivery_increment_prepare('events', 'message_id', 'trim(message_id)') }}",
                  "{{ delivery_increment_delete('message_id') }}"],
        post_hook="{{ delivery_increment_record('events') }}"
        ... where trim(message_id) in {{ delivery_increment_keys('message_id') }}
    and a column `delivery_partitions` (the dates of all of a key's deliveries). In a model
    whose rows belong to their delivery date alone (stg_web_access__requests):
        pre_hook=["{{ delivery_increment_prepare('web_access') }}",
                  "{{ delivery_increment_delete() }}"], post_hook as above
        ... where _partition in {{ delivery_increment_dates() }}
-#}

{% macro delivery_increment_relation(suffix) -%}
    incremental.{{ this.identifier }}__{{ suffix }}
{%- endmacro %}

{% macro visible_loads_sql(source_table) -%}
    select delivery_date as _partition, loaded_at as _loaded_at
    from state.delivery_status
    where source = '{{ source_table }}' and status in ('accepted', 'released')
{%- endmacro %}

{% macro delivery_increment_prepare(source_table, key=none, raw_key=none) -%}
    {#- With `key`: the affected keys too (models that deduplicate across days). -#}
    {%- if is_incremental() %}
    create schema if not exists incremental;
    create table if not exists {{ delivery_increment_relation('loads') }}
        (_partition date, _loaded_at timestamp with time zone);
    create or replace table {{ delivery_increment_relation('changed') }} as
    with

    visible_loads as (
        {{ visible_loads_sql(source_table) }}
    ),

    processed_loads as (
        select _partition, _loaded_at from {{ delivery_increment_relation('loads') }}
    ),

    new_or_gone as (
        (select * from visible_loads except select * from processed_loads)
        union all
        (select * from processed_loads except select * from visible_loads)
    )

    select distinct _partition from new_or_gone;
    {%- if key is not none %}
    create or replace table {{ delivery_increment_relation('affected') }} as
    select {{ raw_key }} as {{ key }}
    from {{ source('raw', source_table) }}
    where _partition in (select _partition from {{ delivery_increment_relation('changed') }})
    union
    select {{ key }}
    from {{ this }}
    where list_has_any(
        delivery_partitions,
        (select coalesce(list(_partition), []) from {{ delivery_increment_relation('changed') }})
    );
    {%- endif %}
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}

{% macro delivery_increment_delete(key=none) -%}
    {#- The rows to recompute: of the affected keys, or (no key: rows belong to their
        delivery date alone) of the changed dates. -#}
    {%- if is_incremental() and key is not none %}
    delete from {{ this }}
    where {{ key }} in (select {{ key }} from {{ delivery_increment_relation('affected') }})
    {%- elif is_incremental() %}
    delete from {{ this }}
    where _partition in (select _partition from {{ delivery_increment_relation('changed') }})
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}

{% macro delivery_increment_keys(key) -%}
    (select {{ key }} from {{ delivery_increment_relation('affected') }})
{%- endmacro %}

{% macro delivery_increment_dates() -%}
    (select _partition from {{ delivery_increment_relation('changed') }})
{%- endmacro %}

{% macro delivery_increment_record(source_table) -%}
    create schema if not exists incremental;
    create or replace table {{ delivery_increment_relation('loads') }} as
    {{ visible_loads_sql(source_table) }};
    drop table if exists {{ delivery_increment_relation('affected') }};
    drop table if exists {{ delivery_increment_relation('changed') }}
{%- endmacro %}
