"""The `state` schema: what a rebuild cannot re-derive (docs/pipeline.md, "State").

Delivery verdicts of the Great Expectations gate, stewards' releases of held deliveries —
and, as the privacy work lands, the suppression list and the erasure audit. Full refreshes
never touch it, the "same warehouse" comparison leaves it out, and `cdw state backup` /
`cdw state restore` copy it to and from Parquet files.
"""
