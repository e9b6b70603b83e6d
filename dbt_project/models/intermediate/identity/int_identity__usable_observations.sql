{{ config(materialized='view') }}

-- One row per observation (source, record_id, identifier) whose identifier is not
-- blocklisted junk (int_identity__blocked_identifiers): what the edges and the
-- shared-device guard may use. A view: nothing stored twice.
with

observations as (
    select * from {{ ref('int_identity__observations') }}
),

blocked as (
    select * from {{ ref('int_identity__blocked_identifiers') }}
),

usable as (
    select observations.*
    from observations
    anti join blocked
        on
            observations.identifier_type || ':' || observations.identifier_value
            = blocked.identifier_key
)

select * from usable
