"""Accuracy of the fuzzy matcher: pairwise precision, recall and F1 against ground truth.

    python -m benchmarks.identity_accuracy                      # FEBRL dataset1-3
    python -m benchmarks.identity_accuracy --febrl dataset3
    python -m benchmarks.identity_accuracy --warehouse data/warehouse.duckdb --truth data/truth

Every figure comes from `identity.match_records`, the code the
nightly dbt model int_identity__match_edges runs, with a column mapping per dataset (no
separate matching script), at the threshold of the dbt var `identity_match_threshold`
(dbt_project/dbt_project.yml) unless `--threshold` says otherwise. Clusters come from
`identity.connected_components`, the nightly stitcher.

What each line measures (pairs of records of one dataset; a pair is "true" when both
records belong to the same entity / person):

- **fuzzy pairs**: the matcher's edges (match_probability >= threshold), as pairs.
- **fuzzy clusters**: the connected components of those edges; every pair of records in
  one component counts as predicted (transitive closure: what stitching makes of them).
- **exact only** (generator data): components of the exact edges alone: CRM record ↔
  normalised e-mail, CRM record ↔ E.164 phone, as int_identity__edges has them.
- **exact + fuzzy** (generator data): components of the exact edges plus the fuzzy edges:
  the CRM part of the identity graph, recomputed here at the chosen threshold.
- **nightly graph** (generator data): the customer_id each CRM record has in the
  warehouse's int_identity__components — the clusters the nightly job built from every
  source, guards and decisions applied (at the dbt var's threshold, whatever --threshold).

Truth: FEBRL rec_id `rec-<n>-org` / `rec-<n>-dup-<k>` are entity <n>; generator data:
truth/identities.csv rows with identifier_type = 'crm_id' map each CRM record to its
person. The metrics are set-based SQL with cluster-size arithmetic: true pairs =
Σ n(n-1)/2 over entities, predicted pairs = Σ over clusters, true positives = Σ over
(cluster, entity) overlaps; for plain pairs, a join of the pairs to the truth.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from identity import (
    CRM_CUSTOMERS,
    ColumnMapping,
    MatchSettings,
    MatchStats,
    connected_components,
    match_records,
)

REPO = Path(__file__).resolve().parents[1]
FEBRL_DIR = REPO.parent / "shared" / "external" / "record_linkage"
FEBRL_DATASETS = ("dataset1", "dataset2", "dataset3")

# FEBRL columns -> matcher roles. address_2 (building / property name, often empty) and
# state (8 values) are not compared.
FEBRL = ColumnMapping(
    record_id="rec_id",
    given_name="given_name",
    surname="surname",
    date_of_birth="date_of_birth",
    national_id="soc_sec_id",
    street_number="street_number",
    address="address_1",
    postcode="postcode",
    city="suburb",
)


@dataclass(frozen=True)
class Score:
    dataset: str
    measure: str
    records: int
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    seconds: float

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def dbt_threshold() -> float:
    """The nightly job's threshold: the dbt var identity_match_threshold."""
    import yaml

    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    return float(project["vars"]["identity_match_threshold"])


def _scalar(con: Any, sql: str) -> Any:
    return con.execute(sql).fetchall()[0][0]


# --- metrics, set-based -----------------------------------------------------------------


def true_pair_count(con: Any, truth: str) -> int:
    """Σ n(n-1)/2 over entities; `truth(record_id, entity)`."""
    return _scalar(
        con,
        f"""
        select coalesce(sum(n * (n - 1) // 2), 0)
        from (select count(*) as n from {truth} group by entity)
        """,
    )


def score_pairs(con: Any, pairs: str, truth: str) -> tuple[int, int]:
    """(predicted, true positives) for `pairs(record_id_l, record_id_r)`."""
    return con.execute(
        f"""
        select count(*), count(*) filter (where l.entity = r.entity)
        from {pairs} as p
        join {truth} as l on p.record_id_l = l.record_id
        join {truth} as r on p.record_id_r = r.record_id
        """
    ).fetchall()[0]


def score_clusters(con: Any, clusters: str, truth: str) -> tuple[int, int]:
    """(predicted, true positives) for `clusters(record_id, cluster)`: every pair within a
    cluster is predicted; Σ n(n-1)/2 over clusters and over (cluster, entity) overlaps."""
    return con.execute(
        f"""
        with joined as (
            select c.cluster, t.entity
            from {clusters} as c join {truth} as t on c.record_id = t.record_id
        ),
        per_cluster as (select count(*) as n from joined group by cluster),
        per_overlap as (select count(*) as n from joined group by cluster, entity)
        select
            (select coalesce(sum(n * (n - 1) // 2), 0) from per_cluster),
            (select coalesce(sum(n * (n - 1) // 2), 0) from per_overlap)
        """
    ).fetchall()[0]


def cluster_records(con: Any, edges: str, records: str, out: str, prefix: str = "") -> None:
    """`out(record_id, cluster)`: connected components (our stitcher) over `edges(node_a,
    node_b)`, restricted to the records of `records(record_id)` (nodes `prefix||id`)."""
    con.execute(
        "create or replace temp table _acc_nodes as "
        f"select {prefix!r} || record_id as node from {records}"
    )
    connected_components(
        con,
        edges,
        "_acc_components",
        nodes_table="_acc_nodes",
        node="node",
        temporary=True,
        with_key=False,
    )
    con.execute(
        f"""
        create or replace temp table {out} as
        select r.record_id, c.component_id as cluster
        from {records} as r
        join _acc_components as c on c.node = {prefix!r} || r.record_id
        """
    )
    con.execute("drop table _acc_components")
    con.execute("drop table _acc_nodes")


# --- datasets ---------------------------------------------------------------------------


def load_febrl(con: Any, path: Path, table: str) -> None:
    """The FEBRL CSV as `table` (header names and values stripped of the ', ' padding) and
    `<table>_truth(record_id, entity)`."""
    con.execute(
        f"create or replace temp table _febrl_raw as "
        f"select * from read_csv('{path}', header = true, all_varchar = true)"
    )
    columns = [row[0] for row in con.execute("describe _febrl_raw").fetchall()]
    select = ", ".join(f'nullif(trim("{c}"), \'\') as "{c.strip()}"' for c in columns)
    con.execute(f"create or replace temp table {table} as select {select} from _febrl_raw")
    con.execute("drop table _febrl_raw")
    con.execute(
        f"""
        create or replace temp table {table}_truth as
        select rec_id as record_id, regexp_extract(rec_id, '^rec-([0-9]+)-', 1) as entity
        from {table}
        """
    )
    missing = _scalar(con, f"select count(*) from {table}_truth where entity = ''")
    if missing:
        raise ValueError(f"{path}: {missing} rec_id values not of the form rec-<n>-…")


def run_febrl(
    name: str, path: Path, settings: MatchSettings, sweep: tuple[float, ...] = ()
) -> list[Score]:
    con = duckdb.connect()
    table = f"febrl_{name}"
    load_febrl(con, path, table)
    truth = f"{table}_truth"
    true_pairs = true_pair_count(con, truth)
    stats = match_records(
        con, table, FEBRL, "_acc_edges", settings, temporary=True, scored_table="_acc_scored"
    )
    scores = _pair_scores(con, name, stats, truth, true_pairs, sweep)
    started = time.perf_counter()
    con.execute(
        "create or replace temp view _acc_edge_nodes as "
        "select record_id_l as node_a, record_id_r as node_b from _acc_edges"
    )
    con.execute(f"create or replace temp view _acc_records as select record_id from {truth}")
    cluster_records(con, "_acc_edge_nodes", "_acc_records", "_acc_clusters")
    predicted, tp = score_clusters(con, "_acc_clusters", truth)
    scores.append(
        Score(
            name,
            "fuzzy clusters",
            stats.records,
            true_pairs,
            predicted,
            tp,
            stats.seconds + time.perf_counter() - started,
        )
    )
    con.close()
    return scores


def _pair_scores(
    con: Any, name: str, stats: MatchStats, truth: str, true_pairs: int, sweep: tuple[float, ...]
) -> list[Score]:
    """The edges as pairs; with `sweep`, also the scored pairs at other thresholds (the
    same run: the matcher kept every scored candidate pair in _acc_scored)."""
    predicted, tp = score_pairs(con, "_acc_edges", truth)
    scores = [Score(name, "fuzzy pairs", stats.records, true_pairs, predicted, tp, stats.seconds)]
    for threshold in sweep:
        con.execute(
            "create or replace temp view _acc_sweep as "
            f"select * from _acc_scored where match_probability >= {threshold!r}"
        )
        predicted, tp = score_pairs(con, "_acc_sweep", truth)
        measure = f"  pairs >= {threshold:g}"
        scores.append(Score(name, measure, stats.records, true_pairs, predicted, tp, 0.0))
    return scores


def load_warehouse(con: Any, warehouse: Path, truth_dir: Path) -> tuple[int, int]:
    """stg_crm__customers from the warehouse (attached read-only, copied to a temp table,
    detached) as `crm`, and `crm_truth(record_id, entity)` from identities.csv.
    Returns (CRM records, records without a truth row — left out of the scores)."""
    con.execute(f"attach '{warehouse}' as wh (read_only)")
    try:
        schemas = [
            row[0]
            for row in con.execute(
                "select table_schema from information_schema.tables "
                "where table_catalog = 'wh' and table_name = 'stg_crm__customers'"
            ).fetchall()
        ]
        if not schemas:
            raise SystemExit(f"{warehouse}: no stg_crm__customers (run the nightly job first)")
        con.execute(
            f"create or replace temp table crm as select * from wh.{schemas[0]}.stg_crm__customers"
        )
        # the nightly clusters of the CRM records, when the job built them
        components = con.execute(
            "select table_schema from information_schema.tables "
            "where table_catalog = 'wh' and table_name = 'int_identity__components'"
        ).fetchall()
        con.execute(
            "create or replace temp table nightly_clusters (record_id varchar, cluster varchar)"
        )
        if components:
            con.execute(
                f"""
                insert into nightly_clusters
                select identifier_value, customer_id
                from wh.{components[0][0]}.int_identity__components
                where identifier_type = 'crm_id'
                """
            )
    finally:
        con.execute("detach wh")
    identities = truth_dir / "identities.csv"
    con.execute(
        f"""
        create or replace temp table crm_truth as
        select crm.crm_id as record_id, truth.person_id as entity
        from crm
        join read_csv('{identities}', header = true, all_varchar = true) as truth
            on truth.identifier_type = 'crm_id' and truth.identifier_value = crm.crm_id
        """
    )
    records = _scalar(con, "select count(*) from crm")
    unknown = records - _scalar(con, "select count(*) from crm_truth")
    return records, unknown


def run_warehouse(
    warehouse: Path, truth_dir: Path, settings: MatchSettings, sweep: tuple[float, ...] = ()
) -> list[Score]:
    con = duckdb.connect()
    records, unknown = load_warehouse(con, warehouse, truth_dir)
    if unknown:
        print(f"note: {unknown} of {records} CRM records have no truth row and are not scored")
    truth = "crm_truth"
    true_pairs = true_pair_count(con, truth)
    name = "generator CRM"
    stats = match_records(
        con,
        "crm",
        CRM_CUSTOMERS,
        "_acc_edges",
        settings,
        temporary=True,
        scored_table="_acc_scored",
    )
    scores = _pair_scores(con, name, stats, truth, true_pairs, sweep)

    # Exact edges as the identity graph has them (int_identity__edges, source crm): a CRM
    # record's node to its normalised e-mail and to its E.164 phone.
    con.execute(
        """
        create or replace temp table _acc_exact as
        select 'crm_id:' || crm_id as node_a, 'email:' || email_normalized as node_b
        from crm where email_normalized is not null
        union all
        select 'crm_id:' || crm_id, 'phone:' || phone_e164 from crm where phone_e164 is not null
        """
    )
    con.execute(
        """
        create or replace temp table _acc_fuzzy as
        select 'crm_id:' || record_id_l as node_a, 'crm_id:' || record_id_r as node_b
        from _acc_edges
        """
    )
    con.execute("create or replace temp view _acc_records as select record_id from crm_truth")
    con.execute(
        "create or replace temp view _acc_both as "
        "select * from _acc_exact union all select * from _acc_fuzzy"
    )
    for measure, edges, extra in (
        ("fuzzy clusters", "_acc_fuzzy", stats.seconds),
        ("exact only", "_acc_exact", 0.0),
        ("exact + fuzzy", "_acc_both", stats.seconds),
    ):
        started = time.perf_counter()
        cluster_records(con, edges, "_acc_records", "_acc_clusters", prefix="crm_id:")
        predicted, tp = score_clusters(con, "_acc_clusters", truth)
        seconds = extra + time.perf_counter() - started
        scores.append(Score(name, measure, stats.records, true_pairs, predicted, tp, seconds))
    if _scalar(con, "select count(*) from nightly_clusters"):
        predicted, tp = score_clusters(con, "nightly_clusters", truth)
        scores.append(Score(name, "nightly graph", stats.records, true_pairs, predicted, tp, 0.0))
    else:
        print("note: no int_identity__components in the warehouse: no 'nightly graph' line")
    con.close()
    return scores


# --- output -----------------------------------------------------------------------------


def print_table(scores: list[Score], threshold: float) -> None:
    print(f"threshold (match probability): {threshold}")
    header = (
        f"{'dataset':<14} {'measure':<16} {'records':>8} {'true pairs':>10} "
        f"{'predicted':>10} {'correct':>8} {'precision':>9} {'recall':>7} {'F1':>7} "
        f"{'seconds':>8}"
    )
    print(header)
    print("-" * len(header))
    for s in scores:
        print(
            f"{s.dataset:<14} {s.measure:<16} {s.records:>8,} {s.true_pairs:>10,} "
            f"{s.predicted_pairs:>10,} {s.true_positives:>8,} {s.precision:>9.4f} "
            f"{s.recall:>7.4f} {s.f1:>7.4f} {s.seconds:>8.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.identity_accuracy",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--febrl",
        nargs="*",
        metavar="DATASET",
        help=f"FEBRL datasets to score (default, and with no names: {' '.join(FEBRL_DATASETS)})",
    )
    parser.add_argument("--febrl-dir", type=Path, default=FEBRL_DIR)
    parser.add_argument("--warehouse", type=Path, help="a warehouse built by the nightly job")
    parser.add_argument("--truth", type=Path, help="the generator's truth folder")
    parser.add_argument(
        "--threshold", type=float, help="default: the dbt var identity_match_threshold"
    )
    parser.add_argument(
        "--sweep",
        nargs="+",
        type=float,
        default=(),
        metavar="T",
        help="also score the fuzzy pairs at these thresholds (same run; for tuning)",
    )
    args = parser.parse_args(argv)
    if (args.warehouse is None) != (args.truth is None):
        parser.error("--warehouse and --truth go together")
    febrl = args.febrl
    if febrl == [] or (febrl is None and args.warehouse is None):
        febrl = list(FEBRL_DATASETS)  # --febrl without names, or nothing asked for
    threshold = args.threshold if args.threshold is not None else dbt_threshold()
    settings = MatchSettings(threshold=threshold)

    scores: list[Score] = []
    for name in febrl or []:
        path = args.febrl_dir / f"{name}.csv"
        if not path.is_file():
            parser.error(f"no such FEBRL dataset: {path}")
        scores += run_febrl(name, path, settings, tuple(args.sweep))
    if args.warehouse is not None:
        scores += run_warehouse(args.warehouse, args.truth, settings, tuple(args.sweep))
    print_table(scores, threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
