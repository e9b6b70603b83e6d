"""How the dbt project is cut into Dagster steps, so a failed gate stops only what it feeds.

Each step is one `dbt build` over a set of dbt folders; Dagster orders the steps by the
dbt refs between them and by the raw sources they read. A blocking check that fails on
`raw/orders` skips `dbt_commerce` and everything after it, while `dbt_web_access`,
`dbt_people`, … still build in that run.

Folders that share a model go in one step: `stg_phones__normalized` normalises the
distinct phones of events, CRM, consent and privacy requests together, so those sources
are one step (`dbt_people`); order items and reviews are tested against the product
catalogue, so products, orders and reviews are one step (`dbt_commerce`). Everything not
named here — intermediate and marts — is the last step, `dbt_warehouse`, downstream of all
staging.

Tests run in the step that builds what they test: every step runs with dbt's `buildable`
indirect selection (a test runs when all its parents are built in the step or upstream of
it). A test reading two steps' models would run in neither, so
tests/dbt/test_dbt_steps.py checks every test has exactly one step.
"""

from dataclasses import dataclass

STAGING = "staging"


@dataclass(frozen=True)
class DbtStep:
    name: str
    select: str
    description: str


def _folders(*folders: str) -> str:
    return " ".join(f"fqn:{STAGING}.{folder}" for folder in folders)


SOURCE_STEPS: tuple[DbtStep, ...] = (
    DbtStep(
        "dbt_reference",
        f"resource_type:seed {_folders('reference')}",
        "Seeds and the reference staging models (no raw source).",
    ),
    DbtStep("dbt_web_access", _folders("web_access"), "Web server access log staging."),
    DbtStep(
        "dbt_people",
        _folders("events", "crm_customers", "consent", "privacy_requests", "phones"),
        "Events, CRM, consent and privacy requests: they share the phone normaliser.",
    ),
    DbtStep(
        "dbt_commerce",
        _folders("products", "orders", "reviews"),
        "Products, orders and reviews: items and reviews are tested against the catalogue.",
    ),
    DbtStep("dbt_subscriptions", _folders("subscriptions"), "Subscription changes."),
    DbtStep("dbt_support", _folders("support_tickets"), "Support tickets."),
    DbtStep("dbt_surveys", _folders("surveys"), "Survey responses."),
    DbtStep("dbt_social", _folders("social"), "Social interactions."),
)

WAREHOUSE_STEP = DbtStep(
    "dbt_warehouse",
    "fqn:*",
    "Everything downstream of staging: intermediate (identity) and marts.",
)


def warehouse_exclude() -> str:
    """The last step is everything the source steps do not build."""
    return " ".join(step.select for step in SOURCE_STEPS)


INDIRECT_SELECTION = "buildable"
