"""The product catalogue: a full snapshot every day, slowly changing prices and status."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .config import GeneratorConfig, rng_for

HEADER = ("product_id", "name", "category", "brand", "price", "currency", "active")

# Approximate value of one unit of each currency in USD (the conversion rates seed is dbt's).
USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "BRL": 0.18, "CAD": 0.73, "AUD": 0.65}
CATALOGUE_CURRENCIES = (("USD", 60), ("EUR", 20), ("GBP", 10), ("BRL", 10))
BRANDS = (
    "Nordvik",
    "Alto",
    "Sable & Co",
    "Kestrel",
    "Mirabel",
    "Orla",
    "Tern",
    "Vela",
    "Quill",
    "Bruma",
    "Fjell",
    "Lumina",
)
# category -> (base names, (min, max) USD price)
CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[float, float]]] = {
    "Electronics": (
        (
            "Wireless Earbuds",
            "Bluetooth Speaker",
            "USB-C Hub, 7-in-1",
            "Mechanical Keyboard",
            'Monitor 27" 4K',
            "HD Webcam",
            "Power Bank 20,000 mAh",
            "Smartwatch",
            "Noise-Cancelling Headphones",
            "Laptop Stand",
        ),
        (19, 450),
    ),
    "Home & Kitchen": (
        (
            "Ceramic Mug, 350 ml",
            "French Press",
            "Chef's Knife",
            "Cast Iron Skillet",
            "Linen Duvet Cover",
            "Scented Candle",
            "Bamboo Cutting Board",
            "Glass Storage Set",
        ),
        (9, 180),
    ),
    "Apparel": (
        (
            "Merino Sweater",
            "Rain Jacket",
            "Running Shoes",
            "Denim Jacket",
            "Cotton T-Shirt",
            "Wool Scarf",
            "Leather Belt",
        ),
        (15, 220),
    ),
    "Sports & Outdoors": (
        (
            "Yoga Mat",
            "Trail Backpack 28L",
            "Insulated Bottle",
            "Resistance Bands",
            "Camping Lantern",
            "Cycling Gloves",
        ),
        (12, 160),
    ),
    "Beauty": (
        ("Face Serum", "Hand Cream", "Shampoo Bar", "Sunscreen SPF 50", "Lip Balm"),
        (6, 70),
    ),
    "Books": (
        (
            'Cookbook "Simple Suppers"',
            "Field Guide to Birds",
            "Atlas of Remote Islands",
            "Data Science Handbook",
        ),
        (10, 60),
    ),
    "Software": (("Lumina Pro (annual)", "Photo Editor License", "Cloud Backup 1 TB"), (29, 199)),
    "Toys": (("Wooden Puzzle", "Building Blocks Set", "Plush Fox"), (9, 80)),
}
VARIANTS = ("Black", "Navy", "Sand", "Olive", "White", "Graphite", "Coral", "Mini", "XL", "Pro")


@dataclass(slots=True)
class Product:
    product_id: str
    name: str
    category: str
    brand: str
    price: float
    currency: str
    active: bool
    slug: str

    @property
    def price_usd(self) -> float:
        return self.price * USD_PER_UNIT[self.currency]


def nice_price(value: float, currency: str) -> float:
    """Round to a shop price: x.99 (x.90 for BRL), never below 0.99."""
    whole = max(1, round(value))
    return float(f"{whole - 1}.90") if currency == "BRL" else float(f"{whole - 1}.99")


def convert(amount_usd: float, currency: str) -> float:
    return nice_price(amount_usd / USD_PER_UNIT[currency], currency)


def _slug(name: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in name)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


class Catalogue:
    """Mutable catalogue state; mutate once per day with that day's products stream."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.seed = config.seed
        rng = rng_for(config.seed, "products", "catalogue")
        self.products: list[Product] = []
        self._next = 10001
        for _ in range(min(300, 150 + config.customers // 20)):
            self._add(rng)
        self.active: list[Product] = [p for p in self.products if p.active]

    def _add(self, rng: random.Random, active: bool = True) -> Product:
        category = rng.choice(list(CATEGORIES))
        names, (lo, hi) = CATEGORIES[category]
        brand = rng.choice(BRANDS)
        name = f"{brand} {rng.choice(names)}"
        if rng.random() < 0.6:
            name = f"{name} - {rng.choice(VARIANTS)}"
        currency = rng.choices(
            [c for c, _ in CATALOGUE_CURRENCIES], [w for _, w in CATALOGUE_CURRENCIES]
        )[0]
        usd = lo * (hi / lo) ** rng.random()
        pid = f"SKU-{self._next}"
        self._next += 1
        product = Product(
            pid,
            name,
            category,
            brand,
            nice_price(usd / USD_PER_UNIT[currency], currency),
            currency,
            active,
            f"{_slug(name)}-{pid[4:]}",
        )
        self.products.append(product)
        return product

    def advance(self, day: int) -> None:
        """A day passes: a few prices change, now and then a product is retired or added."""
        if day == 0:
            return
        rng = rng_for(self.seed, "products", day)
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            p = rng.choice(self.products)
            p.price = nice_price(p.price * rng.uniform(0.8, 1.15), p.currency)
        if rng.random() < 0.15 and len(self.active) > 20:
            rng.choice(self.active).active = False
        if rng.random() < 0.03:
            inactive = [p for p in self.products if not p.active]
            if inactive:
                rng.choice(inactive).active = True
        if rng.random() < 0.1:
            self._add(rng)
        self.active = [p for p in self.products if p.active]

    def snapshot_rows(self) -> list[list[str]]:
        return [
            [
                p.product_id,
                p.name,
                p.category,
                p.brand,
                f"{p.price:.2f}",
                p.currency,
                "true" if p.active else "false",
            ]
            for p in self.products
        ]
