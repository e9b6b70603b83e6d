"""Orders and subscriptions (products live in products.py)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from .people import Person, Population
from .products import Catalogue, convert
from .sessions import Hit, Order
from .timeutil import MS_DAY, MS_HOUR, iso_local_s, iso_utc_s, utc_offset_min
from .truth import Registry
from .variants import email_variant

FLOOR = 5  # at least this many records a day in sparse sources (room for injected mess)
PLAN_USD = {"basic": 9.99, "plus": 19.99, "pro": 49.99, "business": 99.0}
PLAN_ORDER = ("basic", "plus", "pro", "business")
TRIAL_DAYS = 14


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    k, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def pick_active(rng: random.Random, people: list[Person], day: int, pred=None) -> Person | None:
    """A random person active on `day` (and matching pred), or None after a few tries."""
    for _ in range(60):
        p = rng.choice(people)
        if p.active_on(day) and (pred is None or pred(p)):
            return p
    return None


def _blank(rng: random.Random) -> object:
    """How an export writes 'no value': null, empty string, or leaves the key out."""
    r = rng.random()
    return None if r < 0.6 else ("" if r < 0.8 else ...)


def put_ref(rec: dict, key: str, value: str, rng: random.Random) -> None:
    """Set a customer-reference member, writing an empty one in one of the usual ways."""
    if value:
        rec[key] = value
        return
    blank = _blank(rng)
    if blank is not ...:
        rec[key] = blank


class Orders:
    def __init__(
        self,
        pop: Population,
        catalogue: Catalogue,
        registry: Registry,
        window_start: int,
        days: int,
    ) -> None:
        self.pop = pop
        self.catalogue = catalogue
        self.registry = registry
        self.window_start = window_start
        self.days = days
        self.pending: dict[int, list[tuple[int, str, dict]]] = defaultdict(list)
        self.refunds: dict[int, list[Order]] = defaultdict(list)
        self.server_hits: list[tuple[Person, Hit]] = []

    def _day_of(self, ms: int) -> int:
        return (ms - self.window_start) // MS_DAY

    def _record(self, o: Order, status: str, rng: random.Random, at: int | None = None) -> dict:
        p = o.person
        reg = self.registry
        rec: dict = {"order_id": o.order_id}
        crm_id = ""
        if p.crm_ids and (o.channel in ("phone", "store") or rng.random() < 0.45):
            crm_id = p.crm_ids[0]
        email = o.email
        if o.channel in ("phone", "store") and not crm_id:
            email = p.email if rng.random() < 0.85 else email_variant(p.email, rng)
        elif o.channel in ("phone", "store") and rng.random() < 0.4:
            email = p.email
        put_ref(rec, "crm_id", crm_id, rng)
        put_ref(rec, "user_id", o.user_id, rng)
        put_ref(rec, "email", email, rng)
        reg.add(p.person_id, "crm_id", crm_id)
        reg.add(p.person_id, "user_id", o.user_id)
        reg.add(p.person_id, "email", email)
        rec["ordered_at"] = iso_local_s(o.t, utc_offset_min(p.tz, o.t))
        rec["status"] = status
        rec["currency"] = o.currency
        rec["total"] = o.total
        rec["items"] = [
            {"product_id": pr.product_id, "quantity": q, "unit_price": price}
            for pr, q, price in o.items
        ]
        rec["channel"] = o.channel
        rec["shipping"] = o.shipping
        if o.coupon:
            rec["coupon_code"] = o.coupon
            rec["discount"] = o.discount
        if at is not None:
            rec["refunded_at"] = iso_utc_s(at)
        return rec

    def _server_hit(self, o: Order, event: str, t: int) -> None:
        if o.person.user_id and o.person.has_account(self._day_of(t)):
            props = {"order_id": o.order_id, "total": o.total, "currency": o.currency}
            self.server_hits.append(
                (o.person, Hit(t, "track", event, props, None, None, o.person.user_id))
            )

    def _offline_order(
        self, day: int, day_start: int, rng: random.Random, seq: list[int], prefix: str
    ) -> Order | None:
        p = pick_active(rng, self.pop.customers, day)
        if p is None:
            return None
        seq[0] += 1
        items = []
        for _ in range(1 + (rng.random() < 0.3)):
            pr = rng.choice(self.catalogue.active)
            items.append((pr, 1, convert(pr.price_usd, p.currency)))
        t = day_start + rng.randint(8 * MS_HOUR, 20 * MS_HOUR)
        channel = "phone" if rng.random() < 0.5 else "store"
        p.orders += 1
        return Order(
            f"ORD-{prefix}-{seq[0]:05d}", p, t, channel, p.currency, items, 0.0, 0.0, None, "", ""
        )

    def add_day(
        self,
        day: int,
        day_start: int,
        online: list[Order],
        rng: random.Random,
        seq: list[int],
        prefix: str,
    ) -> list[Order]:
        """Route the day's orders (and refunds due) to their delivery days; returns new orders."""
        orders = list(online)
        for _ in range(poisson(rng, 0.08 * len(online) + 0.3)):
            o = self._offline_order(day, day_start, rng, seq, prefix)
            if o:
                orders.append(o)
        due = len(self.pending.get(day, [])) + len(self.refunds.get(day, []))
        due += sum(1 for o in orders if self._day_of(o.t) == day)
        for _ in range(max(0, FLOOR - due)):
            o = self._offline_order(day, day_start, rng, seq, prefix)
            if o:
                orders.append(o)
        if day == self.days // 2 and orders and not any(o.coupon for o in orders):
            # at least one order per run carries the optional coupon fields (an offline one:
            # its event stream has nothing to contradict)
            o = next((x for x in orders if x.channel in ("phone", "store")), orders[0])
            o.coupon, o.discount = "WELCOME10", round(0.1 * sum(q * pr for _, q, pr in o.items), 2)
        for o in orders:
            status = "completed"
            r = rng.random()
            if r < 0.04:
                status = o.status = "cancelled"
                self._server_hit(o, "Order Cancelled", o.t + rng.randint(MS_HOUR, 6 * MS_HOUR))
            elif r < 0.09:
                o.refund_t = o.t + rng.randint(2 * MS_DAY, 15 * MS_DAY)
                self.refunds[self._day_of(o.refund_t)].append(o)
            self.pending[self._day_of(o.t)].append((o.t, o.order_id, self._record(o, status, rng)))
        for o in self.refunds.pop(day, []):
            o.status = "refunded"
            self.pending[day].append(
                (o.refund_t, o.order_id, self._record(o, "refunded", rng, o.refund_t))
            )
            self._server_hit(o, "Order Refunded", o.refund_t)
        return orders

    def take(self, day: int) -> list[dict]:
        recs = self.pending.pop(day, [])
        recs.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in recs]

    def take_server_hits(self) -> list[tuple[Person, Hit]]:
        hits, self.server_hits = self.server_hits, []
        return hits


@dataclass(slots=True)
class Subscription:
    subscription_id: str
    plan: str
    status: str  # trialing | active | cancelled
    trial_end_day: int = -1


class Subscriptions:
    def __init__(self, pop: Population, registry: Registry) -> None:
        self.pop = pop
        self.registry = registry
        self.subscribers: list[Person] = []
        self.server_hits: list[tuple[Person, Hit]] = []
        self._next = 100_000

    def _new_id(self, rng: random.Random) -> str:
        self._next += 1
        return f"sub_{self._next}{rng.getrandbits(16):04x}"

    def _record(
        self, p: Person, change: str, plan: str, previous: str, t: int, rng: random.Random
    ) -> dict:
        sub = p.sub
        assert isinstance(sub, Subscription)
        rec: dict = {"subscription_id": sub.subscription_id}
        crm_id = p.crm_ids[0] if p.crm_ids and rng.random() < 0.3 else ""
        email = p.email if rng.random() < 0.5 else ""
        put_ref(rec, "crm_id", crm_id, rng)
        rec["user_id"] = p.user_id
        put_ref(rec, "email", email, rng)
        for t_, v in (("crm_id", crm_id), ("user_id", p.user_id), ("email", email)):
            self.registry.add(p.person_id, t_, v)
        mrr = 0.0
        if plan in PLAN_USD and change != "cancel":
            mrr = convert(PLAN_USD[plan], p.currency)
        rec |= {"plan": plan, "change": change, "changed_at": iso_utc_s(t), "mrr": mrr}
        rec |= {
            "currency": p.currency,
            "previous_plan": previous or None,
            "billing_period": "monthly",
        }
        return rec

    def _start(self, p: Person, plan: str, t: int, day: int, rng: random.Random) -> dict:
        if p.sub is None:
            p.sub = Subscription(self._new_id(rng), plan, "active")
            self.subscribers.append(p)
        sub = p.sub
        assert isinstance(sub, Subscription)
        sub.plan = plan
        if plan == "plus_trial":
            sub.status, sub.trial_end_day = "trialing", day + TRIAL_DAYS
        else:
            sub.status = "active"
        return self._record(p, "start", plan, "", t, rng)

    def backfill(self, window_start: int, rng: random.Random) -> list[dict]:
        """Day 1 carries the state of subscriptions started before the window."""
        out = []
        for p in self.pop.customers:
            if p.account_day is not None and p.account_day < 0 and rng.random() < 0.45:
                plan = rng.choices(PLAN_ORDER, weights=(40, 35, 15, 10 if p.b2b else 1))[0]
                t = min(window_start - MS_HOUR, p.account_ms + rng.randint(0, 60) * MS_DAY)
                out.append(self._start(p, plan, t, -1, rng))
        out.sort(key=lambda r: (r["changed_at"], r["subscription_id"]))
        return out

    def day(
        self, day: int, day_start: int, trials: list[tuple[Person, int]], rng: random.Random
    ) -> list[dict]:
        out: list[dict] = []

        def when() -> int:
            return day_start + rng.randrange(MS_DAY)

        for p, t in trials:
            t = min(t, day_start + MS_DAY - 1_000)
            if p.sub is None or p.sub.status == "cancelled":  # type: ignore[union-attr]
                out.append(self._start(p, "plus_trial", t, day, rng))
        for p in self.subscribers:
            if not p.active_on(day):
                continue
            sub = p.sub
            assert isinstance(sub, Subscription)
            if sub.status == "trialing":
                if day >= sub.trial_end_day:
                    t = when()
                    converted = rng.random() < 0.45
                    props = {"trial_plan_name": "plus", "converted": converted}
                    self.server_hits.append(
                        (p, Hit(t, "track", "Trial Ended", props, None, None, p.user_id))
                    )
                    if converted:
                        out.append(self._change(p, "upgrade", "plus", t, rng))
                    else:
                        out.append(self._change(p, "cancel", sub.plan, t, rng))
            elif sub.status == "active":
                r = rng.random()
                idx = PLAN_ORDER.index(sub.plan) if sub.plan in PLAN_ORDER else 0
                if r < 0.0025 and idx < len(PLAN_ORDER) - 1:
                    out.append(self._change(p, "upgrade", PLAN_ORDER[idx + 1], when(), rng))
                elif r < 0.004 and idx > 0:
                    out.append(self._change(p, "downgrade", PLAN_ORDER[idx - 1], when(), rng))
                elif r < 0.006:
                    out.append(self._change(p, "cancel", sub.plan, when(), rng))
            elif rng.random() < 0.003:
                plan = sub.plan if sub.plan in PLAN_ORDER else "basic"
                out.append(self._change(p, "reactivate", plan, when(), rng))
        n_new = poisson(rng, 0.0008 * len(self.pop.customers))
        for _ in range(max(n_new, FLOOR - len(out))):
            out.extend(self._extra_change(day, when(), rng))
        out.sort(key=lambda r: (r["changed_at"], r["subscription_id"]))
        return out

    def _extra_change(self, day: int, t: int, rng: random.Random) -> list[dict]:
        """A new subscriber if there is one to be had, else a plan change of an existing one."""
        customers = self.pop.customers
        p = pick_active(rng, customers, day, lambda q: q.sub is None and q.has_account(day))
        if p is not None:
            plan = rng.choices(PLAN_ORDER, weights=(45, 35, 15, 5))[0]
            return [self._start(p, plan, t, day, rng)]
        p = pick_active(rng, self.subscribers or customers, day, lambda q: q.sub is not None)
        if p is None:
            return []
        sub = p.sub
        assert isinstance(sub, Subscription)
        if sub.status == "cancelled":
            plan = sub.plan if sub.plan in PLAN_ORDER else "basic"
            return [self._change(p, "reactivate", plan, t, rng)]
        if sub.status == "trialing":
            return []
        idx = PLAN_ORDER.index(sub.plan)
        if idx < len(PLAN_ORDER) - 1:
            return [self._change(p, "upgrade", PLAN_ORDER[idx + 1], t, rng)]
        return [self._change(p, "downgrade", PLAN_ORDER[idx - 1], t, rng)]

    def _change(self, p: Person, change: str, plan: str, t: int, rng: random.Random) -> dict:
        sub = p.sub
        assert isinstance(sub, Subscription)
        previous = sub.plan
        sub.plan = plan
        sub.status = "cancelled" if change == "cancel" else "active"
        return self._record(p, change, plan, previous, t, rng)

    def take_server_hits(self) -> list[tuple[Person, Hit]]:
        hits, self.server_hits = self.server_hits, []
        return hits
