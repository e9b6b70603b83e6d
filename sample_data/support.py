"""Support tickets, surveys, product reviews and social-media interactions."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .commerce import FLOOR, pick_active, poisson, put_ref
from .people import Person, Population
from .sessions import Order
from .texts import THEMES, review_text, social_text, survey_comment, ticket_text
from .timeutil import MS_DAY, MS_HOUR, MS_MIN, iso_local_s, iso_utc_ms, iso_utc_s, utc_offset_min
from .truth import Registry
from .variants import email_variant

if TYPE_CHECKING:
    from .junk import Junk

TICKET_HEADER = (
    "ticket_id",
    "crm_id",
    "user_id",
    "email",
    "channel",
    "category",
    "subject",
    "body",
    "status",
    "created_at",
    "first_response_at",
    "resolved_at",
    "csat",
)
SURVEY_HEADER = (
    "response_id",
    "crm_id",
    "user_id",
    "email",
    "survey",
    "score",
    "comment",
    "language",
    "submitted_at",
)
THEME_WEIGHTS = (15, 25, 15, 15, 10, 12, 8)
PLATFORMS = ("instagram", "twitter", "facebook", "tiktok", "linkedin")
SOCIAL_KINDS = (("like", 35), ("share", 15), ("comment", 20), ("mention", 15), ("follow", 15))


@dataclass(slots=True)
class Ticket:
    ticket_id: str
    person: Person
    ref: tuple[str, str, str]  # crm_id, user_id, email as written on the ticket
    channel: str
    category: str
    subject: str
    body: str
    created: int
    first_response: int
    resolved: int
    csat: int | None


def _ref(
    p: Person,
    rng: random.Random,
    registry: Registry,
    email_share: float = 0.85,
    junk: tuple[Junk, str] | None = None,
) -> tuple[str, str, str]:
    """Which customer-reference columns a record carries; never all empty. junk: (Junk,
    source) for the forms where a placeholder e-mail may be typed instead."""
    crm_id = p.crm_ids[0] if p.crm_ids and rng.random() < 0.3 else ""
    user_id = p.user_id if p.user_id and rng.random() < 0.4 else ""
    email = ""
    if rng.random() < email_share or not (crm_id or user_id):
        email = p.email if rng.random() < 0.9 else email_variant(p.email, rng)
    if junk is not None:
        email = junk[0].form_email(junk[1], p, email)
    for t, v in (("crm_id", crm_id), ("user_id", user_id), ("email", email)):
        registry.add(p.person_id, t, v)
    return crm_id, user_id, email


class Support:
    def __init__(
        self,
        pop: Population,
        registry: Registry,
        window_start: int,
        days: int,
        junk: Junk | None = None,
    ) -> None:
        self.pop = pop
        self.registry = registry
        self.junk = junk
        self.window_start = window_start
        self.days = days
        self.resolutions: dict[int, list[Ticket]] = defaultdict(list)
        self.followups: dict[int, list[tuple[Ticket, str]]] = defaultdict(
            list
        )  # csat / ces surveys
        self.review_queue: dict[int, list[Order]] = defaultdict(list)
        self._ticket_seq = 0
        self._handles = [p for p in pop.people if p.handle]

    def _junk(self, source: str) -> tuple[Junk, str] | None:
        return None if self.junk is None else (self.junk, source)

    # --- tickets ------------------------------------------------------------------------

    def _ticket_row(self, t: Ticket, day_end: int, final: bool, priority: str | None) -> list[str]:
        responded = t.first_response < day_end
        if final:
            status = "solved" if t.csat is None or t.csat >= 3 else "closed"
        else:
            status = "pending" if responded else "open"
        row = [
            t.ticket_id,
            *t.ref,
            t.channel,
            t.category,
            t.subject,
            t.body,
            status,
            iso_utc_s(t.created),
            iso_utc_s(t.first_response) if responded else "",
            iso_utc_s(t.resolved) if final else "",
            str(t.csat) if final and t.csat is not None else "",
        ]
        if priority is not None:
            row.append(priority)
        return row

    def tickets(
        self, day: int, day_start: int, orders: list[Order], rng: random.Random, with_priority: bool
    ) -> list[list[str]]:
        day_end = day_start + MS_DAY
        rows: list[tuple[int, str, list[str]]] = []

        def prio() -> str | None:
            if not with_priority:
                return None
            return rng.choices(("low", "normal", "high", "urgent"), weights=(20, 55, 20, 5))[0]

        for t in self.resolutions.pop(day, []):
            rows.append((t.resolved, t.ticket_id, self._ticket_row(t, day_end, True, prio())))
        order_people = [o for o in orders if rng.random() < 0.03]
        n = poisson(rng, 0.0015 * len(self.pop.customers)) + len(order_people)
        n = max(n, FLOOR - len(rows))
        for i in range(n):
            order = order_people[i] if i < len(order_people) else None
            p = order.person if order else pick_active(rng, self.pop.customers, day)
            if p is None:
                continue
            t = self._new_ticket(p, day_start, order, rng)
            same_day = t.resolved < day_end
            rows.append((t.created, t.ticket_id, self._ticket_row(t, day_end, same_day, prio())))
            if not same_day:
                self.resolutions[(t.resolved - self.window_start) // MS_DAY].append(t)
            if rng.random() < 0.35:
                kind = "csat" if rng.random() < 0.7 else "ces"
                due = (t.resolved - self.window_start) // MS_DAY + rng.randint(1, 2)
                self.followups[due].append((t, kind))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in rows]

    def _new_ticket(
        self, p: Person, day_start: int, order: Order | None, rng: random.Random
    ) -> Ticket:
        self._ticket_seq += 1
        theme = rng.choices(THEMES, weights=THEME_WEIGHTS)[0]
        if order is not None:
            theme = rng.choice(("delivery", "billing", "refund", "product_quality"))
        channel = rng.choices(("email", "chat", "web_form", "phone"), weights=(45, 25, 20, 10))[0]
        product = order.items[0][0].name if order else ""
        subject, body = ticket_text(
            p.lang, theme, rng, p.first_name, order.order_id if order else "", product
        )
        created = (
            order.t + rng.randint(MS_HOUR, 8 * MS_HOUR)
            if order
            else day_start + rng.randrange(MS_DAY)
        )
        created = min(created, day_start + MS_DAY - MS_MIN)
        first = created + int(rng.lognormvariate(1.2, 1.0) * MS_HOUR)
        resolved = first + int(rng.expovariate(1 / 40) * MS_HOUR)
        csat = None
        if rng.random() < 0.6:
            fast = resolved - created < 24 * MS_HOUR
            csat = max(
                1, min(5, round(rng.gauss(2.5 + 2 * p.satisfaction + (0.6 if fast else -0.6), 1)))
            )
        return Ticket(
            f"TCK-{100000 + self._ticket_seq}",
            p,
            _ref(p, rng, self.registry, junk=self._junk("support_tickets")),
            channel,
            theme,
            subject,
            body,
            created,
            first,
            resolved,
            csat,
        )

    # --- surveys ------------------------------------------------------------------------

    def surveys(self, day: int, day_start: int, rng: random.Random) -> list[list[str]]:
        rows: list[tuple[int, list[str]]] = []
        for t, kind in self.followups.pop(day, []):
            p = t.person
            if not p.active_on(day):
                continue
            at = day_start + rng.randrange(MS_DAY)  # the day after resolution, or later
            if kind == "csat":
                score = (
                    t.csat
                    if t.csat is not None
                    else max(1, min(5, round(rng.gauss(4 * p.satisfaction + 1, 1))))
                )
                band = "neg" if score <= 2 else ("mid" if score == 3 else "pos")
            else:
                score = max(1, min(7, round(rng.gauss(7 - 4 * p.satisfaction, 1.2))))
                band = "neg" if score >= 5 else ("mid" if score == 4 else "pos")
            rows.append((at, self._survey_row(p, kind, score, band, t.category, at, rng)))
        n = poisson(rng, 0.0012 * len(self.pop.customers))
        for _ in range(max(n, FLOOR - len(rows))):
            p = pick_active(rng, self.pop.customers, day)
            if p is None:
                continue
            at = day_start + rng.randrange(MS_DAY)
            score = max(0, min(10, round(rng.gauss(10 * p.satisfaction, 1.8))))
            band = "neg" if score <= 6 else ("mid" if score <= 8 else "pos")
            theme = rng.choice(THEMES)
            rows.append((at, self._survey_row(p, "nps", score, band, theme, at, rng)))
        rows.sort(key=lambda r: (r[0], r[1][0]))
        return [r[1] for r in rows]

    def _survey_row(
        self, p: Person, kind: str, score: int, band: str, theme: str, at: int, rng: random.Random
    ) -> list[str]:
        comment = survey_comment(p.lang, band, theme, rng) if rng.random() < 0.65 else ""
        crm_id, user_id, email = _ref(p, rng, self.registry, 0.7, self._junk("surveys"))
        rid = f"RSP-{rng.getrandbits(40):010x}"
        submitted = iso_local_s(at, utc_offset_min(p.tz, at))
        return [rid, crm_id, user_id, email, kind, str(score), comment, p.lang, submitted]

    # --- reviews ------------------------------------------------------------------------

    def queue_reviews(self, orders: list[Order], rng: random.Random) -> None:
        for o in orders:
            if o.status == "completed" and rng.random() < 0.15:
                due = (o.t - self.window_start) // MS_DAY + rng.randint(3, 20)
                self.review_queue[due].append(o)

    def reviews(
        self, day: int, day_start: int, catalogue_active: list, rng: random.Random
    ) -> list[dict]:
        out: list[tuple[int, str, dict]] = []
        items: list[tuple[Person, str, bool]] = []
        for o in self.review_queue.pop(day, []):
            if o.person.active_on(day):
                items.append((o.person, o.items[0][0].product_id, True))
        n = poisson(rng, 0.0015 * len(self.pop.customers))
        for _ in range(max(n, FLOOR - len(items))):
            p = pick_active(rng, self.pop.customers, day)
            if p is not None:
                items.append((p, rng.choice(catalogue_active).product_id, False))
        for p, product_id, verified in items:
            at = day_start + rng.randrange(MS_DAY)
            r = rng.gauss(1 + 4 * p.satisfaction, 1.1)
            rating = max(1, min(5, round(r)))
            title, text = review_text(p.lang, rating, rng)
            rec: dict = {"review_id": f"REV-{rng.getrandbits(40):010x}"}
            crm_id, user_id, email = _ref(p, rng, self.registry, 0.6)
            put_ref(rec, "crm_id", crm_id, rng)
            put_ref(rec, "user_id", user_id, rng)
            put_ref(rec, "email", email, rng)
            rec |= {"product_id": product_id, "rating": rating, "title": title, "text": text}
            rec |= {"language": p.lang, "created_at": iso_utc_s(at), "verified_purchase": verified}
            out.append((at, rec["review_id"], rec))
        out.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in out]

    # --- social -------------------------------------------------------------------------

    def social(self, day: int, day_start: int, rng: random.Random) -> list[dict]:
        out: list[tuple[int, str, dict]] = []
        if not self._handles:
            return []
        n = poisson(rng, 0.01 * len(self._handles))
        for _ in range(max(n, FLOOR)):
            p = pick_active(rng, self._handles, day) or rng.choice(self._handles)
            at = day_start + rng.randrange(MS_DAY)
            platform = "linkedin" if p.b2b and rng.random() < 0.4 else rng.choice(PLATFORMS[:4])
            kind = rng.choices([k for k, _ in SOCIAL_KINDS], weights=[w for _, w in SOCIAL_KINDS])[
                0
            ]
            text = (
                social_text(p.lang, rng.random() < p.satisfaction, rng)
                if kind in ("comment", "mention")
                else None
            )
            post = rng.getrandbits(60)
            url = {
                "instagram": f"https://www.instagram.com/p/{post:015x}/",
                "twitter": f"https://twitter.com/{p.handle[1:]}/status/{post}",
                "facebook": f"https://www.facebook.com/lumina/posts/{post}",
                "tiktok": f"https://www.tiktok.com/@lumina/video/{post}",
                "linkedin": f"https://www.linkedin.com/feed/update/urn:li:activity:{post}/",
            }[platform]
            rec: dict = {"interaction_id": f"soc_{rng.getrandbits(64):016x}", "platform": platform}
            rec |= {
                "handle": p.handle,
                "kind": kind,
                "text": text,
                "url": url,
                "created_at": iso_utc_ms(at),
            }
            self.registry.add(p.person_id, "social_handle", p.handle)
            if p.kind == "customer" and rng.random() < 0.3:  # linked through social login
                if p.user_id and rng.random() < 0.6:
                    rec["user_id"] = p.user_id
                    self.registry.add(p.person_id, "user_id", p.user_id)
                else:
                    rec["email"] = p.email
                    self.registry.add(p.person_id, "email", p.email)
            out.append((at, rec["interaction_id"], rec))
        out.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in out]
