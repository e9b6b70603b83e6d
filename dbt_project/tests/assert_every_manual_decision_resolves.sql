-- An asset check on int_identity__manual_decisions in Dagster (dagster-dbt reads
-- meta.dagster.ref). A warning, never a failure: the decision is simply not applied.
{{ config(
    severity='warn',
    meta={'dagster': {'ref': {'name': 'int_identity__manual_decisions'}}},
) }}

-- Every steward decision of the seed identity_manual_decisions names identifiers the graph
-- has: a pseudonym no identifier has under tonight's key — the subject was erased, the
-- pseudonym was mistyped, or the seed was written under another key (after a key rotation
-- run `cdw pseudonyms rekey-decisions`, docs/privacy.md) — leaves the decision out.
-- Returns the decision ids only.
select trim(decisions.decision_id) as decision_id
from {{ ref('identity_manual_decisions') }} as decisions
anti join {{ ref('int_identity__manual_decisions') }} as resolved
    on trim(decisions.decision_id) = resolved.decision_id
