"""One row per pair of CRM customer records that fuzzy matching scores as the same person.

Probabilistic matching of person records that may share no exact identifier (name typos,
swapped given name and surname, e-mail / phone written differently, birth-date typos):
identity.matching runs Splink 5 on this session's DuckDB connection over
stg_crm__customers, with blocklisted e-mails and phones (int_identity__blocked_identifiers)
compared as missing (mapping CRM_CUSTOMERS: first_name, last_name, birth_date,
email_normalized, phone_e164, city), trains it (u by seeded random sampling, m by EM) and
keeps the pairs whose match probability is at least the dbt var identity_match_threshold,
with the comparison levels that produced the score (match_reasons). docs/identity.md,
"Fuzzy matching".

The matching is kept between nights in schema identity_state (identity.match_state): when
nothing the matcher reads changed since the last run (the mapped columns of every CRM
record after the junk masking, the settings, the matcher's code), the kept pairs are the
result and Splink does not run; var('identity_restitch') = 'full' matches again. Either
way the pairs are those match_records gives.

The pair's nodes are the records' crm_id identity-graph nodes ('crm_id:<crm_id>', as in
int_identity__edges), a < b. first_seen_at is when the later of the two records was first
seen (the pair exists from then on), last_seen_at the later of their last updates. The
edges are shaped like int_identity__edges (edge_id, source, node keys and types, first /
last seen) so they can be unioned into the identity graph; clustering stays with
int_identity__components (our connected components), not Splink's.
"""

from identity import CRM_CUSTOMERS, MatchSettings, match_nightly

SOURCE = "crm.fuzzy_match"
# Where the matching is kept between nights (model-owned, like the stitching).
STATE_SCHEMA = "identity_state"


def model(dbt, session):
    dbt.config(materialized="table")
    threshold = float(dbt.config.get("match_threshold"))
    restitch = dbt.config.get("identity_restitch")
    if restitch not in ("incremental", "full"):
        raise ValueError(f"var identity_restitch must be 'incremental' or 'full', not {restitch!r}")
    dbt.ref("stg_crm__customers").create_view("_identity_match_crm", replace=True)
    dbt.ref("int_identity__blocked_identifiers").create_view("_identity_match_junk", replace=True)
    # Junk is no evidence: a blocklisted e-mail or phone (test@test.com, a role mailbox, a
    # placeholder number) is compared as missing, so it cannot make two people one.
    session.execute(
        """
        create or replace temporary view _identity_match_people as
        select
            * replace (
                case when 'email:' || email_normalized in (
                    select identifier_key from _identity_match_junk
                ) then null else email_normalized end as email_normalized,
                case when 'phone:' || phone_e164 in (
                    select identifier_key from _identity_match_junk
                ) then null else phone_e164 end as phone_e164
            )
        from _identity_match_crm
        """
    )
    nightly = match_nightly(
        session,
        "_identity_match_people",
        CRM_CUSTOMERS,
        "_identity_match_pairs",
        MatchSettings(threshold=threshold),
        state_schema=STATE_SCHEMA,
        force_full=restitch == "full",
        temporary=True,
    )
    result = session.sql(
        f"""
        with pairs as (
            select
                'crm_id:' || pairs.record_id_l as identifier_key_a,
                'crm_id:' || pairs.record_id_r as identifier_key_b,
                pairs.match_probability,
                pairs.match_weight,
                pairs.match_reasons,
                greatest(
                    coalesce(l.created_at, l.updated_at), coalesce(r.created_at, r.updated_at)
                ) as first_seen_at,
                greatest(
                    coalesce(l.updated_at, l.created_at), coalesce(r.updated_at, r.created_at)
                ) as last_seen_at
            from _identity_match_pairs as pairs
            join _identity_match_people as l on pairs.record_id_l = l.crm_id
            join _identity_match_people as r on pairs.record_id_r = r.crm_id
        )
        select
            md5('{SOURCE}' || '|' || identifier_key_a || '|' || identifier_key_b) as edge_id,
            '{SOURCE}' as source,
            identifier_key_a,
            'crm_id' as identifier_type_a,
            identifier_key_b,
            'crm_id' as identifier_type_b,
            match_probability,
            match_weight,
            match_reasons,
            first_seen_at,
            last_seen_at
        from pairs
        order by identifier_key_a, identifier_key_b
        """
    ).to_arrow_table()
    session.execute("drop view _identity_match_people")
    session.execute("drop view _identity_match_crm")
    session.execute("drop view _identity_match_junk")
    session.execute("drop table _identity_match_pairs")
    # Counts only: no record values in the log.
    stats = nightly.stats
    if stats is None:
        print(
            f"identity match edges: {nightly.pairs} pairs >= {threshold} kept "
            f"({nightly.reason}) in {nightly.seconds:.1f}s"
        )
    else:
        print(
            f"identity match edges: {stats.pairs_above_threshold} pairs >= {threshold} of "
            f"{stats.candidate_pairs} candidate pairs from {stats.records} CRM records "
            f"(matched: {nightly.reason}; training: {stats.trained}) in {nightly.seconds:.1f}s"
        )
    return result
