"""Consent ledger and privacy (data-subject) requests."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .commerce import FLOOR, pick_active, poisson, put_ref
from .crm import Crm
from .devices import Device
from .people import CITIES, Person, Population, new_email, new_phone
from .timeutil import MS_DAY, iso_utc_ms, iso_utc_s
from .truth import Registry
from .variants import email_variant, phone_written

if TYPE_CHECKING:
    from .junk import Junk

BANNER_PURPOSES = ("analytics", "personalization", "advertising")
SUBJECT_KEYS = ("anonymous_id", "user_id", "email", "phone", "crm_id")
REQUEST_KINDS = (("access", 35), ("opt_out", 15), ("rectification", 20), ("restriction", 12))
REQUEST_KINDS += (("erasure", 18),)


class Consent:
    def __init__(self, pop: Population, registry: Registry, junk: Junk | None = None) -> None:
        self.pop = pop
        self.registry = registry
        self.junk = junk  # a placeholder e-mail typed into the sign-up form now and then

    def _rec(
        self,
        p: Person,
        purpose: str,
        status: str,
        source: str,
        policy: str,
        at: int,
        rng: random.Random,
        **subject: str,
    ) -> tuple[int, str, dict]:
        rec: dict = {"consent_id": f"cns_{rng.getrandbits(80):020x}"}
        for key in SUBJECT_KEYS:
            put_ref(rec, key, subject.get(key, ""), rng)
            self.registry.add(p.person_id, key, subject.get(key, ""))
        rec |= {"purpose": purpose, "status": status, "jurisdiction": p.jurisdiction}
        rec |= {"policy_version": policy, "source": source, "recorded_at": iso_utc_ms(at)}
        return (at, rec["consent_id"], rec)

    def day(
        self,
        day: int,
        day_start: int,
        policy: str,
        banners: list[tuple[Person, Device, str, str, int]],
        signups: list[tuple[Person, int, Device]],
        rng: random.Random,
    ) -> list[dict]:
        out: list[tuple[int, str, dict]] = []
        last = day_start + MS_DAY - 1_000  # a session running past midnight: still today's file
        for p, _dev, anon, user, t in banners:
            t = min(t, last)
            accept_all = rng.random() < p.consent_propensity
            for purpose in BANNER_PURPOSES:
                granted = accept_all or (purpose == "analytics" and rng.random() < 0.5)
                status = "granted" if granted else "denied"
                out.append(
                    self._rec(
                        p,
                        purpose,
                        status,
                        "cookie_banner",
                        policy,
                        t,
                        rng,
                        anonymous_id=anon,
                        user_id=user,
                    )
                )
        for p, t, _dev in signups:
            t = min(t, last - 2_000)
            status = "granted" if rng.random() < p.consent_propensity else "denied"
            email = p.email
            if self.junk is not None:
                email = self.junk.form_email("consent", p, email)
            out.append(
                self._rec(
                    p,
                    "marketing_email",
                    status,
                    "signup_form",
                    policy,
                    t + 1500,
                    rng,
                    user_id=p.user_id,
                    email=email,
                )
            )
            if rng.random() < 0.4:
                status = "granted" if rng.random() < p.consent_propensity * 0.7 else "denied"
                phone = phone_written(p.phone, p.country, rng, 0.8)
                out.append(
                    self._rec(
                        p,
                        "marketing_sms",
                        status,
                        "signup_form",
                        policy,
                        t + 1600,
                        rng,
                        user_id=p.user_id,
                        phone=phone,
                    )
                )
        n = poisson(rng, 0.002 * len(self.pop.customers))
        for _ in range(max(n, FLOOR - len(out))):
            p = pick_active(rng, self.pop.customers, day)
            if p is None:
                continue
            at = day_start + rng.randrange(MS_DAY)
            r = rng.random()
            if r < 0.35:
                out.append(
                    self._rec(
                        p,
                        "marketing_email",
                        "withdrawn",
                        "email_unsubscribe_link",
                        policy,
                        at,
                        rng,
                        email=p.email,
                    )
                )
            elif r < 0.5:
                out.append(
                    self._rec(
                        p,
                        "marketing_sms",
                        "withdrawn",
                        "sms_reply_stop",
                        policy,
                        at,
                        rng,
                        phone=p.phone,
                    )
                )
            elif r < 0.65 and p.jurisdiction == "CCPA":
                anon = next((d.anon_ids[-1] for d in p.devices if d.anon_ids), "")
                out.append(
                    self._rec(
                        p,
                        "advertising",
                        "withdrawn",
                        "do_not_sell_link",
                        policy,
                        at,
                        rng,
                        anonymous_id=anon,
                        email="" if anon else p.email,
                    )
                )
            else:
                purpose = rng.choice(
                    ("analytics", "personalization", "marketing_email", "advertising")
                )
                status = "granted" if rng.random() < 0.4 else "withdrawn"
                out.append(
                    self._rec(
                        p,
                        purpose,
                        status,
                        "preference_center",
                        policy,
                        at,
                        rng,
                        user_id=p.user_id,
                        email="" if p.user_id else p.email,
                    )
                )
        out.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in out]


class PrivacyRequests:
    def __init__(self, pop: Population, registry: Registry, crm: Crm, days: int) -> None:
        self.pop = pop
        self.registry = registry
        self.crm = crm
        self.erasure_day = days // 3

    def day(self, day: int, day_start: int, rng: random.Random) -> list[dict]:
        out: list[tuple[int, str, dict]] = []
        n = poisson(rng, 0.0004 * len(self.pop.customers))
        kinds = [
            rng.choices([k for k, _ in REQUEST_KINDS], weights=[w for _, w in REQUEST_KINDS])[0]
            for _ in range(n)
        ]
        if day == self.erasure_day:
            kinds.insert(0, "erasure")  # every run of a few days has at least one erasure
        while len(kinds) < FLOOR:  # top up with requests that do not remove anybody
            kinds.append(
                rng.choice(("access", "access", "restriction", "rectification", "opt_out"))
            )
        for kind in kinds:
            p = pick_active(rng, self.pop.customers, day)
            if p is None:
                continue
            at = day_start + rng.randrange(MS_DAY)
            out.append(self._request(p, kind, day, at, rng))
        out.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in out]

    def _request(
        self, p: Person, kind: str, day: int, at: int, rng: random.Random
    ) -> tuple[int, str, dict]:
        subject = {k: "" for k in SUBJECT_KEYS}
        anon = next((d.anon_ids[-1] for d in p.devices if d.anon_ids and d.kind == "web"), "")
        if kind == "opt_out" and anon and rng.random() < 0.5:
            subject["anonymous_id"] = anon  # Global Privacy Control signal from the browser
        else:
            subject["email"] = p.email if rng.random() < 0.9 else email_variant(p.email, rng)
            if p.user_id and rng.random() < 0.4:
                subject["user_id"] = p.user_id
            if p.crm_ids and rng.random() < 0.2:
                subject["crm_id"] = p.crm_ids[0]
            if rng.random() < 0.1:
                subject["phone"] = phone_written(p.phone, p.country, rng)
        rec: dict = {"request_id": f"DSR-{rng.getrandbits(40):010x}"}
        for key in SUBJECT_KEYS:
            put_ref(rec, key, subject[key], rng)
            self.registry.add(p.person_id, key, subject[key])
        rec |= {"kind": kind, "jurisdiction": p.jurisdiction, "received_at": iso_utc_s(at)}
        rec["channel"] = rng.choice(("dsar_form", "email", "phone"))
        if kind == "rectification":
            rec["corrections"] = self._corrections(p, at, rng)
        if kind == "erasure":
            p.erased_day = day + 1
            self.crm.erase(p, at)
        return (at, rec["request_id"], rec)

    def _corrections(self, p: Person, at: int, rng: random.Random) -> dict[str, str]:
        r = rng.random()
        if r < 0.3:
            p.phone = new_phone(p.country, rng, self.pop.phones_used)
            corrections = {"phone": p.phone}
            self.registry.add(p.person_id, "phone", p.phone)
        elif r < 0.5:
            p.email = new_email(p, rng, self.pop.emails_used)
            corrections = {"email": p.email}
            self.registry.add(p.person_id, "email", p.email)
        elif r < 0.8:
            corrections = {"first_name": p.first_name, "last_name": p.last_name}
        else:
            p.city = rng.choice(CITIES[p.country])
            corrections = {"city": p.city}
        self.crm.rectify(p, corrections, at, rng)
        return corrections
