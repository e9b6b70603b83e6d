"""Writing one delivery file: inject the malformed records, write, hash, log the truth."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from .config import SOURCES, GeneratorConfig, rng_for
from .malform import SPECS, GuaranteePlan, inject_csv, inject_jsonl, inject_log
from .truth import MalformedLog
from .web_access import LogRecord
from .writers import write_records


class Deliveries:
    """Every landing file written so far, with its hash, record count and malformed lines."""

    def __init__(self, config: GeneratorConfig, landing: Path) -> None:
        self.config = config
        self.landing = landing
        self.start: date = config.start_date
        self.files: dict[str, dict] = {}
        self.malformed = MalformedLog()
        file_days = {s: list(range(config.days)) for s in SOURCES if s != "crm_customers"}
        file_days["crm_customers"] = config.crm_snapshot_days()
        self.plan = GuaranteePlan(file_days)

    def _rel(self, source: str, day: int, filename: str) -> str:
        return f"{source}/{(self.start + timedelta(days=day)).isoformat()}/{filename}"

    def _rng(self, source: str, day: int, filename: str) -> random.Random:
        return rng_for(self.config.seed, "malform", source, day, filename)

    def _done(
        self, source: str, rel: str, sha: str, size: int, records: int, marks: list[tuple[int, str]]
    ) -> None:
        self.files[rel] = {"source": source, "sha256": sha, "bytes": size, "records": records}
        for line, reason in marks:
            self.malformed.add(source, rel, line, reason)

    def jsonl(
        self,
        source: str,
        day: int,
        filename: str,
        lines: list[str],
        *,
        gz: bool = False,
        guaranteed: bool = True,
    ) -> None:
        """JSON lines (already serialised); guaranteed=False: random damage only."""
        rel = self._rel(source, day, filename)
        want = self.plan.take(source, day) if guaranteed else []
        marks, left = inject_jsonl(lines, SPECS[source], want, self._rng(source, day, filename))
        self.plan.give_back(source, left)
        sha, size = write_records(self.landing / rel, lines, gz=gz)
        self._done(source, rel, sha, size, len(lines), marks)

    def log(self, source: str, day: int, filename: str, records: list[LogRecord]) -> None:
        rel = self._rel(source, day, filename)
        want = self.plan.take(source, day)
        lines, marks, left = inject_log(records, want, self._rng(source, day, filename))
        self.plan.give_back(source, left)
        sha, size = write_records(self.landing / rel, lines, gz=True)
        self._done(source, rel, sha, size, len(lines), marks)

    def csv(
        self,
        source: str,
        day: int,
        filename: str,
        header: list[str],
        rows: list[list[str]],
        *,
        crlf: bool = False,
    ) -> None:
        rel = self._rel(source, day, filename)
        want = self.plan.take(source, day)
        cut = self.plan.cut_here(source, day) and len(rows) > 3
        records, marks, left = inject_csv(
            header, rows, SPECS[source], want, cut, self._rng(source, day, filename)
        )
        self.plan.give_back(source, left)
        if cut:
            self.plan.cut_done(source)
        starts, line = [], 2  # physical line on which each record starts (header = line 1)
        for rec in records:
            starts.append(line)
            line += rec.count("\n") + 1
        sha, size = write_records(
            self.landing / rel,
            [",".join(header), *records],
            terminator="\r\n" if crlf else "\n",
            final_terminator=not cut,
        )
        self._done(source, rel, sha, size, len(records), [(starts[i], r) for i, r in marks])

    def summary(self) -> dict[str, dict[str, int]]:
        out = {s: {"files": 0, "records": 0, "malformed": 0} for s in SOURCES}
        for info in self.files.values():
            out[info["source"]]["files"] += 1
            out[info["source"]]["records"] += info["records"]
        for source, *_ in self.malformed.rows:
            out[source]["malformed"] += 1
        return out
