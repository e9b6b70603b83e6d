-- History, so state (docs/pipeline.md "State"): in schema `state`, and never rebuilt by a
-- full refresh (each change keeps the evidence of the run that saw it).
{{ config(
    materialized='incremental',
    unique_key='cluster_change_id',
    schema='state',
    full_refresh=false,
) }}

-- One row per move of identifiers between customers at one snapshot (changed_at,
-- from_customer_id, to_customer_id): what joined what, when, on which evidence. Read from
-- the membership history (snp_identity__memberships); incremental, so each change keeps
-- the evidence of the run that saw it.
--
-- change_kind: merge (the target gathers identifiers from two or more customers, or from
-- one into an existing customer: the younger customer_id retires), split (one customer's
-- identifiers now go to two or more customers), rekey (a whole cluster took a new key,
-- e.g. an identifier seen earlier arrived late), key_rotation (a whole cluster got a new
-- customer_id with its cluster key unchanged: the pseudonym key changed, docs/privacy.md),
-- removed (identifiers left the graph: erased or blocklisted). guards: the guards acting on the origin customer's identifiers,
-- i.e. why a split happened.
with

memberships as (
    select * from {{ ref('snp_identity__memberships') }}
),

edges as (
    select * from {{ ref('int_identity__edges') }}
),

components as (
    select * from {{ ref('int_identity__components') }}
),

versions as (
    select
        identifier_key,
        customer_id,
        component_key,
        dbt_valid_from,
        dbt_valid_to,
        lag(customer_id) over (
            partition by identifier_key order by dbt_valid_from
        ) as previous_customer_id,
        lag(component_key) over (
            partition by identifier_key order by dbt_valid_from
        ) as previous_component_key,
        lead(dbt_valid_from) over (
            partition by identifier_key order by dbt_valid_from
        ) as next_valid_from
    from memberships
),

moves as (
    -- an identifier whose customer changed, or that left the graph
    select
        identifier_key,
        dbt_valid_from as changed_at,
        previous_customer_id as from_customer_id,
        customer_id as to_customer_id,
        -- same cluster key, another customer_id: only the pseudonym key can do that
        previous_component_key is not distinct from component_key as kept_cluster_key
    from versions
    where previous_customer_id is not null and previous_customer_id != customer_id
    union all
    select
        identifier_key,
        dbt_valid_to as changed_at,
        customer_id as from_customer_id,
        cast(null as varchar) as to_customer_id,
        false as kept_cluster_key
    from versions
    where dbt_valid_to is not null and next_valid_from is null
),

{% if is_incremental() %}
new_moves as (
    select * from moves
    where
        changed_at > (
            select coalesce(max(existing.changed_at), cast('-infinity' as timestamp))
            from {{ this }} as existing
        )
),
{% else %}
new_moves as (
    select * from moves
),
{% endif %}

members_at as (
    -- every identifier's customer just after each change time
    select distinct
        change_times.changed_at,
        versions.identifier_key,
        versions.customer_id
    from (select distinct changed_at from new_moves) as change_times
    inner join versions
        on
            change_times.changed_at >= versions.dbt_valid_from
            and (versions.dbt_valid_to is null or change_times.changed_at < versions.dbt_valid_to)
),

members_before as (
    select distinct
        change_times.changed_at,
        versions.identifier_key,
        versions.customer_id
    from (select distinct changed_at from new_moves) as change_times
    inner join versions
        on
            change_times.changed_at > versions.dbt_valid_from
            and (versions.dbt_valid_to is null or change_times.changed_at <= versions.dbt_valid_to)
),

pairs as (
    select
        changed_at,
        from_customer_id,
        to_customer_id,
        count(*) as identifiers_moved,
        bool_and(kept_cluster_key) as kept_cluster_key
    from new_moves
    group by changed_at, from_customer_id, to_customer_id
),

fan as (
    select
        pairs.*,
        -- customers the target gathers from: movers' origins, plus itself if it had members
        count(*) over (partition by pairs.changed_at, pairs.to_customer_id)
        + case
            when exists (
                    select 1 from members_before
                    where
                        members_before.changed_at = pairs.changed_at
                        and members_before.customer_id = pairs.to_customer_id
                ) then 1
            else 0
        end as target_sources,
        -- customers the origin scatters to: movers' targets, plus itself if members stay
        count(*) over (partition by pairs.changed_at, pairs.from_customer_id)
        + case
            when exists (
                    select 1 from members_at
                    where
                        members_at.changed_at = pairs.changed_at
                        and members_at.customer_id = pairs.from_customer_id
                ) then 1
            else 0
        end as origin_targets
    from pairs
),

evidence as (
    -- current edges joining a moved identifier to a member of its new customer that did
    -- not come from the same old customer
    select
        moved.changed_at,
        moved.from_customer_id,
        moved.to_customer_id,
        list(distinct edges.source order by edges.source) as evidence_sources,
        count(distinct edges.edge_id) as evidence_edges,
        min(edges.first_seen_at) as evidence_first_seen_at
    from new_moves as moved
    inner join edges
        on moved.identifier_key in (edges.identifier_key_a, edges.identifier_key_b)
    inner join members_at as other
        on
            moved.changed_at = other.changed_at
            and moved.to_customer_id = other.customer_id
            and other.identifier_key = case
                when moved.identifier_key = edges.identifier_key_a then edges.identifier_key_b
                else edges.identifier_key_a
            end
    left join members_before as other_before
        on
            moved.changed_at = other_before.changed_at
            and other.identifier_key = other_before.identifier_key
    where other_before.customer_id is distinct from moved.from_customer_id
    group by moved.changed_at, moved.from_customer_id, moved.to_customer_id
),

identifier_guards as (
    -- every guard that acts on an identifier now: cluster-level ones from the components,
    -- and the edge-level ones (a shared device links nobody, junk joins nothing)
    select
        identifier_key,
        guard
    from components
    where guard is not null
    union all
    select
        identifier_key,
        'shared_device' as guard
    from {{ ref('int_identity__shared_identifiers') }}
    union all
    select
        identifier_key,
        'blocklist' as guard
    from {{ ref('int_identity__blocked_identifiers') }}
),

guards as (
    -- the guards acting on any identifier the origin customer had before the change: why a
    -- customer split (a device found shared, a value blocklisted, a keep_apart decision)
    select
        pairs.changed_at,
        pairs.from_customer_id,
        pairs.to_customer_id,
        list(distinct identifier_guards.guard order by identifier_guards.guard) as guards
    from pairs
    inner join members_before
        on
            pairs.changed_at = members_before.changed_at
            and pairs.from_customer_id = members_before.customer_id
    inner join identifier_guards
        on members_before.identifier_key = identifier_guards.identifier_key
    group by pairs.changed_at, pairs.from_customer_id, pairs.to_customer_id
),

classified as (
    select
        md5(
            cast(fan.changed_at as varchar) || '|' || fan.from_customer_id || '|'
            || coalesce(fan.to_customer_id, '')
        ) as cluster_change_id,
        fan.changed_at,
        case
            when fan.to_customer_id is null then 'removed'
            when fan.origin_targets > 1 and fan.target_sources > 1 then 'merge_and_split'
            when fan.target_sources > 1 then 'merge'
            when fan.origin_targets > 1 then 'split'
            when fan.kept_cluster_key then 'key_rotation'
            else 'rekey'
        end as change_kind,
        fan.from_customer_id,
        fan.to_customer_id,
        fan.identifiers_moved,
        coalesce(evidence.evidence_sources, []) as evidence_sources,
        coalesce(evidence.evidence_edges, 0) as evidence_edges,
        evidence.evidence_first_seen_at,
        coalesce(guards.guards, []) as guards
    from fan
    left join evidence
        on
            fan.changed_at = evidence.changed_at
            and fan.from_customer_id = evidence.from_customer_id
            and fan.to_customer_id is not distinct from evidence.to_customer_id
    left join guards
        on
            fan.changed_at = guards.changed_at
            and fan.from_customer_id = guards.from_customer_id
            and fan.to_customer_id is not distinct from guards.to_customer_id
)

select * from classified
