{#- Keyed pseudonyms (docs/privacy.md): HMAC-SHA-256 with the secret CDW_PSEUDONYM_KEY, hex.
    The function cdw_pseudonym() is Python (privacy/pseudonyms.py), defined on dbt's
    connection by the dbt-duckdb plugin privacy.dbt_plugin (profiles.yml). It exists only in
    that connection, so a view calling it could not be read anywhere else: tables only. -#}
{% macro pseudonym(expression) -%}
    {%- if model is defined and model is mapping and model.get('config', {}).get('materialized') == 'view' -%}
        {{ exceptions.raise_compiler_error(
            "pseudonym() in the view " ~ model.name ~ ": the function exists only in dbt's "
            ~ "connection; materialize the model as a table"
        ) }}
    {%- endif -%}
    cdw_pseudonym({{ expression }})
{%- endmacro %}

{#- The pseudonym of an identifier of the identity graph: of its identifier key
    '<identifier_type>:<normalised value>' (int_identity__identifiers), so the same
    identifier has the same pseudonym in every mart. -#}
{% macro identifier_pseudonym(identifier_type, normalised_value) -%}
    {{ pseudonym("'" ~ identifier_type ~ ":' || " ~ normalised_value) }}
{%- endmacro %}
