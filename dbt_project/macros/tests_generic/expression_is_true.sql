{#- Generic test: every row of the model satisfies the boolean SQL `expression`; the rows
    that do not are the failures. For rules across columns of one row. -#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
