"""The demo catalogue both sandboxes derive their seed data from (ikas store "demo", Fortnox demo company).

Plain data, standard library only. Prices are VAT-inclusive SEK `sellPrice`s of the default ikas price list
(the demo store has `isTaxExcludedOnPrices = false`); the VAT rate is what the store's tax settings give the
product (Sweden 25 %; the tag "food" overrides to 12 %, the tag "books" to 6 %), repeated here so the Fortnox
side need not re-derive it. Deliberate oddities for the sync to cope with:
- DEMO-1020 is the SKU of two different products (a duplicate SKU: neither may be linked);
- one variant of "Linen tote bag" has no SKU;
- "Ground coffee, bulk" is sold per 500 g with a base-unit price per kilogram;
- some products are tagged "fortnox" (the ikas_to_fortnox mode considers only those).
`OTHER_STORE` is the small catalogue of a second ikas store ("other"), for isolation tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

VAT_STANDARD, VAT_FOOD, VAT_BOOKS = Decimal("25"), Decimal("12"), Decimal("6")
STOCK_LOCATIONS = ("Main warehouse", "Gothenburg shop")  # the demo store's two ikas stock locations


@dataclass(frozen=True)
class DemoVariant:
    sku: str | None  # None: the variant has no SKU in ikas
    sell_price: Decimal  # gross, SEK, default price list
    values: tuple[tuple[str, str], ...] = ()  # (variant type name, variant value name), e.g. ("Size", "M")
    barcode: str | None = None  # EAN-13
    stock: tuple[int, int] = (10, 0)  # stock count per STOCK_LOCATIONS entry
    buy_price: Decimal | None = None
    unit_amount: Decimal | None = None  # the variant holds this much of the product's base unit, e.g. 500 (GRAM)
    unit_type: str | None = None  # an ikas ProductUnitTypeEnum value, e.g. "GRAM"


@dataclass(frozen=True)
class DemoProduct:
    name: str
    vat_rate: Decimal
    variants: tuple[DemoVariant, ...]
    tags: tuple[str, ...] = ()
    description: str = ""
    base_unit: tuple[Decimal, str] | None = None  # (baseAmount, ProductUnitTypeEnum), e.g. (1, "KILOGRAM")
    eur_price: Decimal | None = None  # price in the EUR price list, when the product has one


def _v(sku: str | None, price: str, barcode: str | None = None, stock: tuple[int, int] = (10, 0)) -> DemoVariant:
    return DemoVariant(sku=sku, sell_price=Decimal(price), barcode=barcode, stock=stock)


def _sized(prefix: int, price: str, sizes: tuple[str, ...], kind: str = "Size") -> tuple[DemoVariant, ...]:
    return tuple(
        DemoVariant(
            sku=f"DEMO-{prefix}-{''.join(ch for ch in size if ch.isalnum())}",  # "+1.0" -> "10"
            sell_price=Decimal(price),
            values=((kind, size),),
            barcode=f"73500000{prefix:04d}{index}"[:13],
            stock=(5 + index, index),
        )
        for index, size in enumerate(sizes)
    )


DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct(
        "Organic cotton T-shirt", VAT_STANDARD, _sized(1001, "249.00", ("S", "M", "L")), ("fortnox", "apparel")
    ),
    DemoProduct("Wool socks", VAT_STANDARD, _sized(1002, "129.00", ("36-40", "41-45")), ("fortnox", "apparel")),
    DemoProduct("Rain jacket", VAT_STANDARD, _sized(1003, "1495.00", ("S", "M", "L", "XL")), ("fortnox", "apparel")),
    DemoProduct(
        "Linen tote bag",
        VAT_STANDARD,
        (
            DemoVariant("DEMO-1004-NAT", Decimal("199.00"), (("Colour", "Natural"),), "7350000010047", (12, 4)),
            DemoVariant(None, Decimal("199.00"), (("Colour", "Black"),), None, (3, 0)),  # no SKU
        ),
        ("fortnox", "accessories"),
    ),
    DemoProduct("Enamel mug", VAT_STANDARD, (_v("DEMO-1005", "149.00", "7350000010054", (40, 8)),), ("fortnox",)),
    DemoProduct(
        "Steel water bottle", VAT_STANDARD, (_v("DEMO-1006", "299.00", "7350000010061", (25, 5)),), ("fortnox",)
    ),
    DemoProduct("Scented candle", VAT_STANDARD, (_v("DEMO-1007", "179.00", "7350000010078", (30, 0)),), ("fortnox",)),
    DemoProduct(
        "Cutting board, oak", VAT_STANDARD, (_v("DEMO-1008", "449.00", "7350000010085", (8, 2)),), ("fortnox",)
    ),
    DemoProduct("Chef's knife", VAT_STANDARD, (_v("DEMO-1009", "899.00", "7350000010092", (6, 1)),), ("fortnox",)),
    DemoProduct("Tea towel set", VAT_STANDARD, (_v("DEMO-1010", "159.00", "7350000010108", (20, 6)),)),
    DemoProduct(
        "Swedish coffee, dark roast 450 g",
        VAT_FOOD,
        (_v("DEMO-1011", "89.90", "7350000010115", (60, 12)),),
        ("fortnox", "food"),
        eur_price=Decimal("8.50"),
    ),
    DemoProduct(
        "Lingonberry jam", VAT_FOOD, (_v("DEMO-1012", "59.00", "7350000010122", (45, 10)),), ("fortnox", "food")
    ),
    DemoProduct("Crispbread", VAT_FOOD, (_v("DEMO-1013", "34.50", "7350000010139", (80, 20)),), ("food",)),
    DemoProduct("Dark chocolate 70 %", VAT_FOOD, (_v("DEMO-1014", "42.00", "7350000010146", (100, 30)),), ("food",)),
    DemoProduct(
        "Ground coffee, bulk",
        VAT_FOOD,
        (
            DemoVariant(
                sku="DEMO-1015",
                sell_price=Decimal("119.00"),
                barcode="7350000010153",
                stock=(50, 0),
                unit_amount=Decimal("500"),
                unit_type="GRAM",
            ),
        ),
        ("fortnox", "food"),
        "Sold in 500 g bags, priced per kilogram.",
        base_unit=(Decimal("1"), "KILOGRAM"),
    ),
    DemoProduct("Honey, wildflower", VAT_FOOD, (_v("DEMO-1016", "95.00", "7350000010160", (24, 0)),), ("food",)),
    DemoProduct(
        "Nordic cookbook", VAT_BOOKS, (_v("DEMO-1017", "329.00", "9789100000017", (15, 3)),), ("fortnox", "books")
    ),
    DemoProduct("Travel guide Sweden", VAT_BOOKS, (_v("DEMO-1018", "249.00", "9789100000024", (10, 0)),), ("books",)),
    DemoProduct(
        "Children's picture book",
        VAT_BOOKS,
        (_v("DEMO-1019", "149.00", "9789100000031", (18, 4)),),
        ("fortnox", "books"),
    ),
    DemoProduct("Notebook A5", VAT_STANDARD, (_v("DEMO-1020", "89.00", "7350000010207", (70, 15)),), ("fortnox",)),
    DemoProduct(
        "Notebook A5, dotted", VAT_STANDARD, (_v("DEMO-1020", "95.00", "7350000010214", (20, 0)),), ("fortnox",)
    ),
    DemoProduct("Fountain pen", VAT_STANDARD, (_v("DEMO-1022", "549.00", "7350000010221", (9, 0)),)),
    DemoProduct("Desk lamp", VAT_STANDARD, _sized(1023, "795.00", ("White", "Black"), "Colour"), ("fortnox",)),
    DemoProduct("Wool blanket", VAT_STANDARD, _sized(1024, "1195.00", ("Grey", "Blue"), "Colour")),
    DemoProduct("Ceramic bowl", VAT_STANDARD, (_v("DEMO-1025", "129.00", "7350000010252", (0, 0)),), ("fortnox",)),
    DemoProduct("Linen napkins, 4-pack", VAT_STANDARD, (_v("DEMO-1026", "229.00", "7350000010269", (14, 2)),)),
    DemoProduct("Gift card 500 SEK", VAT_STANDARD, (_v("DEMO-1027", "500.00", None, (999, 0)),)),
    DemoProduct("Plant pot, terracotta", VAT_STANDARD, (_v("DEMO-1028", "189.00", "7350000010283", (22, 7)),)),
    DemoProduct("Reading glasses", VAT_STANDARD, _sized(1029, "249.00", ("+1.0", "+1.5", "+2.0"), "Strength")),
    DemoProduct("Bicycle bell", VAT_STANDARD, (_v("DEMO-1030", "99.00", "7350000010306", (35, 0)),), ("fortnox",)),
)

OTHER_STORE_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("Other store mug", VAT_STANDARD, (_v("OTHER-2001", "99.00", "7350000020015", (5, 0)),), ("fortnox",)),
    DemoProduct("Other store cap", VAT_STANDARD, (_v("OTHER-2002", "199.00", None, (3, 0)),)),
    DemoProduct(
        "Notebook A5", VAT_STANDARD, (_v("DEMO-1020", "79.00", None, (1, 0)),), ("fortnox",)
    ),  # same SKU as demo
)


def all_skus(products: tuple[DemoProduct, ...] = DEMO_PRODUCTS) -> list[str]:
    """Every SKU in catalogue order, duplicates included."""
    return [variant.sku for product in products for variant in product.variants if variant.sku is not None]
