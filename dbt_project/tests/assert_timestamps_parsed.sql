-- No timestamp is lost in staging: for every kept row, a timestamp that raw holds (the
-- loader validated it) is not NULL in staging. One row per lost value.
{%- set checks = [
    ('events', 'stg_events__messages', [('timestamp', 'event_at'), ('original_timestamp', 'original_event_at'), ('sent_at', 'sent_at'), ('received_at', 'received_at')]),
    ('crm_customers', 'stg_crm__customers', [('created_at', 'created_at'), ('updated_at', 'updated_at')]),
    ('orders', 'stg_orders__orders', [('ordered_at', 'ordered_at')]),
    ('subscriptions', 'stg_subscriptions__changes', [('changed_at', 'changed_at')]),
    ('support_tickets', 'stg_support__tickets', [('created_at', 'created_at'), ('first_response_at', 'first_response_at'), ('resolved_at', 'resolved_at')]),
    ('surveys', 'stg_surveys__responses', [('submitted_at', 'submitted_at')]),
    ('reviews', 'stg_reviews__reviews', [('created_at', 'created_at')]),
    ('social', 'stg_social__interactions', [('created_at', 'created_at')]),
    ('consent', 'stg_consent__records', [('recorded_at', 'recorded_at')]),
    ('privacy_requests', 'stg_privacy__requests', [('received_at', 'received_at')]),
    ('web_access', 'stg_web_access__requests', [('request_time', 'requested_at')]),
] %}

{%- for source_table, model, columns in checks %}
{%- for raw_column, staged_column in columns %}
select
    '{{ model }}.{{ staged_column }}' as staged_column,
    raw_rows._file,
    raw_rows._line,
    raw_rows.{{ raw_column }} as raw_value
from {{ source('raw', source_table) }} as raw_rows
inner join {{ ref(model) }} as staged
    on
        raw_rows._file = staged._file
        and raw_rows._line = staged._line
where
    nullif(trim(raw_rows.{{ raw_column }}), '') is not null
    and staged.{{ staged_column }} is null
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
