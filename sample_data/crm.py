"""CRM customers: full snapshots, with duplicate records of the same person."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .people import CITIES, Person, Population
from .timeutil import MS_DAY, iso_utc_s
from .truth import Registry
from .variants import email_variant, name_typo, phone_national, phone_written, strip_accents

if TYPE_CHECKING:
    from .junk import Junk

HEADER = (
    "crm_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "birth_date",
    "gender",
    "country",
    "city",
    "job_title",
    "company",
    "created_at",
    "updated_at",
)
DUPLICATE_SHARE = 0.05


@dataclass(slots=True)
class CrmRecord:
    crm_id: str
    person: Person
    email: str
    phone: str
    first_name: str
    last_name: str
    birth_date: str
    gender: str
    city: str
    job_title: str
    company: str
    created_ms: int
    updated_ms: int
    duplicate: bool = False
    deleted_ms: int | None = None

    def row(self) -> list[str]:
        p = self.person
        return [
            self.crm_id,
            self.email,
            self.phone,
            self.first_name,
            self.last_name,
            self.birth_date,
            self.gender,
            p.country,
            self.city,
            self.job_title,
            self.company,
            iso_utc_s(self.created_ms),
            iso_utc_s(self.updated_ms),
        ]


class Crm:
    def __init__(
        self,
        pop: Population,
        registry: Registry,
        window_start: int,
        seed_rng: random.Random,
        junk: Junk | None = None,
    ) -> None:
        self.pop = pop
        self.registry = registry
        self.junk = junk  # placeholder e-mails / phones on a few records (junk.py)
        self.window_start = window_start
        self.records: list[CrmRecord] = []
        self.by_person: dict[int, list[CrmRecord]] = {}
        self._next = 1_000_001
        self._later: list[tuple[int, int, CrmRecord]] = []  # duplicates created later on
        self._later_seq = 0
        rng = seed_rng
        existing = []
        for p in pop.customers:
            if p.crm_pending and p.first_day == 0 and rng.random() < 0.9:
                existing.append(
                    (window_start - rng.randint(1, 1500) * MS_DAY - rng.randrange(MS_DAY), p)
                )
        existing.sort(key=lambda e: (e[0], e[1].idx))
        for created, p in existing:
            self.materialize(created)
            self.create(p, created, rng)
        self.materialize(window_start)

    # --- records ------------------------------------------------------------------------

    def _new_id(self) -> str:
        crm_id = f"CRM{self._next:07d}"
        self._next += 1
        return crm_id

    def create(self, p: Person, t: int, rng: random.Random, lead: bool = False) -> None:
        """The person's CRM record (and now and then a duplicate of it)."""
        if p.crm_ids:
            return
        p.crm_pending = False
        email = p.email if rng.random() < 0.9 else email_variant(p.email, rng)
        if rng.random() < 0.04 and not lead:
            email = ""
        phone = phone_written(p.phone, p.country, rng) if rng.random() < 0.9 else ""
        rec = CrmRecord(
            self._new_id(),
            p,
            email,
            phone,
            p.first_name,
            p.last_name,
            p.birth_date.isoformat() if p.birth_date and rng.random() < 0.9 else "",
            p.gender if rng.random() < 0.9 else "",
            p.city,
            p.job_title,
            p.company,
            t,
            t,
        )
        self._add(rec)
        if rng.random() < DUPLICATE_SHARE:  # the same person registered again, weeks later
            dup = self._duplicate(rec, t + rng.randint(1, 120) * MS_DAY, rng)
            self._later_seq += 1
            self._later.append((dup.created_ms, self._later_seq, dup))

    def materialize(self, until: int) -> None:
        """Give the duplicates created before `until` their crm_id, in creation order."""
        due = sorted((d for d in self._later if d[0] < until), key=lambda d: (d[0], d[1]))
        if not due:
            return
        self._later = [d for d in self._later if d[0] >= until]
        for _, _, dup in due:
            if dup.person.erased_day is not None:
                continue  # the person was erased before registering again
            dup.crm_id = self._new_id()
            self._add(dup)

    def _duplicate(self, rec: CrmRecord, t: int, rng: random.Random) -> CrmRecord:
        p = rec.person
        r = rng.random()
        email = email_variant(p.email, rng) if r < 0.8 else (p.email.upper() if r < 0.9 else "")
        phone = rec.phone
        if phone == "" or phone == p.phone or rng.random() < 0.7:
            phone = phone_national(p.phone, p.country, rng.randrange(5))
        if phone == rec.phone:
            phone = p.phone
        first, last = rec.first_name, rec.last_name
        kind = rng.choice(("typo", "swap", "accent", "upper"))
        if kind == "accent" and strip_accents(first + last) == first + last:
            kind = "typo"
        if kind == "typo":
            if rng.random() < 0.5:
                last = name_typo(last, rng)
            else:
                first = name_typo(first, rng)
        elif kind == "swap":
            first, last = last, first
        elif kind == "accent":
            first, last = strip_accents(first), strip_accents(last)
        else:
            last = last.upper()
        birth = rec.birth_date if rng.random() < 0.6 else ""
        return CrmRecord(
            "",  # crm_id: given when the duplicate comes into existence (materialize)
            p,
            email,
            phone,
            first,
            last,
            birth,
            rec.gender,
            rec.city,
            rec.job_title,
            rec.company,
            t,
            t,
            duplicate=True,
        )

    def _add(self, rec: CrmRecord) -> None:
        if self.junk is not None:
            self.junk.crm_record(rec)
        self.records.append(rec)
        self.by_person.setdefault(rec.person.idx, []).append(rec)
        rec.person.crm_ids.append(rec.crm_id)

    # --- changes ------------------------------------------------------------------------

    def records_of(self, p: Person) -> list[CrmRecord]:
        return self.by_person.get(p.idx, [])

    def erase(self, p: Person, t: int) -> None:
        for rec in self.records_of(p):
            if rec.deleted_ms is None:
                rec.deleted_ms = t

    def rectify(self, p: Person, corrections: dict[str, str], t: int, rng: random.Random) -> None:
        for rec in self.records_of(p):
            if rec.created_ms > t:
                continue
            for key, value in corrections.items():
                if key == "phone":
                    rec.phone = phone_written(value, p.country, rng)
                elif key == "email":
                    rec.email = value
                elif key in ("first_name", "last_name", "city"):
                    setattr(rec, key, value)
            rec.updated_ms = t

    def drift(self, day_start: int, rng: random.Random) -> None:
        """Everyday edits: people move, change jobs, register a second time."""
        self.materialize(day_start + MS_DAY)
        live = self.records
        for _ in range(max(1, len(live) // 800)):
            rec = rng.choice(live)
            if rec.deleted_ms is not None or rec.created_ms > day_start:
                continue
            if rec.job_title and rng.random() < 0.5:
                rec.job_title = rec.job_title + (
                    " (Senior)" if "Senior" not in rec.job_title else ""
                )
            else:
                rec.city = rec.person.city = rng.choice(CITIES[rec.person.country])
            rec.updated_ms = day_start + rng.randrange(MS_DAY)

    # --- snapshot -----------------------------------------------------------------------

    def snapshot(self, cutoff: int) -> list[list[str]]:
        """All records that exist at `cutoff` (end of the delivery day), by crm_id."""
        rows = []
        reg = self.registry
        for rec in self.records:
            if rec.created_ms >= cutoff or (rec.deleted_ms is not None and rec.deleted_ms < cutoff):
                continue
            pid = rec.person.person_id
            reg.add(pid, "crm_id", rec.crm_id)
            reg.add(pid, "email", rec.email)
            reg.add(pid, "phone", rec.phone)
            rows.append(rec.row())
        rows.sort(key=lambda r: r[0])
        return rows
