"""Junk identifiers: placeholder values that several different people's records carry.

What the identity guards exist for (docs/identity.md, "Guards against wrong merges";
docs/sample-data.md, "Junk identifiers and shared devices"):

* placeholder e-mails typed into a form (`test@test.com` ...) on a few CRM records and on a
  few ticket, survey and sign-up consent records;
* the role mailbox of a company (`info@<company>.example.com`) on the CRM records of
  colleagues;
* a placeholder phone (US fictional 555-01xx, or one digit repeated) on a few CRM records;
* `userId: "undefined"` / `"null"` from a buggy client on a few logged-in sessions' calls;
* the all-zero device id (ad tracking limited) on a few app sessions.

Every value is one the blocklist seed (seeds/identity_blocklist.csv) matches: the tests
check each against the seed's rules. The values belong to nobody: the registry watches
them (truth/junk_identifiers.csv) and keeps them out of truth/identities.csv.

Randomness: streams of its own, rng_for(seed, "junk", <target>, <day>), so the sources it
alters draw exactly what they drew before; only the altered values change.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from .config import GeneratorConfig, rng_for
from .crm import CrmRecord
from .people import LOCALES, Person, Population
from .sessions import Session
from .truth import SHARED_DEVICE, Registry
from .variants import ascii_slug

ZERO_DEVICE_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_EMAILS = ("test@test.com", "noemail@email.com", "asdf@mail.com")
PLACEHOLDER_EMAIL_WEIGHTS = (50, 30, 20)
PLACEHOLDER_USER_IDS = ("undefined", "null")  # String(undefined) in a web client; "null"
PLACEHOLDER_PHONES = {  # written in E.164, as some CRM exports do
    "US": "+15555550100",
    "CA": "+15555550100",
    "GB": "+447777777777",
    "IT": "+393333333333",
    "ES": "+34666666666",
    "AU": "+61444444444",
    "BR": "+5511111111111",
}
ROLE_MAILBOX = "info"

# Kinds (junk_identifiers.csv `kind`).
PLACEHOLDER = "placeholder"
ROLE = "role_mailbox"
PLACEHOLDER_PHONE = "placeholder_phone"
ZERO_DEVICE = "zero_device"
JUNK_KINDS = (PLACEHOLDER, ROLE, PLACEHOLDER_PHONE, ZERO_DEVICE, SHARED_DEVICE)

# Rates: per eligible record / session. Floors: distinct people per run (forced on the
# first eligible records of the run, so even a 30-customer run has them).
CRM_EMAIL_RATE = 0.0015  # CRM records with an e-mail and a phone: e-mail -> placeholder
CRM_PHONE_RATE = 0.0015  # CRM records with an e-mail and a phone: phone -> placeholder
FORM_EMAIL_RATE = 0.003  # ticket, survey, sign-up consent records with an e-mail
USER_ID_RATE = 0.001  # logged-in sessions: their first 1-3 logged-in calls
ZERO_DEVICE_RATE = 0.001  # app sessions: every call's context.device.id
FLOOR = 2  # per kind above; per value for the two placeholder user ids
CUSTOMERS_PER_OFFICE = 2000  # companies whose colleagues share a role mailbox
MIN_OFFICES = 1
OFFICE_SIZE = 3  # colleagues per office, at most


def role_mailbox(company: str) -> str:
    """The company's team address, on the domain new_email gives its staff."""
    return f"{ROLE_MAILBOX}@{ascii_slug(company)[:18] or 'company'}.example.com"


class Junk:
    """Decides which records and sessions get a junk value; counts what it did."""

    def __init__(self, config: GeneratorConfig, pop: Population, registry: Registry) -> None:
        self.seed = config.seed
        self.registry = registry
        for value in PLACEHOLDER_EMAILS:
            registry.watch("email", value, PLACEHOLDER)
        for value in PLACEHOLDER_USER_IDS:
            registry.watch("user_id", value, PLACEHOLDER)
        for value in sorted(set(PLACEHOLDER_PHONES.values())):
            registry.watch("phone", value, PLACEHOLDER_PHONE)
        registry.watch("device_id", ZERO_DEVICE_ID, ZERO_DEVICE)
        self.injected: Counter[str] = Counter()  # kind -> records / sessions altered
        self._forced: dict[str, set[int]] = defaultdict(set)  # floor bookkeeping
        self._crm_people: set[int] = set()  # people with a CRM record already altered
        self.offices: dict[str, list[Person]] = {}
        self.mailbox_of: dict[int, str] = {}  # person idx -> the office's role mailbox
        self._pick_offices(config, pop, rng_for(self.seed, "junk", "offices"))
        for mailbox in self.offices:
            registry.watch("email", mailbox, ROLE)
        self._day: object = "init"
        self._rngs: dict[str, random.Random] = {}

    # --- streams ------------------------------------------------------------------------

    def begin_day(self, day: int) -> None:
        self._day = day
        self._rngs = {}

    def _rng(self, target: str) -> random.Random:
        rng = self._rngs.get(target)
        if rng is None:
            rng = self._rngs[target] = rng_for(self.seed, "junk", target, self._day)
        return rng

    def _due(self, floor_key: str, p: Person, *others: str) -> bool:
        """The floor is not met yet and this person does not count towards it (nor towards
        the floors `others`: the same placeholder then reaches more people) already."""
        people = self._forced[floor_key]
        if len(people) >= FLOOR or p.idx in people:
            return False
        return not any(p.idx in self._forced[k] for k in others)

    def _mark(self, floor_key: str, kind: str, p: Person) -> None:
        self._forced[floor_key].add(p.idx)
        self.injected[kind] += 1

    # --- offices: colleagues sharing the company's role mailbox --------------------------

    def _pick_offices(self, config: GeneratorConfig, pop: Population, rng: random.Random) -> None:
        """Companies whose B2B customers (with a CRM record from day 1, most likely) share
        a role mailbox. A run without two such colleagues gets them: one joins another's
        company (a person changed jobs before the window)."""
        wanted = max(MIN_OFFICES, config.customers // CUSTOMERS_PER_OFFICE)
        staff = [p for p in pop.customers if p.b2b and p.crm_pending and p.first_day == 0]
        by_company: dict[str, list[Person]] = defaultdict(list)
        for p in staff:
            by_company[p.company].append(p)
        shared = sorted(c for c, members in by_company.items() if len(members) >= 2)
        rng.shuffle(shared)
        chosen = shared[:wanted]
        if len(chosen) < wanted:
            singles = [p for p in staff if len(by_company[p.company]) == 1]
            rng.shuffle(singles)
            pairs: list[tuple[Person, Person]] = []
            for locale in LOCALES:  # colleagues from one locale first
                mates = [p for p in singles if p.locale == locale]
                pairs += zip(mates[0::2], mates[1::2], strict=False)
            paired = {p.idx for pair in pairs for p in pair}
            rest = [p for p in singles if p.idx not in paired]
            pairs += zip(rest[0::2], rest[1::2], strict=False)
            for first, second in pairs[: wanted - len(chosen)]:
                second.company, second.group_id = first.company, first.group_id
                by_company[first.company].append(second)
                chosen.append(first.company)
        for company in chosen:
            members = sorted(by_company[company], key=lambda p: p.idx)[:OFFICE_SIZE]
            mailbox = role_mailbox(company)
            self.offices[mailbox] = members
            for p in members:
                self.mailbox_of[p.idx] = mailbox

    # --- CRM ----------------------------------------------------------------------------

    def crm_record(self, rec: CrmRecord) -> None:
        """Called as each CRM record comes into existence (Crm._add)."""
        p = rec.person
        if not rec.duplicate and p.idx in self.mailbox_of:
            rec.email = self.mailbox_of[p.idx]  # the sales rep typed the company address
            self.injected[ROLE] += 1
            self._crm_people.add(p.idx)
            return
        if not (rec.email and rec.phone) or p.idx in self._crm_people:
            return  # only where another contact detail remains; one altered record a person
        rng = self._rng("crm_customers")
        r = rng.random()
        if self._due("crm_email", p, "form_email") or r < CRM_EMAIL_RATE:
            forced = len(self._forced["crm_email"]) < FLOOR
            rec.email = PLACEHOLDER_EMAILS[0] if forced else _placeholder_email(rng)
            self._mark("crm_email", PLACEHOLDER, p)
            self._crm_people.add(p.idx)
        elif (
            self._due("crm_phone", p) and p.country in ("US", "CA")
        ) or r < CRM_EMAIL_RATE + CRM_PHONE_RATE:
            rec.phone = PLACEHOLDER_PHONES[p.country]
            self._mark("crm_phone", PLACEHOLDER_PHONE, p)
            self._crm_people.add(p.idx)

    # --- forms: tickets, surveys, sign-up consent -----------------------------------------

    def form_email(self, source: str, p: Person, email: str) -> str:
        """The e-mail a form record carries: now and then a placeholder instead."""
        if not email:
            return email
        rng = self._rng(source)
        r = rng.random()
        if self._due("form_email", p, "crm_email") or r < FORM_EMAIL_RATE:
            forced = len(self._forced["form_email"]) < FLOOR
            self._mark("form_email", PLACEHOLDER, p)
            return PLACEHOLDER_EMAILS[0] if forced else _placeholder_email(rng)
        return email

    # --- event sessions -------------------------------------------------------------------

    def sessions(self, day: int, sessions: list[Session]) -> None:
        """Placeholder user ids and the zero device id on a few of the day's sessions."""
        rng = rng_for(self.seed, "junk", "events", day)
        for s in sessions:
            p = s.person
            if s.bot or s.household or p is None:
                continue
            logged_in = [h for h in s.hits if h.user]
            if logged_in:
                r = rng.random()
                # a web client writes String(undefined) or String(null); an app "null"
                values = ("null",) if s.device.is_app else PLACEHOLDER_USER_IDS
                due = [v for v in values if self._due("user_id:" + v, p)]
                if due or r < USER_ID_RATE:
                    value = due[0] if due else rng.choice(values)
                    for h in logged_in[: rng.randint(1, 3)]:
                        h.user = value
                    self._mark("user_id:" + value, PLACEHOLDER, p)
            if s.device.is_app:
                r = rng.random()
                if self._due("zero_device", p) or r < ZERO_DEVICE_RATE:
                    s.device_id_override = ZERO_DEVICE_ID
                    self._mark("zero_device", ZERO_DEVICE, p)


def _placeholder_email(rng: random.Random) -> str:
    return rng.choices(PLACEHOLDER_EMAILS, weights=PLACEHOLDER_EMAIL_WEIGHTS)[0]
