"""Pools of people: built once from a bounded number of Faker calls, then reused."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

from .config import GeneratorConfig, derive_seed, rng_for
from .devices import Device, make_app_device, make_web_device, random_ip
from .timeutil import MS_DAY, day_start_ms
from .variants import ascii_slug, email_key

LOCALES = ("en_US", "pt_BR", "es_ES", "it_IT")
LOCALE_WEIGHTS = (40, 25, 17, 18)
LANG = {"en_US": "en", "pt_BR": "pt", "es_ES": "es", "it_IT": "it"}
POOL_SIZE = 250  # Faker draws per list per locale: independent of the number of people

# locale -> [(country, weight)]
COUNTRIES = {
    "en_US": (("US", 85), ("GB", 8), ("CA", 5), ("AU", 2)),
    "pt_BR": (("BR", 100),),
    "es_ES": (("ES", 100),),
    "it_IT": (("IT", 100),),
}
JURISDICTION = {"US": "CCPA", "BR": "LGPD", "ES": "GDPR", "IT": "GDPR", "GB": "GDPR"}
CURRENCY = {
    "US": "USD",
    "CA": "CAD",
    "GB": "GBP",
    "AU": "AUD",
    "BR": "BRL",
    "ES": "EUR",
    "IT": "EUR",
}
WEB_LOCALE = {"US": "en-US", "CA": "en-CA", "GB": "en-GB", "AU": "en-AU", "BR": "pt-BR"}
WEB_LOCALE.update({"ES": "es-ES", "IT": "it-IT"})
TIMEZONES = {
    "US": (
        ("America/New_York", 45),
        ("America/Chicago", 25),
        ("America/Denver", 8),
        ("America/Los_Angeles", 22),
    ),
    "CA": (("America/Toronto", 70), ("America/Vancouver", 30)),
    "GB": (("Europe/London", 100),),
    "AU": (("Australia/Sydney", 100),),
    "BR": (("America/Sao_Paulo", 85), ("America/Manaus", 5), ("America/Recife", 10)),
    "ES": (("Europe/Madrid", 93), ("Atlantic/Canary", 7)),
    "IT": (("Europe/Rome", 100),),
}
CITIES = {
    "US": (
        "New York",
        "Los Angeles",
        "Chicago",
        "Houston",
        "Phoenix",
        "Philadelphia",
        "San Antonio",
        "San Diego",
        "Dallas",
        "Austin",
        "Seattle",
        "Denver",
        "Boston",
        "Atlanta",
        "Miami",
        "Portland",
    ),
    "CA": ("Toronto", "Vancouver", "Ottawa", "Montreal", "Calgary"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth"),
    "BR": (
        "São Paulo",
        "Rio de Janeiro",
        "Belo Horizonte",
        "Curitiba",
        "Porto Alegre",
        "Brasília",
        "Salvador",
        "Recife",
        "Fortaleza",
        "Campinas",
        "Florianópolis",
        "Goiânia",
    ),
    "ES": (
        "Madrid",
        "Barcelona",
        "Valencia",
        "Sevilla",
        "Zaragoza",
        "Málaga",
        "Bilbao",
        "Alicante",
        "Córdoba",
        "Valladolid",
        "Las Palmas de Gran Canaria",
    ),
    "IT": (
        "Roma",
        "Milano",
        "Napoli",
        "Torino",
        "Palermo",
        "Genova",
        "Bologna",
        "Firenze",
        "Bari",
        "Verona",
        "Padova",
        "Forlì",
    ),
}
EMAIL_DOMAINS = {
    "US": (("gmail.com", 45), ("yahoo.com", 14), ("outlook.com", 10), ("hotmail.com", 9)),
    "CA": (("gmail.com", 50), ("outlook.com", 20), ("yahoo.ca", 15), ("hotmail.com", 15)),
    "GB": (("gmail.com", 40), ("hotmail.co.uk", 20), ("outlook.com", 15), ("btinternet.com", 10)),
    "AU": (("gmail.com", 50), ("bigpond.com", 20), ("outlook.com", 15), ("yahoo.com.au", 15)),
    "BR": (("gmail.com", 55), ("hotmail.com", 15), ("outlook.com", 8), ("yahoo.com.br", 8)),
    "ES": (("gmail.com", 50), ("hotmail.es", 15), ("hotmail.com", 10), ("yahoo.es", 8)),
    "IT": (("gmail.com", 45), ("libero.it", 15), ("hotmail.it", 10), ("yahoo.it", 10)),
}
EXTRA_DOMAINS = {
    "US": ("icloud.com", "aol.com", "comcast.net"),
    "CA": ("icloud.com", "rogers.com"),
    "GB": ("icloud.com", "sky.com"),
    "AU": ("icloud.com", "optusnet.com.au"),
    "BR": ("uol.com.br", "bol.com.br", "terra.com.br"),
    "ES": ("outlook.es", "telefonica.net", "icloud.com"),
    "IT": ("alice.it", "virgilio.it", "tiscali.it", "outlook.it"),
}
US_AREA = (212, 305, 312, 404, 415, 512, 617, 646, 702, 713, 718, 206, 303, 480, 503, 614, 704)
CA_AREA = (416, 604, 514, 403, 613, 647)
BR_DDD = (11, 21, 31, 41, 51, 61, 71, 81, 85, 19, 27, 48, 62)
SOCIAL_PLATFORMS = ("instagram", "twitter", "facebook", "tiktok", "linkedin")


@dataclass(slots=True)
class Person:
    idx: int
    person_id: str
    kind: str  # customer | visitor
    locale: str
    lang: str
    country: str
    tz: str
    jurisdiction: str
    currency: str
    web_locale: str
    first_name: str
    last_name: str
    gender: str
    birth_date: date | None
    city: str
    email: str = ""
    phone: str = ""
    b2b: bool = False
    company: str = ""
    job_title: str = ""
    group_id: str = ""
    handle: str = ""
    devices: list[Device] = field(default_factory=list)
    activity: float = 0.1  # probability of at least one session on a given day
    peak_hours: tuple[int, int] = (12, 20)
    weekend_factor: float = 1.0
    first_day: int = 0  # first day index on which the person may be active
    last_day: int = 10**6  # churn: last active day index
    user_id: str = ""
    account_day: int | None = None  # day index the account exists from (negative: before)
    account_ms: int = 0  # when the account was opened (ms since epoch)
    crm_ids: list[str] = field(default_factory=list)
    crm_pending: bool = False  # gets a CRM record at its first order / sign-up / demo request
    erased_day: int | None = None
    satisfaction: float = 0.7
    consent_propensity: float = 0.6
    orders: int = 0
    sub: object | None = None  # commerce.Subscription

    def active_on(self, day: int) -> bool:
        if self.erased_day is not None and day >= self.erased_day:
            return False
        return self.first_day <= day <= self.last_day

    def has_account(self, day: int) -> bool:
        return self.account_day is not None and self.account_day <= day


@dataclass(slots=True)
class LocalePool:
    female: list[str]
    male: list[str]
    last: list[str]
    jobs: list[str]
    companies: list[str]


@dataclass
class Population:
    people: list[Person]
    customers: list[Person]
    visitors: list[Person]
    by_user_id: dict[str, Person] = field(default_factory=dict)
    emails_used: set[str] = field(default_factory=set)
    phones_used: set[str] = field(default_factory=set)
    user_ids_used: set[str] = field(default_factory=set)


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        v = v.strip()
        if v:
            seen.setdefault(v, None)
    return list(seen)


def build_pools(seed: int) -> dict[str, LocalePool]:
    """A bounded number of Faker draws per locale (POOL_SIZE each, whatever the scale)."""
    pools: dict[str, LocalePool] = {}
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(derive_seed(seed, "faker", locale))
        pools[locale] = LocalePool(
            female=_unique([fake.first_name_female() for _ in range(POOL_SIZE)]),
            male=_unique([fake.first_name_male() for _ in range(POOL_SIZE)]),
            last=_unique([fake.last_name() for _ in range(POOL_SIZE)]),
            jobs=_unique([fake.job() for _ in range(POOL_SIZE // 2)]),
            companies=_unique([fake.company() for _ in range(POOL_SIZE // 2)]),
        )
    return pools


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def new_phone(country: str, rng: random.Random, used: set[str]) -> str:
    """A unique, plausible mobile number in E.164."""
    while True:
        if country in ("US", "CA"):
            area = rng.choice(US_AREA if country == "US" else CA_AREA)
            exch = rng.randint(201, 989)
            if exch in (555, 911):
                continue
            num = f"+1{area}{exch}{rng.randint(0, 9999):04d}"
        elif country == "BR":
            num = f"+55{rng.choice(BR_DDD)}9{rng.randint(6, 9)}{rng.randint(0, 9_999_999):07d}"
        elif country == "ES":
            num = f"+346{rng.randint(0, 99_999_999):08d}"
        elif country == "IT":
            num = f"+393{rng.randint(20, 99)}{rng.randint(0, 9_999_999):07d}"
        elif country == "GB":
            num = f"+447{rng.randint(400, 999)}{rng.randint(0, 999_999):06d}"
        else:  # AU
            num = f"+614{rng.randint(0, 99_999_999):08d}"
        if num not in used:
            used.add(num)
            return num


def new_email(person: Person, rng: random.Random, used: set[str]) -> str:
    """A unique mailbox (unique after normalisation: case, +tags, Gmail dots)."""
    first, last = ascii_slug(person.first_name) or "user", ascii_slug(person.last_name) or "mail"
    if person.b2b and rng.random() < 0.5:
        domain = (ascii_slug(person.company)[:18] or "company") + ".example.com"
    elif rng.random() < 0.12:
        domain = rng.choice(EXTRA_DOMAINS[person.country])
    else:
        domain = _weighted(rng, EMAIL_DOMAINS[person.country])
    patterns = (
        f"{first}.{last}",
        f"{first}{last}",
        f"{first[0]}{last}",
        f"{first}_{last}",
        f"{last}.{first}",
        f"{first}.{last}{rng.randint(1, 99)}",
        f"{first}{rng.randint(1960, 2006)}",
    )
    local = patterns[rng.randrange(len(patterns))]
    for attempt in range(50):
        candidate = (
            f"{local}@{domain}" if attempt == 0 else f"{local}{rng.randint(2, 9999)}@{domain}"
        )
        key = email_key(candidate)
        if key not in used:
            used.add(key)
            return candidate
    raise RuntimeError("could not find a unique e-mail address")


def new_user_id(rng: random.Random, used: set[str]) -> str:
    while True:
        uid = f"u_{rng.getrandbits(48):012x}"
        if uid not in used:
            used.add(uid)
            return uid


def _make_person(
    idx: int,
    kind: str,
    pools: dict[str, LocalePool],
    rng: random.Random,
) -> Person:
    locale = rng.choices(LOCALES, weights=LOCALE_WEIGHTS)[0]
    country = _weighted(rng, COUNTRIES[locale])
    pool = pools[locale]
    gender = rng.choices(("F", "M", "X"), weights=(50, 48, 2))[0]
    if gender == "F" or (gender == "X" and rng.random() < 0.5):
        first = rng.choice(pool.female)
    else:
        first = rng.choice(pool.male)
    last = rng.choice(pool.last)
    if locale in ("pt_BR", "es_ES") and rng.random() < 0.35:
        last = f"{last} {rng.choice(pool.last)}"  # compound surnames
    birth = None
    if rng.random() < 0.85:
        birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 56))
    tz = _weighted(rng, TIMEZONES[country])
    return Person(
        idx=idx,
        person_id=f"P{idx:07d}",
        kind=kind,
        locale=locale,
        lang=LANG[locale],
        country=country,
        tz=tz,
        jurisdiction=JURISDICTION.get(country, "other"),
        currency=CURRENCY[country],
        web_locale=WEB_LOCALE[country],
        first_name=first,
        last_name=last,
        gender=gender,
        birth_date=birth,
        city=rng.choice(CITIES[country]),
    )


def _assign_behaviour(p: Person, rng: random.Random, config: GeneratorConfig) -> None:
    days = config.days
    if p.kind == "visitor":
        # a short burst of visits, somewhere in the window
        p.first_day = rng.randrange(days)
        p.last_day = p.first_day + int(rng.expovariate(1 / 4))
        p.activity = min(0.9, rng.lognormvariate(-1.4, 0.6))
    else:
        p.first_day = 0 if rng.random() < 0.62 else rng.randrange(days)
        if rng.random() < 0.18:
            p.last_day = p.first_day + rng.randrange(max(1, days - p.first_day))
        p.activity = min(0.95, rng.lognormvariate(-2.05, 0.8))
    morning, evening = rng.randint(7, 13), rng.randint(17, 23)
    p.peak_hours = (morning, evening)
    p.weekend_factor = rng.uniform(0.35, 1.1) if p.b2b else rng.uniform(0.8, 1.6)
    p.satisfaction = min(1.0, max(0.0, rng.betavariate(5, 2)))
    p.consent_propensity = rng.betavariate(3, 2)


def _assign_devices(p: Person, rng: random.Random) -> None:
    home_ip = random_ip(p.country, rng)
    n = rng.choices((1, 2, 3, 4), weights=(30, 40, 20, 10))[0]
    if p.kind == "visitor":
        n = rng.choices((1, 2), weights=(80, 20))[0]
    for i in range(n):
        ip = home_ip if i == 0 or rng.random() < 0.4 else random_ip(p.country, rng)
        if p.kind == "customer" and i > 0 and rng.random() < 0.45:
            p.devices.append(make_app_device(p.country, rng, ip))
        else:
            p.devices.append(make_web_device(p.country, rng, ip))


def build_population(config: GeneratorConfig) -> Population:
    """Customers first (P0000001..), then anonymous-only visitors."""
    pools = build_pools(config.seed)
    rng = rng_for(config.seed, "people")
    window_start = day_start_ms(config.start_date)
    pop = Population(people=[], customers=[], visitors=[])
    handles: set[str] = set()
    total = config.customers + config.visitors
    for idx in range(1, total + 1):
        kind = "customer" if idx <= config.customers else "visitor"
        p = _make_person(idx, kind, pools, rng)
        pool = pools[p.locale]
        if kind == "customer":
            p.b2b = rng.random() < 0.3
            if p.b2b:
                p.company = rng.choice(pool.companies)
                p.job_title = rng.choice(pool.jobs)
                p.group_id = f"grp_{ascii_slug(p.company)[:12]}{rng.randint(10, 99)}"
            p.email = new_email(p, rng, pop.emails_used)
            p.phone = new_phone(p.country, rng, pop.phones_used)
        _assign_behaviour(p, rng, config)
        if kind == "customer":
            r = rng.random()
            if p.first_day == 0 and r < 0.55:
                p.account_day = -rng.randint(1, 900)  # account opened before the window
                p.account_ms = window_start + p.account_day * MS_DAY + rng.randrange(MS_DAY)
                p.user_id = new_user_id(rng, pop.user_ids_used)
                pop.by_user_id[p.user_id] = p
            p.crm_pending = rng.random() < 0.8
        if rng.random() < (0.35 if kind == "customer" else 0.15):
            base = (
                ascii_slug(p.first_name)[:10]
                + rng.choice(("", "_", "."))
                + ascii_slug(p.last_name)[:8]
            )
            handle = f"@{base}"
            while handle in handles:
                handle = f"@{base}{rng.randint(1, 999)}"
            handles.add(handle)
            p.handle = handle
        _assign_devices(p, rng)
        pop.people.append(p)
        (pop.customers if kind == "customer" else pop.visitors).append(p)
    return pop
