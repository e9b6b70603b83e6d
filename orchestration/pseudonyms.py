"""`cdw pseudonyms`: the pseudonym key and the steward's decisions (docs/privacy.md).

    cdw pseudonyms key                      which key the runs use (its id, never the key)
    cdw pseudonyms new-key                  print a fresh random secret for CDW_PSEUDONYM_KEY
    cdw pseudonyms hash KEY [KEY ...]       the pseudonym of identifier keys ('email:ann@…')
    cdw pseudonyms rekey-decisions          after a key change: rewrite the pseudonyms in the
        [--seed PATH] [--dry-run]           seed identity_manual_decisions for the new key

`rekey-decisions` needs no old key: the warehouse, last built under the old key with the
seed as it is, holds each decision's identifiers resolved (intermediate.
int_identity__manual_decisions), and the new pseudonyms are computed from those with the
key of the environment (the new one).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from identity import IDENTIFIER_TYPES
from orchestration.settings import PROJECT_ROOT, Settings
from privacy import KEY_ENV, PseudonymKey, new_secret

DECISIONS_SEED = PROJECT_ROOT / "seeds" / "identity_manual_decisions.csv"
RESOLVED_DECISIONS = "intermediate.int_identity__manual_decisions"
_PSEUDONYM = re.compile(r"[0-9a-fA-F]{64}")


@dataclass
class RekeyReport:
    decisions: int = 0
    rekeyed: list[str] = field(default_factory=list)  # decision ids rewritten
    current: list[str] = field(default_factory=list)  # already under this key
    clear: list[str] = field(default_factory=list)  # both identifiers in clear: nothing to do
    unresolved: list[str] = field(default_factory=list)  # not resolved in the warehouse


def is_pseudonym(value: str) -> bool:
    return bool(_PSEUDONYM.fullmatch(value.strip()))


def _canonical(value: str) -> str:
    return value.lower() if is_pseudonym(value) else value


def rekey_decisions(
    con: duckdb.DuckDBPyConnection,
    seed: Path,
    key: PseudonymKey,
    dry_run: bool = False,
) -> RekeyReport:
    """Rewrite the pseudonyms of `seed` (identifier_a / identifier_b) with `key`, from the
    identifiers the warehouse resolved them to. Clear identifier keys are left as they are;
    a decision the warehouse has not resolved (added after the last build, or naming an
    identifier no longer in the graph) is left as it is and reported. The file is replaced
    in one step (a temporary file renamed over it), unless `dry_run`."""
    resolved = {
        decision_id: (key_a, key_b)
        for decision_id, key_a, key_b in con.execute(
            f"select decision_id, identifier_key_a, identifier_key_b from {RESOLVED_DECISIONS}"
        ).fetchall()
    }
    with seed.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    missing = {"decision_id", "identifier_a", "identifier_b"} - set(header)
    if missing:
        raise ValueError(f"{seed}: no column {', '.join(sorted(missing))}")
    report = RekeyReport(decisions=len(rows))
    for row in rows:
        decision_id = row["decision_id"].strip()
        given = [row["identifier_a"].strip(), row["identifier_b"].strip()]
        if not any(is_pseudonym(value) for value in given):
            report.clear.append(decision_id)
            continue
        if decision_id not in resolved:
            report.unresolved.append(decision_id)
            continue
        keys = list(resolved[decision_id])
        clear = [value for value in given if not is_pseudonym(value)]
        if any(value not in keys for value in clear):  # the seed changed since the build
            report.unresolved.append(decision_id)
            continue
        for value in clear:  # a side given in clear keeps its value; the other is hashed
            keys.remove(value)
        hashes = iter(key.pseudonyms(keys))
        new = [next(hashes) if is_pseudonym(value) else value for value in given]
        if sorted(map(_canonical, given)) == sorted(new):
            report.current.append(decision_id)
            continue
        row["identifier_a"], row["identifier_b"] = new
        report.rekeyed.append(decision_id)
    if report.rekeyed and not dry_run:
        with tempfile.NamedTemporaryFile(
            "w", newline="", dir=seed.parent, prefix=f".{seed.name}.", delete=False
        ) as out:
            writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(out.name, seed)
    return report


def render_rekey(report: RekeyReport, seed: Path, key: PseudonymKey, dry_run: bool) -> str:
    verb = "would rewrite" if dry_run else "rewrote"
    lines = [
        f"{seed}: {report.decisions} decision(s); {verb} {len(report.rekeyed)} for key id "
        f"{key.key_id}, {len(report.current)} already under it, {len(report.clear)} in clear "
        "(nothing to rewrite)."
    ]
    if report.unresolved:
        lines.append(
            f"Not rewritten, not resolved in the warehouse ({len(report.unresolved)}): "
            + ", ".join(report.unresolved)
            + " — added after its last build, or naming an identifier no longer in the "
            "graph; enter them again with `cdw pseudonyms hash`."
        )
    if report.decisions and len(report.current) == report.decisions - len(report.clear):
        lines.append(
            f"Nothing to rewrite: is {KEY_ENV} the new key? (key id {key.key_id}; the "
            "warehouse must have been built under the old one.)"
        )
    if key.is_development:
        lines.append(key.describe())
    return "\n".join(lines)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "pseudonyms", help="the pseudonym key; rewrite steward decisions after a key change"
    )
    parser.add_argument("action", choices=["key", "new-key", "hash", "rekey-decisions"])
    parser.add_argument("values", nargs="*", help="hash: identifier keys ('email:ann@…')")
    parser.add_argument("--seed", type=Path, default=DECISIONS_SEED)
    parser.add_argument("--dry-run", action="store_true")


def command(args: argparse.Namespace) -> int:
    if args.action == "new-key":
        print(new_secret())
        return 0
    settings = Settings.from_env()
    key = settings.pseudonym_key
    if args.action == "key":
        print(key.describe())
        return 0
    if args.action == "hash":
        if not args.values:
            print("error: give identifier keys, e.g. 'email:ann@example.com'", file=sys.stderr)
            return 2
        for value in args.values:
            kind, _, rest = value.partition(":")
            if (
                kind not in IDENTIFIER_TYPES
                or not rest
                or (kind == "email" and rest != rest.lower())
            ):
                print(
                    f"warning: {value!r} is not an identifier key as int_identity__identifiers "
                    "writes it ('<type>:<normalised value>', types "
                    f"{', '.join(IDENTIFIER_TYPES)}): its pseudonym matches nothing published",
                    file=sys.stderr,
                )
        for value in key.pseudonyms(args.values):
            print(value)
        if key.is_development:
            print(key.describe(), file=sys.stderr)
        return 0
    if not settings.warehouse_path.exists():
        print(f"error: no warehouse at {settings.warehouse_path}", file=sys.stderr)
        return 2
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        try:
            report = rekey_decisions(con, args.seed, key, dry_run=args.dry_run)
        except duckdb.CatalogException:
            print(
                f"error: {RESOLVED_DECISIONS} is not in {settings.warehouse_path}: build the "
                "warehouse (under the old key) first",
                file=sys.stderr,
            )
            return 2
    print(render_rekey(report, args.seed, key, args.dry_run))
    return 0
