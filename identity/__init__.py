"""Identity resolution: a library the dbt Python models and the benchmarks call.

Everything runs as SQL on the DuckDB connection it is given (in dbt: the Python model's
`session`); settings come in as parameters, so the package does not depend on the Dagster
code location. The public interface:

- `stitch_nightly(con, edges_table=…, nodes_table=…, state_schema=…)`: the plain
  stitching kept between nights, re-stitched only where the graph changed
  (int_identity__components);
- `stitch_with_guards(con, edges_table=…, nodes_table=…, keep_apart_table=…, out_table=…,
  max_cluster_size=…)`: connected components with the cluster-level guards, keep_apart
  across paths and the size ceiling (int_identity__components);
- `connected_components(con, edges_table, out_table)`: the stitcher itself;
- `match_records(con, input_table, mapping, out_table, settings)`: fuzzy matching of
  person records with Splink; `ColumnMapping` says which column plays which role
  (`CRM_CUSTOMERS` for stg_crm__customers), `MatchSettings` the threshold and training;
- `match_nightly(con, input_table, mapping, out_table, settings, state_schema=…)`: the
  same result, kept between nights and computed again only when what the matcher reads
  changed (int_identity__match_edges).

The rest (the incremental re-stitch, the phases, the SQL helpers) is private to the
package; its modules are imported directly only by their own tests. docs/identity.md has
the long form.
"""

from .components import ComponentStats, NotConvergedError, connected_components
from .guards import GuardedStats, stitch_with_guards
from .match_state import NightlyMatchStats, match_nightly
from .matching import CRM_CUSTOMERS, ColumnMapping, MatchSettings, MatchStats, match_records
from .stitch_state import NightlyStitchStats, stitch_nightly

# The identity graph's node types (docs/identity.md, "The graph"): what the observations,
# the generator's truth and the pseudonym commands name an identifier by.
IDENTIFIER_TYPES = (
    "anonymous_id",
    "device_id",
    "user_id",
    "email",
    "phone",
    "crm_id",
    "social_handle",
)

__all__ = [
    "CRM_CUSTOMERS",
    "IDENTIFIER_TYPES",
    "ColumnMapping",
    "ComponentStats",
    "GuardedStats",
    "MatchSettings",
    "MatchStats",
    "NightlyMatchStats",
    "NightlyStitchStats",
    "NotConvergedError",
    "connected_components",
    "match_nightly",
    "match_records",
    "stitch_nightly",
    "stitch_with_guards",
]
