"""What people do on the web site and in the app on one day: sessions made of hits.

A hit is one Segment call (page, screen, track, identify, alias, group) at its true time.
`events.py` turns hits into delivered messages, `web_access.py` into access-log lines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from .devices import Device, uuid4_from
from .people import Person, Population, new_user_id
from .products import Catalogue, Product, convert
from .timeutil import MS_HOUR, MS_MIN, iso_utc_s, utc_offset_min
from .truth import Registry
from .variants import email_variant, phone_written

SITE = "https://www.lumina.example"
FEATURES = (
    "dashboard",
    "reports",
    "export_csv",
    "wishlist",
    "price_alerts",
    "order_tracking",
    "saved_searches",
    "recommendations",
    "team_management",
    "api_keys",
    "integrations",
    "invoices",
)
DOWNLOADS = (
    ("lumina-buyers-guide-2026.pdf", "pdf", 2_481_211),
    ("lumina-catalogue-spring.pdf", "pdf", 8_112_004),
    ("lumina-for-teams-whitepaper.pdf", "pdf", 1_204_551),
    ("size-chart.pdf", "pdf", 182_330),
    ("api-quickstart.zip", "zip", 540_118),
)
BLOG_POSTS = (
    "how-to-choose-wireless-earbuds",
    "cast-iron-care-guide",
    "packing-list-for-a-weekend-hike",
    "remote-work-desk-setup",
    "gift-ideas-under-50",
    "lumina-for-teams-launch",
)
COUPONS = (("WELCOME10", 0.10), ("WINTER15", 0.15), ("FREESHIP", 0.0), ("VIP20", 0.20))
SEARCHES = {
    "en": (
        "wireless earbuds",
        "rain jacket",
        "yoga mat",
        "french press",
        "gift for dad",
        "usb c hub",
    ),
    "pt": (
        "fone bluetooth",
        "jaqueta impermeável",
        "tapete de yoga",
        "caneca",
        "presente dia dos pais",
    ),
    "es": ("auriculares inalámbricos", "chaqueta impermeable", "esterilla yoga", "taza", "regalo"),
    "it": ("cuffie wireless", "giacca impermeabile", "tappetino yoga", "moka", "idea regalo"),
}
SEARCH_HOSTS = {
    "US": (("google.com", 70), ("bing.com", 15), ("duckduckgo.com", 7), ("search.yahoo.com", 5)),
    "CA": (("google.ca", 80), ("bing.com", 12), ("duckduckgo.com", 8)),
    "GB": (("google.co.uk", 82), ("bing.com", 12), ("ecosia.org", 6)),
    "AU": (("google.com.au", 88), ("bing.com", 12)),
    "BR": (("google.com.br", 85), ("bing.com", 8), ("br.search.yahoo.com", 7)),
    "ES": (("google.es", 85), ("bing.com", 9), ("duckduckgo.com", 6)),
    "IT": (("google.it", 86), ("bing.com", 10), ("ecosia.org", 4)),
}
SOCIAL_REFERRERS = (
    ("l.facebook.com", 20),
    ("m.facebook.com", 10),
    ("facebook.com", 5),
    ("t.co", 14),
    ("instagram.com", 16),
    ("lnkd.in", 6),
    ("linkedin.com", 5),
    ("reddit.com", 8),
    ("youtube.com", 8),
    ("pinterest.com", 5),
    ("news.ycombinator.com", 3),
)
MAIL_REFERRERS = (("mail.google.com", 60), ("mail.yahoo.com", 20), ("mail.live.com", 20))
OTHER_REFERRERS = (
    "https://www.wirecutter.example/reviews/best-wireless-earbuds/",
    "https://blog.partner.example/2025/12/lumina-review",
    "https://www.producthunt.com/products/lumina",
)
WWW_OK = {"google", "bing.com", "facebook.com", "instagram.com", "linkedin.com", "reddit.com"}
WWW_OK |= {"youtube.com", "pinterest.com"}
CAMPAIGNS = ("winter_sale", "new_arrivals", "weekly_digest", "cart_reminder", "teams_webinar")

# A page: (url, path, title, referrer, search)
Page = tuple[str, str, str, str, str]


@dataclass(slots=True)
class Hit:
    t: int  # true time, ms since epoch (UTC)
    type: str  # page | screen | track | identify | alias | group
    label: str | None  # page / screen name, or track event name
    props: dict | None
    page: Page | None  # web only: the page the call was made on
    anon: str | None
    user: str | None
    extra: dict | None = None  # traits / previousId / groupId
    http: tuple[str, str, int] | None = None  # request the web server logged with this hit


@dataclass(slots=True)
class Session:
    person: Person | None  # None for bots
    pid: str  # person_id, or a bot id
    device: Device
    campaign: dict | None
    hits: list[Hit]
    new_cookie: bool  # first request of a brand-new anonymousId (no cookie yet)
    bot: bool = False
    household: bool = False  # on a device two people share (households.py)
    device_id_override: str | None = None  # context.device.id written instead (junk.py)


@dataclass(slots=True)
class Order:
    order_id: str
    person: Person
    t: int
    channel: str  # web | app | phone | store
    currency: str
    items: list[tuple[Product, int, float]]
    shipping: float
    discount: float
    coupon: str | None
    user_id: str
    email: str
    status: str = "completed"
    refund_t: int = 0

    @property
    def total(self) -> float:
        gross = sum(q * price for _, q, price in self.items)
        return round(gross + self.shipping - self.discount, 2)


@dataclass
class DayActivity:
    """Everything the day's sessions caused that other sources pick up."""

    sessions: list[Session] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    signups: list[tuple[Person, int, Device]] = field(default_factory=list)
    leads: list[tuple[Person, int]] = field(default_factory=list)
    trials: list[tuple[Person, int]] = field(default_factory=list)
    banners: list[tuple[Person, Device, str, str, int]] = field(default_factory=list)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _www(host: str, rng: random.Random) -> str:
    key = "google" if host.startswith("google.") else host
    if key in WWW_OK and rng.random() < 0.3:
        return "www." + host
    return host


class DaySimulator:
    """Runs one day of behaviour with the day's `sessions` random stream."""

    def __init__(
        self,
        pop: Population,
        catalogue: Catalogue,
        registry: Registry,
        day: int,
        day_start: int,
        weekday: int,
        policy_version: str,
        rng: random.Random,
        order_seq: list[int],
        order_prefix: str,
    ) -> None:
        self.pop = pop
        self.catalogue = catalogue
        self.registry = registry
        self.day = day
        self.day_start = day_start
        self.weekend = weekday >= 5
        self.policy_version = policy_version
        self.rng = rng
        self.out = DayActivity()
        self.order_seq = order_seq
        self.order_prefix = order_prefix

    # --- driver -------------------------------------------------------------------------

    def run(self) -> DayActivity:
        rng = self.rng
        for p in self.pop.people:
            if not p.active_on(self.day):
                continue
            prob = p.activity * (p.weekend_factor if self.weekend else 1.0)
            if rng.random() >= prob:
                continue
            n = 1 + (rng.random() < 0.22) + (rng.random() < 0.05)
            for _ in range(n):
                self._session(p)
        return self.out

    def _start_time(self, p: Person) -> int:
        rng = self.rng
        hour = p.peak_hours[rng.random() < 0.55] + rng.gauss(0, 1.6)
        local_ms = int((hour % 24) * MS_HOUR) + rng.randrange(MS_MIN)
        offset = utc_offset_min(p.tz, self.day_start + 12 * MS_HOUR)
        return self.day_start + (local_ms - offset * MS_MIN) % (24 * MS_HOUR)

    # --- one session --------------------------------------------------------------------

    def _session(self, p: Person) -> None:
        rng = self.rng
        devices = p.devices
        apps = [d for d in devices if d.is_app]
        if apps and rng.random() < 0.45:  # people with the app use it a lot
            dev = apps[0] if len(apps) == 1 else rng.choice(apps)
        else:
            dev = devices[0] if rng.random() < 0.55 else rng.choice(devices)
        t = self._start_time(p)
        new_cookie = False
        if not dev.anon_ids or (dev.kind == "web" and rng.random() < 0.004):
            dev.anon_ids.append(uuid4_from(rng, upper=dev.kind == "ios"))
            new_cookie = dev.kind == "web"
        first_use = not dev.used
        dev.used = True
        s = Session(p, p.person_id, dev, None, [], new_cookie)
        st = _State(self, s, t)
        if dev.is_app:
            st.app_session(first_use)
        else:
            st.web_session()
        if (
            p.jurisdiction in ("GDPR", "LGPD")
            and dev.consent_version != self.policy_version
            and s.hits
            and rng.random() < 0.9
        ):
            dev.consent_version = self.policy_version
            user = p.user_id if dev.identified else ""
            self.out.banners.append((p, dev, s.hits[0].anon or "", user, s.hits[0].t + 4000))
        self.out.sessions.append(s)

    def next_order_id(self) -> str:
        self.order_seq[0] += 1
        return f"ORD-{self.order_prefix}-{self.order_seq[0]:05d}"


class _State:
    """Mutable state while one session unfolds."""

    def __init__(self, sim: DaySimulator, s: Session, t: int) -> None:
        self.sim = sim
        self.rng = sim.rng
        self.s = s
        self.p: Person = s.person  # type: ignore[assignment]
        self.dev = s.device
        self.t = t
        self.page: Page | None = None
        self.cart: list[tuple[Product, int, float]] = []
        self.cart_id = ""

    # helpers ---------------------------------------------------------------------------

    @property
    def anon(self) -> str:
        return self.dev.anon_ids[-1]

    @property
    def user(self) -> str | None:
        if self.dev.identified and self.p.user_id:
            return self.p.user_id
        return None

    def tick(self, lo: int = 2, hi: int = 150) -> None:
        self.t += int(self.rng.uniform(lo, hi) * 1000)

    def hit(
        self,
        type_: str,
        label: str | None,
        props: dict | None = None,
        extra: dict | None = None,
        http: tuple[str, str, int] | None = None,
    ) -> Hit:
        h = Hit(self.t, type_, label, props, self.page, self.anon, self.user, extra, http)
        self.s.hits.append(h)
        return h

    def track(self, event: str, props: dict | None = None, http: tuple | None = None) -> None:
        self.tick(1, 20)
        self.hit("track", event, props or {}, None, http)

    def view(self, name: str, path: str, title: str, referrer: str = "", search: str = "") -> None:
        """A page view (web) or a screen view (app)."""
        self.tick(3, 120)
        if self.dev.is_app:
            self.hit("screen", name, {"name": name})
            return
        prev = self.page
        if not referrer and prev is not None:
            referrer = prev[0]
        url = SITE + path + search
        self.page = (url, path, title, referrer, search)
        props = {"path": path, "url": url, "referrer": referrer, "title": title, "search": search}
        status = 404 if self.rng.random() < 0.004 else 200
        self.hit("page", name, props, None, ("GET", path + search, status))

    def product_price(self, product: Product) -> float:
        return convert(product.price_usd, self.p.currency)

    def typed_email(self) -> str:
        email = self.p.email
        if self.rng.random() < 0.08:
            email = email_variant(email, self.rng)
        self.sim.registry.add(self.p.person_id, "email", email)
        return email

    def typed_phone(self) -> str:
        phone = phone_written(self.p.phone, self.p.country, self.rng, 0.4)
        self.sim.registry.add(self.p.person_id, "phone", phone)
        return phone

    # landing ---------------------------------------------------------------------------

    def landing(self) -> str:
        """Pick how the visitor arrived; returns the external referrer ('' for direct)."""
        rng, p = self.rng, self.p
        r = rng.random()
        if r < 0.30:
            return ""
        if r < 0.60:
            host = _www(_weighted(rng, SEARCH_HOSTS[p.country]), rng)
            return f"https://{host}/"
        if r < 0.68:  # paid search
            host = _www(_weighted(rng, SEARCH_HOSTS[p.country]), rng)
            self.s.campaign = {"source": "google", "medium": "cpc", "name": "brand_search"}
            if rng.random() < 0.5:
                self.s.campaign["term"] = rng.choice(SEARCHES[p.lang])
            return f"https://{host}/"
        if r < 0.83:
            host = _www(_weighted(rng, SOCIAL_REFERRERS), rng)
            if host == "t.co":
                return f"https://t.co/{rng.getrandbits(40):010x}"
            if rng.random() < 0.25:
                self.s.campaign = {
                    "source": host.split(".")[-2],
                    "medium": "social",
                    "name": "spring_social",
                }
            return f"https://{host}/"
        if r < 0.95:
            host = _weighted(rng, MAIL_REFERRERS)
            self.s.campaign = {
                "source": "newsletter",
                "medium": "email",
                "name": rng.choice(CAMPAIGNS),
            }
            return f"https://{host}/"
        return rng.choice(OTHER_REFERRERS)

    def campaign_query(self) -> str:
        c = self.s.campaign
        if not c:
            return ""
        q = f"?utm_source={c['source']}&utm_medium={c['medium']}&utm_campaign={c['name']}"
        if "term" in c:
            q += "&utm_term=" + quote_plus(c["term"])
        return q

    # session kinds ---------------------------------------------------------------------

    def web_session(self) -> None:
        rng, p = self.rng, self.p
        referrer = self.landing()
        query = self.campaign_query()
        is_customer = p.kind == "customer"
        r = rng.random()
        if is_customer and p.has_account(self.sim.day) and r < 0.22:
            self.view("Home", "/", "Lumina", referrer, query)
            self.login()
            self.app_usage()
        elif is_customer and not p.has_account(self.sim.day) and r < 0.12:
            self.view("Pricing", "/pricing", "Pricing - Lumina", referrer, query)
            self.pricing()
        elif r < 0.45:
            self.content(referrer, query)
        else:
            self.shop(referrer, query)
        if self.dev.identified and rng.random() < 0.06:
            self.track("Signed Out", {})
            self.dev.identified = False
            self.dev.anon_ids.append(uuid4_from(rng))  # analytics.reset()

    def app_session(self, first_use: bool) -> None:
        rng, p = self.rng, self.p
        self.tick(0, 1)
        if first_use:
            self.hit(
                "track",
                "Application Installed",
                {"version": self.dev.app[0], "build": self.dev.app[1]},
            )  # type: ignore[index]
        self.track(
            "Application Opened",
            {"from_background": rng.random() < 0.4, "version": self.dev.app[0]},
        )  # type: ignore[index]
        self.view("Home", "", "")
        if p.has_account(self.sim.day) and not self.dev.identified and rng.random() < 0.6:
            self.login()
        elif not p.has_account(self.sim.day) and rng.random() < 0.08:
            self.signup()
        if self.dev.identified and rng.random() < 0.4:
            self.app_usage()
        else:
            self.shop("", "")
        self.track("Application Backgrounded", {})

    def login(self) -> None:
        if not self.p.user_id:
            return
        if not self.dev.is_app:
            self.view("Sign In", "/login", "Sign in - Lumina")
        method = self.rng.choice(("password", "password", "google", "magic_link"))
        self.dev.identified = True
        self.track("Signed In", {"method": method}, ("POST", "/login", 302))
        self.identify(with_traits=self.rng.random() < 0.6)
        if self.p.b2b and self.rng.random() < 0.5:
            self.group()

    def identify(self, with_traits: bool = True) -> None:
        p = self.p
        traits: dict = {}
        if with_traits:
            traits = {
                "email": self.typed_email(),
                "first_name": p.first_name,
                "last_name": p.last_name,
            }
            traits["name"] = f"{p.first_name} {p.last_name}"
            if self.rng.random() < 0.4:
                traits["phone"] = self.typed_phone()
            if p.account_ms:
                traits["created_at"] = iso_utc_s(p.account_ms)
            if p.b2b:
                traits["company"] = {"name": p.company}
                traits["title"] = p.job_title
        self.tick(0, 1)
        self.hit("identify", None, None, {"traits": traits})

    def group(self) -> None:
        p = self.p
        traits = {"name": p.company, "plan": "business", "employees": 10 + (p.idx * 37) % 490}
        self.tick(0, 1)
        self.hit("group", None, None, {"groupId": p.group_id, "traits": traits})

    def signup(self) -> None:
        rng, p, sim = self.rng, self.p, self.sim
        if not self.dev.is_app:
            self.view("Sign Up", "/signup", "Create your account - Lumina")
        p.user_id = new_user_id(rng, sim.pop.user_ids_used)
        sim.pop.by_user_id[p.user_id] = p
        p.account_day = sim.day
        p.account_ms = self.t
        anon = self.anon
        self.dev.identified = True
        method = rng.choice(("email", "email", "google", "apple"))
        self.track("Signed Up", {"method": method, "type": "organic"}, ("POST", "/signup", 302))
        if self.dev.is_app or rng.random() < 0.25:
            self.tick(0, 1)
            self.hit("alias", None, None, {"previousId": anon})
        self.identify()
        if p.b2b:
            self.track("Account Created", {"account_name": p.company})
            self.group()
        sim.out.signups.append((p, self.t, self.dev))

    def pricing(self) -> None:
        rng = self.rng
        if rng.random() < 0.35:
            self.signup()
            if rng.random() < 0.45:
                self.trial()
            if rng.random() < 0.6:
                self.app_usage()
        elif self.p.b2b and rng.random() < 0.25:
            self.demo()
        else:
            self.shop("", "")

    def trial(self) -> None:
        start = iso_utc_s(self.t)[:10]
        end = iso_utc_s(self.t + 14 * 86_400_000)[:10]
        props = {"trial_plan_name": "plus", "trial_start_date": start, "trial_end_date": end}
        self.track("Trial Started", props)
        self.sim.out.trials.append((self.p, self.t))

    def demo(self) -> None:
        rng, p = self.rng, self.p
        self.view("Request a Demo", "/demo", "Book a demo - Lumina")
        props = {"form_id": "demo-request", "company": p.company, "role": p.job_title}
        self.track("Demo Requested", props, ("POST", "/demo", 302))
        if p.user_id:
            self.identify()
        else:  # lead capture: identify the anonymous visitor by traits only
            traits = {"email": self.typed_email(), "name": f"{p.first_name} {p.last_name}"}
            traits["company"] = {"name": p.company}
            if rng.random() < 0.7:
                traits["phone"] = self.typed_phone()
            self.tick(0, 1)
            self.hit("identify", None, None, {"traits": traits})
        self.sim.out.leads.append((p, self.t))

    def app_usage(self) -> None:
        rng, p = self.rng, self.p
        for _ in range(1 + int(rng.expovariate(1 / 2.2))):
            feature = rng.choice(FEATURES)
            self.view("App", f"/app/{feature.replace('_', '-')}", f"{feature.title()} - Lumina")
            self.track("Feature Used", {"feature": feature})
        if p.b2b and rng.random() < 0.06:
            self.track("Invite Sent", {"invitee_role": rng.choice(("member", "admin", "viewer"))})

    def content(self, referrer: str, query: str) -> None:
        rng, p = self.rng, self.p
        post = rng.choice(BLOG_POSTS)
        title = post.replace("-", " ").capitalize()
        self.view("Blog", f"/blog/{post}", f"{title} - Lumina", referrer, query)
        if rng.random() < 0.35:
            post = rng.choice(BLOG_POSTS)
            self.view("Blog", f"/blog/{post}", f"{post.replace('-', ' ').capitalize()} - Lumina")
        if rng.random() < 0.18:
            name, ftype, size = rng.choice(DOWNLOADS)
            path = f"/downloads/{name}"
            props = {"file_name": name, "file_type": ftype, "file_size": size, "url": SITE + path}
            self.track("File Downloaded", props, ("GET", path, 200))
        if rng.random() < 0.07:
            self.share("article", post, self.page[0] if self.page else SITE)
        if p.kind == "customer" and p.b2b and rng.random() < 0.08:
            self.demo()
        elif rng.random() < 0.4:
            self.shop("", "")

    def share(self, content_type: str, content_id: str, url: str) -> None:
        via = self.rng.choice(("whatsapp", "email", "facebook", "twitter", "linkedin", "copy_link"))
        props = {
            "share_via": via,
            "content_type": content_type,
            "content_id": content_id,
            "url": url,
        }
        self.track("Content Shared", props)

    def shop(self, referrer: str, query: str) -> None:
        rng, p = self.rng, self.p
        products = self.sim.catalogue.active
        if self.page is None and not self.dev.is_app:
            r = rng.random()
            if r < 0.4:
                self.view("Home", "/", "Lumina", referrer, query)
            elif r < 0.65:
                cat = rng.choice(products).category
                slug = cat.lower().replace(" & ", "-").replace(" ", "-")
                self.view("Category", f"/category/{slug}", f"{cat} - Lumina", referrer, query)
                self.track("Product List Viewed", {"list_id": slug, "category": cat})
            else:
                self.product_view(rng.choice(products), referrer, query)
        if rng.random() < 0.3:
            q = rng.choice(SEARCHES[p.lang])
            if self.dev.is_app:
                self.view("Search", "", "")
            else:
                self.view("Search Results", "/search", "Search - Lumina", "", "?q=" + quote_plus(q))
            self.track("Products Searched", {"query": q})
        for _ in range(int(rng.expovariate(1 / 1.8))):
            self.product_view(rng.choice(products))
        if self.cart and rng.random() < 0.6:
            self.checkout()

    def product_view(self, product: Product, referrer: str = "", query: str = "") -> None:
        rng = self.rng
        price = self.product_price(product)
        if self.dev.is_app:
            self.view("Product Detail", "", "")
        else:
            path = f"/products/{product.slug}"
            self.view("Product", path, f"{product.name} - Lumina", referrer, query)
        props = {
            "product_id": product.product_id,
            "sku": product.product_id,
            "category": product.category,
            "name": product.name,
            "brand": product.brand,
            "price": price,
            "currency": self.p.currency,
        }
        self.track("Product Viewed", props)
        if rng.random() < 0.02:
            self.share("product", product.product_id, SITE + f"/products/{product.slug}")
        if rng.random() < 0.03:
            self.track("Product Added to Wishlist", {"product_id": product.product_id})
        if rng.random() < 0.16:
            qty = 1 if rng.random() < 0.85 else rng.randint(2, 3)
            if not self.cart_id:
                self.cart_id = f"cart_{rng.getrandbits(40):010x}"
            self.cart.append((product, qty, price))
            add = {
                "cart_id": self.cart_id,
                "product_id": product.product_id,
                "sku": product.product_id,
            }
            add |= {
                "name": product.name,
                "price": price,
                "quantity": qty,
                "currency": self.p.currency,
            }
            self.track("Product Added", add, ("POST", "/api/cart/items", 201))

    def checkout(self) -> None:
        rng, p, sim = self.rng, self.p, self.sim
        currency = p.currency
        lines = [
            {"product_id": pr.product_id, "quantity": q, "price": price}
            for pr, q, price in self.cart
        ]
        if self.dev.is_app:
            self.view("Cart", "", "")
        else:
            self.view("Cart", "/cart", "Your cart - Lumina")
        self.track("Cart Viewed", {"cart_id": self.cart_id, "products": lines})
        if rng.random() > 0.55:
            return
        value = round(sum(q * price for _, q, price in self.cart), 2)
        order_id = sim.next_order_id()
        if not self.dev.is_app:
            self.view("Checkout", "/checkout", "Checkout - Lumina")
        started = {"order_id": order_id, "value": value, "revenue": value, "currency": currency}
        started["products"] = lines
        self.track("Checkout Started", started)
        if rng.random() > 0.72 or p.kind != "customer":
            return  # abandoned (anonymous-only visitors never complete a purchase)
        if p.has_account(sim.day) and not self.dev.identified and rng.random() < 0.7:
            self.login()
        method = rng.choice(
            ("card", "card", "card", "paypal", "pix" if p.country == "BR" else "apple_pay")
        )
        self.track(
            "Payment Info Entered",
            {"order_id": order_id, "payment_method": method},
            ("POST", "/api/checkout/payment", 200),
        )
        coupon, rate = (None, 0.0)
        if rng.random() < 0.15:
            coupon, rate = rng.choice(COUPONS)
        shipping = 0.0 if value > 50 or coupon == "FREESHIP" else convert(6.0, currency)
        discount = round(value * rate, 2)
        user_id = self.user or ""
        email = self.typed_email() if not user_id or rng.random() < 0.7 else ""
        order = Order(
            order_id,
            p,
            self.t + 2000,
            "app" if self.dev.is_app else "web",
            currency,
            list(self.cart),
            shipping,
            discount,
            coupon,
            user_id,
            email,
        )
        props = {
            "order_id": order_id,
            "checkout_id": self.cart_id,
            "total": order.total,
            "revenue": value,
            "shipping": shipping,
            "discount": discount,
            "currency": currency,
        }
        if coupon:
            props["coupon"] = coupon
        props["products"] = [
            {
                "product_id": pr.product_id,
                "sku": pr.product_id,
                "name": pr.name,
                "price": price,
                "quantity": q,
                "category": pr.category,
            }
            for pr, q, price in self.cart
        ]
        if not self.dev.is_app:
            self.view("Order Confirmation", "/checkout/complete", "Thank you - Lumina")
        self.track("Order Completed", props, ("POST", "/api/checkout/complete", 200))
        order.t = self.t
        p.orders += 1
        sim.out.orders.append(order)
        self.cart = []
