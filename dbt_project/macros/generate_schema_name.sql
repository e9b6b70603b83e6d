{#-
    Custom schemas are used as written: `+schema: staging` gives the schema `staging`,
    not dbt's default `<target_schema>_staging` (`main_staging`). Models without a custom
    schema land in the target's schema (`main`).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
