-- Every fuzzy-match edge joins two different CRM records, oriented a < b (one row per
-- pair), like int_identity__edges. Returns the offending rows.
select
    identifier_key_a,
    identifier_key_b
from {{ ref('int_identity__match_edges') }}
where identifier_key_a >= identifier_key_b
