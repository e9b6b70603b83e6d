{#- Generic test: no timestamp is lost in staging. For every staged row (joined to its raw
    row on _file/_line), a timestamp raw holds is not NULL in the staged column.
    `columns` maps raw column → staged column. One failing row per lost value. -#}
{% test timestamps_kept(model, source_table, columns) %}
{%- for raw_column, staged_column in columns.items() %}
    select
        '{{ staged_column }}' as staged_column,
        raw_rows._file,
        raw_rows._line
    from {{ source('raw', source_table) }} as raw_rows
    inner join {{ model }} as staged
        on
            raw_rows._file = staged._file
            and raw_rows._line = staged._line
    where
        nullif(trim(raw_rows.{{ raw_column }}), '') is not null
        and staged.{{ staged_column }} is null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endtest %}
