"""The day loop: simulate a day for every source, then write that day's deliveries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from . import crm as crm_mod
from . import products as products_mod
from .bots import add_bot_sessions
from .commerce import Orders, Subscriptions
from .config import GeneratorConfig, rng_for
from .crm import Crm
from .delivery import Deliveries
from .events import EventStream
from .households import Households
from .junk import JUNK_KINDS, Junk
from .people import build_population
from .privacy import Consent, PrivacyRequests
from .sessions import DaySimulator
from .support import SURVEY_HEADER, TICKET_HEADER, Support
from .timeutil import MS_DAY, day_start_ms
from .truth import (
    SHARED_DEVICE,
    Registry,
    files_digest,
    write_identities,
    write_junk,
    write_malformed,
    write_manifest,
)
from .web_access import AccessLog

GENERATOR_VERSION = 1
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass
class DayRecords:
    """What the non-streaming sources deliver on one day."""

    subscriptions: list[dict]
    tickets: list[list[str]]
    surveys: list[list[str]]
    reviews: list[dict]
    social: list[dict]
    consent: list[dict]
    requests: list[dict]
    sessions: int


class Generator:
    def __init__(
        self,
        config: GeneratorConfig,
        landing: Path,
        truth: Path,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.config = config
        self.truth = truth
        self.progress = progress or (lambda _msg: None)
        self.out = Deliveries(config, landing)
        self.registry = Registry()
        cfg, seed, reg = config, config.seed, self.registry
        started = time.monotonic()
        self.pop = build_population(cfg)
        self.progress(
            f"people: {len(self.pop.customers):,} customers, "
            f"{len(self.pop.visitors):,} visitors ({time.monotonic() - started:.1f}s)"
        )
        self.window_start = ws = day_start_ms(cfg.start_date)
        self.catalogue = products_mod.Catalogue(cfg)
        # junk identifiers and shared devices (their own random streams)
        self.junk = Junk(cfg, self.pop, reg)
        self.households = Households(cfg, self.pop, reg)
        self.crm = Crm(self.pop, reg, ws, rng_for(seed, "crm_customers", "init"), self.junk)
        self.events = EventStream(ws, cfg.days, reg)
        self.access = AccessLog(ws, cfg.days, reg)
        self.orders = Orders(self.pop, self.catalogue, reg, ws, cfg.days)
        self.subs = Subscriptions(self.pop, reg)
        self.support = Support(self.pop, reg, ws, cfg.days, self.junk)
        self.consent = Consent(self.pop, reg, self.junk)
        self.privacy = PrivacyRequests(self.pop, reg, self.crm, cfg.days)
        # the privacy policy changes half-way through runs of two weeks or more
        self.policy_change = cfg.days // 2 if cfg.days >= 14 else cfg.days
        self.policies = (
            (cfg.start_date - timedelta(days=200)).strftime("%Y-%m"),
            (cfg.start_date + timedelta(days=self.policy_change)).strftime("%Y-%m"),
        )

    def run(self) -> dict:
        started = time.monotonic()
        snapshot_days = set(self.config.crm_snapshot_days())
        for day, d in enumerate(self.config.dates):
            recs = self._simulate(day, d)
            n_events = self._write(day, recs, day in snapshot_days)
            self.progress(
                f"{d.isoformat()} day {day + 1}/{self.config.days}: {n_events:,} events, "
                f"{recs.sessions:,} sessions ({time.monotonic() - started:.0f}s)"
            )
        if self.registry.conflicts:
            raise RuntimeError(f"identifier shared by two people: {self.registry.conflicts[:3]}")
        return self._finish()

    def _simulate(self, day: int, d: date) -> DayRecords:
        cfg, seed = self.config, self.config.seed
        day_start = self.window_start + day * MS_DAY
        prefix = d.strftime("%y%m%d")
        policy = self.policies[day >= self.policy_change]
        self.catalogue.advance(day)
        self.junk.begin_day(day)
        order_seq = [0]
        sim = DaySimulator(
            self.pop,
            self.catalogue,
            self.registry,
            day,
            day_start,
            d.weekday(),
            policy,
            rng_for(seed, "sessions", day),
            order_seq,
            prefix,
        )
        act = sim.run()
        add_bot_sessions(sim)
        # after everyone else's, so no other stream draws differently
        shared = self.households.day(day, day_start, d.weekday(), self.catalogue, policy)
        self.junk.sessions(day, act.sessions)
        self.events.add_sessions(act.sessions + shared, rng_for(seed, "events", day))
        human = self.access.add_sessions(act.sessions, rng_for(seed, "web_access", day))
        self.access.add_crawlers(
            day_start, human, self.catalogue, rng_for(seed, "web_access", day, "crawlers")
        )
        self.access.add_sessions(shared, rng_for(seed, "web_access", day, "households"))
        orders = self.orders.add_day(
            day, day_start, act.orders, rng_for(seed, "orders", day), order_seq, prefix
        )
        crm_rng = rng_for(seed, "crm_customers", day)
        for o in orders:
            if o.person.crm_pending and crm_rng.random() < 0.9:
                self.crm.create(o.person, o.t, crm_rng)
        for p, t, _dev in act.signups:
            if p.crm_pending and crm_rng.random() < 0.7:
                self.crm.create(p, t, crm_rng)
        for p, t in act.leads:
            if p.crm_pending:
                self.crm.create(p, t, crm_rng, lead=True)
        self.crm.drift(day_start, crm_rng)
        sub_rng = rng_for(seed, "subscriptions", day)
        subs = self.subs.backfill(self.window_start, sub_rng) if day == 0 else []
        subs += self.subs.day(day, day_start, act.trials, sub_rng)
        self.events.add_server_hits(
            self.orders.take_server_hits() + self.subs.take_server_hits(),
            rng_for(seed, "events", day, "server"),
        )
        support = self.support
        support.queue_reviews(orders, rng_for(seed, "reviews", day, "queue"))
        with_priority = cfg.days > 1 and day >= cfg.days // 3
        return DayRecords(
            subscriptions=subs,
            tickets=support.tickets(
                day, day_start, orders, rng_for(seed, "support_tickets", day), with_priority
            ),
            surveys=support.surveys(day, day_start, rng_for(seed, "surveys", day)),
            reviews=support.reviews(
                day, day_start, self.catalogue.active, rng_for(seed, "reviews", day)
            ),
            social=support.social(day, day_start, rng_for(seed, "social", day)),
            consent=self.consent.day(
                day, day_start, policy, act.banners, act.signups, rng_for(seed, "consent", day)
            ),
            requests=self.privacy.day(day, day_start, rng_for(seed, "privacy_requests", day)),
            sessions=len(act.sessions),
        )

    def _write(self, day: int, recs: DayRecords, crm_snapshot: bool) -> int:
        out = self.out
        out.log("web_access", day, "access.log.gz", self.access.take(day))
        web, mobile = self.events.take(day)
        out.jsonl("events", day, "web.jsonl.gz", web, gz=True)
        out.jsonl("events", day, "mobile.jsonl", mobile, guaranteed=False)
        out.csv(
            "products",
            day,
            "products.csv",
            list(products_mod.HEADER),
            self.catalogue.snapshot_rows(),
        )
        if crm_snapshot:
            cutoff = self.window_start + (day + 1) * MS_DAY
            out.csv(
                "crm_customers",
                day,
                "customers.csv",
                list(crm_mod.HEADER),
                self.crm.snapshot(cutoff),
            )
        out.jsonl("orders", day, "orders.jsonl", [_dumps(r) for r in self.orders.take(day)])
        out.jsonl(
            "subscriptions", day, "subscriptions.jsonl", [_dumps(r) for r in recs.subscriptions]
        )
        header = list(TICKET_HEADER)
        if recs.tickets and len(recs.tickets[0]) > len(header):
            header.append("priority")  # a column the contract does not know about
        out.csv("support_tickets", day, "tickets.csv", header, recs.tickets)
        out.csv("surveys", day, "responses.csv", list(SURVEY_HEADER), recs.surveys, crlf=True)
        out.jsonl("reviews", day, "reviews.jsonl", [_dumps(r) for r in recs.reviews])
        out.jsonl("social", day, "social.jsonl", [_dumps(r) for r in recs.social])
        out.jsonl("consent", day, "consent.jsonl", [_dumps(r) for r in recs.consent])
        out.jsonl("privacy_requests", day, "requests.jsonl", [_dumps(r) for r in recs.requests])
        return len(web) + len(mobile)

    def _finish(self) -> dict:
        self.truth.mkdir(parents=True, exist_ok=True)
        n_ids = write_identities(self.truth / "identities.csv", self.registry)
        n_junk = write_junk(self.truth / "junk_identifiers.csv", self.registry)
        n_bad = write_malformed(self.truth / "malformed.csv", self.out.malformed)
        files = self.out.files
        manifest = {
            "generator": "sample_data",
            "version": GENERATOR_VERSION,
            "config": self.config.as_dict(),
            "sources": self.out.summary(),
            "files": {
                rel: {k: v for k, v in info.items() if k != "source"}
                for rel, info in sorted(files.items())
            },
            "digest": files_digest(files),
            "truth": {"identities": n_ids, "junk_identifiers": n_junk, "malformed": n_bad},
            "junk": self._junk_summary(),
            "events_received_after_end": self.events.dropped,
            "unplaced_malformed_kinds": self.out.plan.unplaced(),
        }
        write_manifest(self.truth / "manifest.json", manifest)
        return manifest

    def _junk_summary(self) -> dict[str, dict[str, int]]:
        """Per kind: junk values written, distinct people carrying them, and how many records
        (CRM, ticket, survey, consent) or sessions the generator altered to inject them."""
        written = self.registry.junk_summary()
        injected = {**self.junk.injected, SHARED_DEVICE: self.households.sessions}
        return {
            kind: {
                **written.get(kind, {"values": 0, "people": 0}),
                "injected": injected.get(kind, 0),
            }
            for kind in sorted(JUNK_KINDS)
        }


def generate(
    config: GeneratorConfig,
    landing_dir: Path,
    truth_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the sample landing folder and its ground truth; returns the manifest."""
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    return Generator(config, landing_dir, truth_dir, progress).run()
