"""Apache / Nginx combined access log (+ the first-party cookie id as a trailing field).

Every web page view and form post of the day's sessions is a request here, plus static
assets, a few 404s and 500s, and crawler / script / scanner traffic that never runs
JavaScript (10-15 % of the lines). Times are the server's, in UTC (+0000).
"""

from __future__ import annotations

import random
from collections import defaultdict

from .products import Catalogue
from .sessions import BLOG_POSTS, SITE, Session
from .timeutil import MS_DAY, clf_time
from .truth import Registry

# (ms, seq, ip, method, target, protocol, status, bytes or None, referrer, user agent, cookie)
LogRecord = tuple[int, int, str, str, str, str, int, int | None, str, str, str]

ASSETS = (
    ("/static/css/main.3f9a1c.css", 48_213),
    ("/static/js/app.81c2e7.js", 201_455),
    ("/static/img/logo.svg", 4_118),
)
# (user agent, ip template, behaviour, weight)
CRAWLERS: tuple[tuple[str, str, str, int], ...] = (
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "66.249.{a}.{b}",
        "crawl",
        26,
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "40.77.167.{b}",
        "crawl",
        14,
    ),
    (
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "54.36.148.{b}",
        "crawl",
        12,
    ),
    (
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "5.255.231.{b}",
        "crawl",
        8,
    ),
    (
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "85.208.96.{b}",
        "crawl",
        7,
    ),
    (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "69.171.249.{b}",
        "crawl",
        4,
    ),
    ("Twitterbot/1.0", "199.16.157.{b}", "crawl", 2),
    ("curl/8.5.0", "3.{a}.{b}.9", "client", 5),
    ("python-requests/2.32.3", "35.{a}.{b}.40", "client", 6),
    ("Go-http-client/1.1", "45.{a}.{b}.77", "probe", 5),
    ("Mozilla/5.0 zgrab/0.x", "167.94.{a}.{b}", "probe", 3),
    (
        "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
        "69.162.124.{b}",
        "monitor",
        8,
    ),
)
_CRAWLER_WEIGHTS = [c[3] for c in CRAWLERS]
PROBES = ("/wp-login.php", "/.env", "/xmlrpc.php", "/.git/config", "/phpmyadmin/", "/admin.php")


def format_record(r: LogRecord, time_text: str | None = None) -> str:
    _, _, ip, method, target, proto, status, nbytes, referrer, ua, cookie = r
    t = time_text if time_text is not None else clf_time(r[0])
    b = "-" if nbytes is None else str(nbytes)
    return (
        f'{ip} - - [{t}] "{method} {target} {proto}" {status} {b} '
        f'"{referrer or "-"}" "{ua}" "{cookie or "-"}"'
    )


class AccessLog:
    def __init__(self, window_start: int, days: int, registry: Registry) -> None:
        self.window_start = window_start
        self.days = days
        self.pending: dict[int, list[LogRecord]] = defaultdict(list)
        self.seq = 0
        self._anon = registry.table("anonymous_id")
        self._w_anon = registry.watched("anonymous_id")  # shared browsers' cookies

    def _add(
        self,
        ms: int,
        ip: str,
        method: str,
        target: str,
        proto: str,
        status: int,
        nbytes: int | None,
        referrer: str,
        ua: str,
        cookie: str,
        pid: str = "",
    ) -> None:
        day = (ms - self.window_start) // MS_DAY
        if day >= self.days:
            return
        self.seq += 1
        self.pending[day].append(
            (ms, self.seq, ip, method, target, proto, status, nbytes, referrer, ua, cookie)
        )
        if cookie and pid:
            watched = self._w_anon.get(cookie)
            if watched is not None:
                watched[1].add(pid)
            elif cookie not in self._anon:
                self._anon[cookie] = pid

    def add_sessions(self, sessions: list[Session], rng: random.Random) -> int:
        """Requests behind the day's web sessions; returns how many lines were added."""
        before = self.seq
        for s in sessions:
            dev = s.device
            if dev.is_app:
                continue
            proto = "HTTP/2.0" if rng.random() < 0.3 else "HTTP/1.1"
            first = True
            for h in s.hits:
                if h.http is None:
                    continue
                method, target, status = h.http
                cookie = "" if (first and s.new_cookie) else (h.anon or "")
                if h.type == "page":
                    ms = h.t - rng.randint(50, 400)
                    referrer = h.page[3] if h.page else ""
                    if status == 200 and rng.random() < 0.001:
                        status = 500
                    nbytes = {200: rng.randint(12_000, 65_000), 404: 512, 500: 1_204}[status]
                    self._add(
                        ms,
                        dev.ip,
                        method,
                        target,
                        proto,
                        status,
                        nbytes,
                        referrer,
                        dev.user_agent,
                        cookie,
                        s.pid,
                    )
                    page_url = h.page[0] if h.page else SITE
                    if first:
                        cached = rng.random() < 0.5
                        for i, (asset, size) in enumerate(ASSETS):
                            st, nb = (304, None) if cached else (200, size)
                            self._add(
                                ms + 120 + 40 * i,
                                dev.ip,
                                "GET",
                                asset,
                                proto,
                                st,
                                nb,
                                page_url,
                                dev.user_agent,
                                cookie,
                                s.pid,
                            )
                    if target.startswith("/products/") and rng.random() < 0.7:
                        img = f"/static/img/p/{target.rsplit('-', 1)[-1]}.webp"
                        self._add(
                            ms + 300,
                            dev.ip,
                            "GET",
                            img,
                            proto,
                            200,
                            rng.randint(8_000, 180_000),
                            page_url,
                            dev.user_agent,
                            cookie,
                            s.pid,
                        )
                else:
                    referrer = h.page[0] if h.page else ""
                    nbytes: int | None = rng.randint(80, 900)
                    if status == 302:
                        nbytes = None if rng.random() < 0.5 else 0
                    elif target.startswith("/downloads/"):
                        if rng.random() < 0.2:
                            status, nbytes = 206, rng.randint(65_536, 1_048_576)
                        else:
                            nbytes = rng.randint(180_000, 8_200_000)
                    self._add(
                        h.t,
                        dev.ip,
                        method,
                        target,
                        proto,
                        status,
                        nbytes,
                        referrer,
                        dev.user_agent,
                        cookie,
                        s.pid,
                    )
                first = False
        return self.seq - before

    def add_crawlers(
        self, day_start: int, human_lines: int, catalogue: Catalogue, rng: random.Random
    ) -> None:
        share = rng.uniform(0.10, 0.15)
        n = max(2, round(human_lines * share / (1 - share)))
        products = catalogue.products
        for _ in range(n):
            ua, ip_tpl, behaviour, _ = rng.choices(CRAWLERS, weights=_CRAWLER_WEIGHTS)[0]
            ip = ip_tpl.format(a=rng.randint(0, 255), b=rng.randint(1, 254))
            ms = day_start + rng.randrange(MS_DAY)
            if behaviour == "monitor":
                self._add(ms, ip, "HEAD", "/", "HTTP/1.1", 200, None, "", ua, "")
                continue
            if behaviour == "probe":
                if rng.random() < 0.7:
                    self._add(ms, ip, "GET", rng.choice(PROBES), "HTTP/1.1", 404, 153, "", ua, "")
                else:
                    self._add(ms, ip, "GET", "/", "HTTP/1.1", 200, 31_877, "", ua, "")
                continue
            if behaviour == "client":
                target = (
                    f"/api/products?page={rng.randint(1, 12)}"
                    if rng.random() < 0.7
                    else "/feed.xml"
                )
                self._add(
                    ms, ip, "GET", target, "HTTP/1.1", 200, rng.randint(2_000, 90_000), "", ua, ""
                )
                continue
            r = rng.random()
            if r < 0.05:
                self._add(ms, ip, "GET", "/robots.txt", "HTTP/1.1", 200, 212, "", ua, "")
            elif r < 0.10:
                self._add(ms, ip, "GET", "/sitemap.xml", "HTTP/1.1", 200, 48_331, "", ua, "")
            elif r < 0.14:
                self._add(
                    ms,
                    ip,
                    "GET",
                    f"/products/discontinued-{rng.randint(1000, 9999)}",
                    "HTTP/1.1",
                    404,
                    512,
                    "",
                    ua,
                    "",
                )
            elif r < 0.18:
                self._add(
                    ms,
                    ip,
                    "GET",
                    f"/p/{rng.randint(10001, 10300)}",
                    "HTTP/1.1",
                    301,
                    None,
                    "",
                    ua,
                    "",
                )
            elif r < 0.30:
                post = rng.choice(BLOG_POSTS)
                self._add(
                    ms,
                    ip,
                    "GET",
                    f"/blog/{post}",
                    "HTTP/1.1",
                    200,
                    rng.randint(20_000, 60_000),
                    "",
                    ua,
                    "",
                )
            else:
                p = rng.choice(products)
                self._add(
                    ms,
                    ip,
                    "GET",
                    f"/products/{p.slug}",
                    "HTTP/1.1",
                    200,
                    rng.randint(12_000, 65_000),
                    "",
                    ua,
                    "",
                )

    def take(self, day: int) -> list[LogRecord]:
        batch = self.pending.pop(day, [])
        batch.sort()
        return batch
