"""Differently written forms of the same identifier (what CRMs and forms really hold)."""

from __future__ import annotations

import random
import unicodedata

GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
PLUS_TAGS = ("shop", "news", "promo", "orders", "lumina", "2024", "spam")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only (for e-mail local parts and handles)."""
    return "".join(c for c in strip_accents(text).lower() if c.isascii() and c.isalnum())


def email_key(email: str) -> str:
    """Normalised mailbox: lower case, no +tag, no dots in a Gmail local part."""
    local, _, domain = email.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_variant(email: str, rng: random.Random) -> str:
    """Same mailbox, written differently: case, Gmail dots, +tags."""
    local, _, domain = email.partition("@")
    choices = ["case", "plus", "upper_domain"]
    if domain in GMAIL_DOMAINS:
        choices += ["dots", "dots"]
    kind = rng.choice(choices)
    if kind == "case":
        parts = local.split(".")
        local = ".".join(p[:1].upper() + p[1:] for p in parts)
        if local == email.partition("@")[0]:
            local = local.upper()
        return f"{local}@{domain}"
    if kind == "upper_domain":
        return f"{local}@{domain.capitalize()}" if rng.random() < 0.5 else email.upper()
    if kind == "plus":
        return f"{local}+{rng.choice(PLUS_TAGS)}@{domain}"
    # Gmail ignores dots in the local part: remove them, or add one.
    if "." in local:
        return f"{local.replace('.', '')}@{domain}"
    cut = rng.randint(1, max(1, len(local) - 1))
    return f"{local[:cut]}.{local[cut:]}@{domain}"


def name_typo(name: str, rng: random.Random) -> str:
    """One keyboard slip: swapped, dropped or doubled letter (never the first letter)."""
    if len(name) < 4:
        return name + name[-1]
    i = rng.randint(1, len(name) - 2)
    kind = rng.randrange(3)
    if kind == 0 and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


# --- phones -----------------------------------------------------------------------------


def phone_national(e164: str, country: str, style: int) -> str:
    """The E.164 number written as people type it in that country (style picks a layout)."""
    if country in ("US", "CA"):
        d = e164[2:]
        a, b, c = d[:3], d[3:6], d[6:]
        forms = (
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"+1 {a}-{b}-{c}",
            f"1-{a}-{b}-{c}",
        )
    elif country == "BR":
        d = e164[3:]
        ddd, n = d[:2], d[2:]
        forms = (
            f"({ddd}) {n[:5]}-{n[5:]}",
            f"{ddd} {n[:5]}-{n[5:]}",
            f"+55 {ddd} {n[:5]}-{n[5:]}",
            f"0{ddd} {n[:5]} {n[5:]}",
            f"({ddd}){n}",
        )
    elif country == "ES":
        d = e164[3:]
        forms = (
            f"{d[:3]} {d[3:5]} {d[5:7]} {d[7:]}",
            d,
            f"+34 {d[:3]} {d[3:6]} {d[6:]}",
            f"0034 {d}",
            f"{d[:3]}-{d[3:6]}-{d[6:]}",
        )
    elif country == "IT":
        d = e164[3:]
        forms = (
            f"{d[:3]} {d[3:6]} {d[6:]}",
            f"{d[:3]}-{d[3:]}",
            f"+39 {d[:3]} {d[3:6]} {d[6:]}",
            f"0039 {d}",
            f"{d[:3]}/{d[3:]}",
        )
    elif country == "GB":
        d = e164[3:]
        forms = (f"0{d[:4]} {d[4:]}", f"+44 {d[:4]} {d[4:]}", f"0{d}", f"+44 (0){d[:4]} {d[4:]}")
    elif country == "AU":
        d = e164[3:]
        forms = (f"0{d[:3]} {d[3:6]} {d[6:]}", f"+61 {d[:3]} {d[3:6]} {d[6:]}", f"0{d}")
    else:
        return e164
    return forms[style % len(forms)]


def phone_written(e164: str, country: str, rng: random.Random, e164_share: float = 0.5) -> str:
    """E.164 or a national layout, at random."""
    if rng.random() < e164_share:
        return e164
    return phone_national(e164, country, rng.randrange(5))
