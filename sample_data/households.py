"""Shared devices: a family computer or tablet, a shop kiosk, where two people sign in.

Each household is two customers (accounts from before the window, one time zone) and
one device nobody else uses: a browser (its `ajs_anonymous_id` cookie never rotates) or an
app install (its `context.device.id` and anonymousId). Every session on it starts signed
out (whoever used it last is not signed in any more: a few anonymous calls), then the
person signs in with their own user id (`Signed In`, `identify`) and uses the app or looks
at products — never a checkout, so the other sources are untouched. Both members use it on
the first day they are active, then on about one day in eight each, at their own hours:
their sessions interleave in time.

The device id and the anonymousId belong to nobody: the registry watches them (kind
`shared_device`); one that only one person ended up using is that person's after all.

Randomness: rng_for(seed, "households", "init") for who and which device,
rng_for(seed, "households", day) for the day's sessions; the access-log lines of these
sessions use rng_for(seed, "web_access", day, "households"). No other stream draws more or
less than before.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .config import GeneratorConfig, rng_for
from .devices import Device, make_app_device, make_web_device, uuid4_from
from .people import Person, Population
from .products import Catalogue
from .sessions import DaySimulator, Session, _State
from .truth import SHARED_DEVICE, Registry

CUSTOMERS_PER_HOUSEHOLD = 500
MIN_HOUSEHOLDS = 2  # one shared browser and one shared app install, at least
DAILY_USE = 0.12  # chance that a member uses the shared device on a later active day


@dataclass
class Household:
    members: list[Person]
    device: Device
    used_by: set[int] = field(default_factory=set)


class Households:
    def __init__(self, config: GeneratorConfig, pop: Population, registry: Registry) -> None:
        self.config = config
        self.pop = pop
        self.registry = registry
        self.sessions = 0
        self.households: list[Household] = []
        rng = rng_for(config.seed, "households", "init")
        candidates = [p for p in pop.customers if p.user_id and p.first_day == 0]
        rng.shuffle(candidates)
        wanted = max(MIN_HOUSEHOLDS, config.customers // CUSTOMERS_PER_HOUSEHOLD)
        taken: set[int] = set()
        for a in candidates:
            if len(self.households) >= wanted:
                break
            if a.idx in taken:
                continue
            b = next(
                (c for c in candidates if c.idx not in taken | {a.idx} and c.tz == a.tz),
                None,
            )
            if b is None:
                continue
            taken |= {a.idx, b.idx}
            home_ip = a.devices[0].ip
            if len(self.households) % 2 == 0:
                dev = make_web_device(a.country, rng, home_ip)
            else:
                dev = make_app_device(a.country, rng, home_ip)
            dev.anon_ids.append(uuid4_from(rng, upper=dev.kind == "ios"))
            registry.watch("anonymous_id", dev.anon_ids[0], SHARED_DEVICE)
            if dev.device_id:
                registry.watch("device_id", dev.device_id, SHARED_DEVICE)
            self.households.append(Household([a, b], dev))

    def day(
        self,
        day: int,
        day_start: int,
        weekday: int,
        catalogue: Catalogue,
        policy: str,
    ) -> list[Session]:
        """The day's sessions on shared devices (appended after everyone else's)."""
        rng = rng_for(self.config.seed, "households", day)
        sim = DaySimulator(
            self.pop,
            catalogue,
            self.registry,
            day,
            day_start,
            weekday,
            policy,
            rng,
            [0],
            "HH",
        )
        out: list[Session] = []
        for hh in self.households:
            for p in hh.members:
                if not p.active_on(day):
                    continue
                if p.idx in hh.used_by and rng.random() >= DAILY_USE:
                    continue
                hh.used_by.add(p.idx)
                out.append(self._session(sim, hh, p, rng))
        self.sessions += len(out)
        return out

    def _session(self, sim: DaySimulator, hh: Household, p: Person, rng: random.Random) -> Session:
        dev = hh.device
        first_use = not dev.used
        dev.used = True
        dev.identified = False  # whoever used it last is not signed in any more
        s = Session(p, p.person_id, dev, None, [], dev.kind == "web" and first_use)
        s.household = True
        st = _State(sim, s, sim._start_time(p))
        if dev.is_app:
            assert dev.app is not None
            st.tick(0, 1)
            if first_use:
                installed = {"version": dev.app[0], "build": dev.app[1]}
                st.hit("track", "Application Installed", installed)
            st.track("Application Opened", {"from_background": False, "version": dev.app[0]})
            st.view("Home", "", "")
        else:
            st.view("Home", "/", "Lumina")
        st.login()
        if rng.random() < 0.5:
            st.app_usage()
        else:
            for _ in range(1 + int(rng.expovariate(1 / 1.5))):
                st.product_view(rng.choice(sim.catalogue.active))
        if dev.is_app:
            st.track("Application Backgrounded", {})
        return s
