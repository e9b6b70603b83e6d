"""Browsers, phones and apps: user agents, IP addresses and device identifiers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

APP_NAME = "Lumina"
APP_NAMESPACE = "example.lumina.app"
APP_VERSIONS = (("4.11.2", "4112"), ("4.12.0", "4120"), ("4.12.1", "4121"), ("4.13.0", "4130"))
WEB_LIBRARY = {"name": "analytics.js", "version": "next-1.70.0"}
IOS_LIBRARY = {"name": "analytics-ios", "version": "4.1.8"}
ANDROID_LIBRARY = {"name": "analytics-android", "version": "4.11.3"}

# (user agent, os name, os version, form factor, weight)
WEB_AGENTS: tuple[tuple[str, str, str, str, float], ...] = (
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Windows",
        "10",
        "desktop",
        22,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
        "Windows",
        "10",
        "desktop",
        6,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Windows",
        "10",
        "desktop",
        5,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        "Mac OS X",
        "10.15.7",
        "desktop",
        9,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Mac OS X",
        "10.15.7",
        "desktop",
        8,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/129.0.0.0 Safari/537.36",
        "Linux",
        "",
        "desktop",
        2,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1.1 Mobile/15E148 Safari/604.1",
        "iOS",
        "18.1.1",
        "mobile",
        14,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        "iOS",
        "17.6.1",
        "mobile",
        6,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Android",
        "10",
        "mobile",
        16,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Android",
        "14",
        "mobile",
        5,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.6 Mobile/15E148 Safari/604.1",
        "iOS",
        "17.6",
        "tablet",
        4,
    ),
)
_WEB_WEIGHTS = [a[4] for a in WEB_AGENTS]

IOS_MODELS = (("iPhone15,2", "17.6.1"), ("iPhone16,1", "18.1.1"), ("iPhone14,5", "17.2.1"))
ANDROID_MODELS = (
    ("samsung", "SM-S918B", "14", "UP1A.231005.007"),
    ("Google", "Pixel 7", "14", "UQ1A.240205.004"),
    ("motorola", "moto g54 5G", "13", "T1TD33.29"),
    ("Xiaomi", "2201117TG", "13", "TKQ1.221114.001"),
)

# First octets that look like consumer ISP space in each country.
IP_PREFIXES: dict[str, tuple[int, ...]] = {
    "US": (24, 50, 66, 67, 68, 71, 73, 75, 76, 98, 99, 108, 173, 174),
    "CA": (24, 70, 99, 142, 174),
    "GB": (31, 51, 81, 82, 86, 90, 92),
    "AU": (1, 49, 58, 101, 110, 120),
    "BR": (177, 179, 186, 187, 189, 191, 200, 201),
    "ES": (79, 80, 81, 83, 84, 88, 95),
    "IT": (2, 5, 79, 87, 93, 151),
}
IPV6_PREFIXES = {"US": "2600:1700", "BR": "2804:14c", "ES": "2a0c:5a80", "IT": "2a01:e11"}


def random_ipv4(country: str, rng: random.Random) -> str:
    first = rng.choice(IP_PREFIXES.get(country, IP_PREFIXES["US"]))
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def random_ip(country: str, rng: random.Random) -> str:
    if country in IPV6_PREFIXES and rng.random() < 0.06:
        prefix = IPV6_PREFIXES[country]
        return f"{prefix}:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"
    return random_ipv4(country, rng)


def uuid4_from(rng: random.Random, upper: bool = False) -> str:
    """A version-4 UUID string drawn from a seeded stream (never uuid.uuid4())."""
    v = rng.getrandbits(128)
    v = (v & ~(0xF << 76)) | (0x4 << 76)
    v = (v & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{v:032x}"
    s = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return s.upper() if upper else s


@dataclass(slots=True)
class Device:
    """One browser or one app install of a person."""

    kind: str  # web | ios | android
    form: str  # desktop | mobile | tablet
    user_agent: str
    os_name: str
    os_version: str
    ip: str
    skew_ms: int  # device clock minus true time
    device_id: str | None = None  # apps only
    model: str = ""
    manufacturer: str = ""
    app: tuple[str, str] | None = None  # (version, build)
    anon_ids: list[str] = field(default_factory=list)  # every anonymousId this device used
    identified: bool = False  # the browser/app currently sends a userId
    consent_version: str | None = None
    used: bool = False
    ctx: dict | None = None  # cached static part of the Segment context

    @property
    def is_app(self) -> bool:
        return self.kind != "web"


def _skew_ms(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.80:
        return int(rng.gauss(0, 40_000))  # seconds to a minute or two
    if r < 0.97:
        return rng.choice((-1, 1)) * rng.randint(120_000, 900_000)  # a few minutes
    return rng.choice((-1, 1)) * rng.randint(3_600_000, 6 * 3_600_000)  # hours off


def make_web_device(country: str, rng: random.Random, ip: str) -> Device:
    ua, os_name, os_version, form, _ = rng.choices(WEB_AGENTS, weights=_WEB_WEIGHTS)[0]
    return Device("web", form, ua, os_name, os_version, ip, _skew_ms(rng))


def make_app_device(country: str, rng: random.Random, ip: str) -> Device:
    version = rng.choice(APP_VERSIONS)
    if rng.random() < 0.45:
        model, os_version = rng.choice(IOS_MODELS)
        ua = f"{APP_NAME}/{version[0]} (iPhone; iOS {os_version}; Scale/3.00)"
        return Device(
            "ios",
            "mobile",
            ua,
            "iOS",
            os_version,
            ip,
            _skew_ms(rng),
            device_id=uuid4_from(rng, upper=True),
            model=model,
            manufacturer="Apple",
            app=version,
        )
    manufacturer, model, os_version, build = rng.choice(ANDROID_MODELS)
    ua = f"Dalvik/2.1.0 (Linux; U; Android {os_version}; {model} Build/{build})"
    return Device(
        "android",
        "mobile",
        ua,
        "Android",
        os_version,
        ip,
        _skew_ms(rng),
        device_id=f"{rng.getrandbits(64):016x}",
        model=model,
        manufacturer=manufacturer,
        app=version,
    )
