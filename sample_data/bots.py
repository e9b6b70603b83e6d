"""Crawlers that execute JavaScript: they show up in the event stream too (via userAgent)."""

from __future__ import annotations

from .devices import Device, uuid4_from
from .sessions import SITE, DaySimulator, Hit, Page, Session

JS_BOTS: tuple[tuple[str, str, str], ...] = (
    (
        "BOT-googlebot",
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
        "like Gecko) Chrome/131.0.6778.139 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)",
        "66.249.{a}.{b}",
    ),
    (
        "BOT-bingbot",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
        "+http://www.bing.com/bingbot.htm) Chrome/131.0.0.0 Safari/537.36",
        "157.55.{a}.{b}",
    ),
    (
        "BOT-headless",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "34.{a}.{b}.17",
    ),
    (
        "BOT-petalbot",
        "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile "
        "Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
        "114.119.{a}.{b}",
    ),
)


def add_bot_sessions(sim: DaySimulator) -> None:
    """A few rendering crawlers per day: a fresh anonymousId per visit, no referrer."""
    rng = sim.rng
    n = max(1, round(len(sim.out.sessions) * 0.012))
    products = sim.catalogue.active
    for _ in range(n):
        pid, ua, ip_tpl = rng.choice(JS_BOTS)
        ip = ip_tpl.format(a=rng.randint(0, 255), b=rng.randint(1, 254))
        dev = Device("web", "desktop", ua, "Linux", "", ip, 0)
        dev.anon_ids.append(uuid4_from(rng))
        s = Session(None, pid, dev, None, [], True, bot=True)
        t = sim.day_start + rng.randrange(86_400_000 - 3_600_000)
        referrer = ""
        for _ in range(rng.randint(1, 6)):
            t += rng.randint(500, 20_000)
            product = rng.choice(products)
            path = f"/products/{product.slug}"
            url = SITE + path
            page: Page = (url, path, f"{product.name} - Lumina", referrer, "")
            props = {"path": path, "url": url, "referrer": referrer, "title": page[2], "search": ""}
            s.hits.append(
                Hit(
                    t,
                    "page",
                    "Product",
                    props,
                    page,
                    dev.anon_ids[0],
                    None,
                    None,
                    ("GET", path, 200),
                )
            )
            referrer = url
        sim.out.sessions.append(s)
