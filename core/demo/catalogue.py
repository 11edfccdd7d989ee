"""What the retailer sells and can do: skills, categories, products (with their services and return
terms) and the stock of each at every store and at the distribution centre."""

import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from core.choices import LocationKind
from core.demo import SEED
from core.demo.writer import bulk_create, ensure
from core.models import Category, Inventory, Location, Product, Skill
from core.money import quantize

CURRENCY = "EUR"  # every product is priced in euros (the model's default currency)

SKILLS = [
    ("assembly", "Furniture assembly"),
    ("appliance_installation", "Appliance installation"),
    ("appliance_training", "Appliance training"),
    ("tailoring", "Tailoring and alterations"),
    ("kitchen_fitting", "Kitchen fitting"),
    ("upholstery_repair", "Upholstery repair"),
    ("returns_inspection", "Returns inspection and grading"),
]

CATEGORIES = [
    ("sofas", "Sofas & armchairs"),
    ("tables", "Tables & chairs"),
    ("storage", "Wardrobes & storage"),
    ("beds", "Beds & mattresses"),
    ("kitchen-appliances", "Kitchen appliances"),
    ("laundry", "Washing & drying"),
    ("small-appliances", "Small appliances"),
    ("lighting", "Lighting"),
    ("textiles", "Home textiles"),
    ("womenswear", "Womenswear"),
    ("menswear", "Menswear"),
    ("outdoor", "Garden & outdoor"),
]
FURNITURE = {"sofas", "tables", "storage", "beds", "outdoor"}
APPLIANCES = {"kitchen-appliances", "laundry", "small-appliances"}
FASHION = {"womenswear", "menswear"}


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    category: str
    price: str
    installable: bool = False
    trainable: bool = False
    alterable: bool = False
    recyclable: bool = False
    returnable: bool = True
    return_window_days: int = 30
    resale_pct: int = 40


# fmt: off
PRODUCTS = [
    ProductSpec("RV-SOF-1001", "Oslo 3-seat sofa, oat bouclé", "sofas", "1299.00", resale_pct=45),
    ProductSpec("RV-SOF-1002", "Oslo 3-piece modular sofa set, charcoal", "sofas", "2499.00", installable=True,
                resale_pct=45),
    ProductSpec("RV-SOF-1003", "Bergen corner sofa, forest-green velvet", "sofas", "1899.00", installable=True),
    ProductSpec("RV-SOF-1004", "Lund armchair, cognac leather", "sofas", "749.00", resale_pct=50),
    ProductSpec("RV-SOF-1005", "Lund footstool, cognac leather", "sofas", "229.00"),
    ProductSpec("RV-TAB-2001", "Eik extendable dining table 180–240 cm, oak", "tables", "1149.00", installable=True,
                recyclable=True, resale_pct=50),
    ProductSpec("RV-TAB-2002", "Eik dining chairs, oak and linen (set of 2)", "tables", "329.00", installable=True,
                recyclable=True),
    ProductSpec("RV-TAB-2003", "Vik coffee table, smoked oak", "tables", "399.00", installable=True, recyclable=True),
    ProductSpec("RV-TAB-2004", "Studio sit-stand desk 160 cm", "tables", "679.00", installable=True, resale_pct=35),
    ProductSpec("RV-STO-3001", "Fjord 3-door wardrobe with mirror", "storage", "899.00", installable=True,
                recyclable=True, resale_pct=30),
    ProductSpec("RV-STO-3002", "Fjord chest of 6 drawers, white", "storage", "449.00", installable=True,
                recyclable=True, resale_pct=30),
    ProductSpec("RV-STO-3003", "Kade wall-mounted bookcase, walnut", "storage", "589.00", installable=True),
    ProductSpec("RV-BED-4001", "Nord box-spring bed 180×200, grey", "beds", "1899.00", installable=True,
                recyclable=True, resale_pct=30),
    ProductSpec("RV-BED-4002", "Rust pocket-spring mattress 160×200 (100-night trial)", "beds", "899.00",
                recyclable=True, return_window_days=100, resale_pct=0),
    ProductSpec("RV-BED-4003", "Rust memory-foam pillow", "beds", "59.95", returnable=False, resale_pct=0),
    ProductSpec("RV-BED-4004", "Mees bunk bed with storage steps", "beds", "749.00", installable=True),
    ProductSpec("RV-APP-5001", "Induction hob 80 cm with flex zones", "kitchen-appliances", "949.00",
                installable=True, trainable=True, recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5002", "Built-in combi-steam oven", "kitchen-appliances", "1399.00", installable=True,
                trainable=True, recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5003", "American-style fridge freezer, stainless steel", "kitchen-appliances", "1749.00",
                installable=True, trainable=True, recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5004", "Fully integrated dishwasher 60 cm", "kitchen-appliances", "799.00", installable=True,
                recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-APP-5005", "Bean-to-cup espresso machine", "kitchen-appliances", "699.00", trainable=True,
                recyclable=True),
    ProductSpec("RV-LAU-5101", "Washing machine 9 kg, 1400 rpm", "laundry", "749.00", installable=True,
                recyclable=True, return_window_days=14, resale_pct=35),
    ProductSpec("RV-LAU-5102", "Heat-pump tumble dryer 8 kg", "laundry", "829.00", installable=True, recyclable=True,
                return_window_days=14, resale_pct=35),
    ProductSpec("RV-LAU-5103", "Washer-dryer stacking kit", "laundry", "39.95", resale_pct=20),
    ProductSpec("RV-SMA-5201", "Cordless stick vacuum cleaner", "small-appliances", "399.00", recyclable=True),
    ProductSpec("RV-SMA-5202", "Air fryer XL 6.2 l", "small-appliances", "149.00", recyclable=True),
    ProductSpec("RV-SMA-5203", "Robot vacuum with mopping dock", "small-appliances", "649.00", trainable=True,
                recyclable=True),
    ProductSpec("RV-LIG-6001", "Dune rattan pendant lamp Ø60", "lighting", "179.00", resale_pct=35),
    ProductSpec("RV-LIG-6002", "Halo brass floor lamp", "lighting", "249.00", resale_pct=35),
    ProductSpec("RV-LIG-6003", "Smart LED bulbs E27 (3-pack)", "lighting", "39.95", recyclable=True, resale_pct=20),
    ProductSpec("RV-TEX-7001", "Linen duvet cover set 240×220, sage", "textiles", "129.00", recyclable=True,
                resale_pct=20),
    ProductSpec("RV-TEX-7002", "Made-to-measure velvet curtain (per panel)", "textiles", "189.00", alterable=True,
                returnable=False, resale_pct=0),
    ProductSpec("RV-TEX-7003", "Wool rug 200×300, ivory", "textiles", "599.00"),
    ProductSpec("RV-TEX-7004", "Organic cotton bath towel set", "textiles", "49.95", recyclable=True, resale_pct=15),
    ProductSpec("RV-WOM-8001", "Wool-blend coat, camel", "womenswear", "229.00", alterable=True, resale_pct=25),
    ProductSpec("RV-WOM-8002", "Wide-leg trousers, navy", "womenswear", "79.95", alterable=True, resale_pct=20),
    ProductSpec("RV-WOM-8003", "Silk blouse, ivory", "womenswear", "99.95", alterable=True, resale_pct=20),
    ProductSpec("RV-WOM-8004", "Swimsuit, black", "womenswear", "49.95", returnable=False, resale_pct=0),
    ProductSpec("RV-WOM-8005", "Evening dress, emerald (final sale)", "womenswear", "149.00", alterable=True,
                returnable=False, resale_pct=0),
    ProductSpec("RV-MEN-8101", "Two-piece slim-fit suit, charcoal", "menswear", "399.00", alterable=True,
                resale_pct=25),
    ProductSpec("RV-MEN-8102", "Chinos, stone", "menswear", "69.95", alterable=True, resale_pct=20),
    ProductSpec("RV-MEN-8103", "Merino crew-neck jumper", "menswear", "89.95", recyclable=True, resale_pct=20),
    ProductSpec("RV-MEN-8104", "Oxford shirt, light blue", "menswear", "59.95", alterable=True, resale_pct=15),
    ProductSpec("RV-OUT-9001", "Teak garden dining set with 6 chairs", "outdoor", "1599.00", installable=True,
                resale_pct=45),
    ProductSpec("RV-OUT-9002", "Parasol 3 m with base", "outdoor", "279.00"),
    ProductSpec("RV-OUT-9003", "Capri lounge set (clearance, final sale)", "outdoor", "899.00", installable=True,
                returnable=False, resale_pct=0),
    ProductSpec("RV-OUT-9004", "Gas barbecue with 4 burners", "outdoor", "799.00", installable=True, trainable=True,
                recyclable=True, resale_pct=35),
]
# fmt: on
CATEGORY_OF_SKU = {spec.sku: spec.category for spec in PRODUCTS}


def category_of(product: Product) -> str:
    """The category slug, from the catalogue spec: reading product.category would cost a query per row."""
    return CATEGORY_OF_SKU.get(product.sku, "")


def ensure_catalogue(counts: Counter) -> tuple[dict[str, Skill], dict[str, Product]]:
    skills = ensure(Skill, "code", [Skill(code=code, name=name) for code, name in SKILLS], counts)
    categories = ensure(Category, "slug", [Category(slug=slug, name=name) for slug, name in CATEGORIES], counts)
    wanted = [
        Product(
            sku=spec.sku,
            name=spec.name,
            category=categories[spec.category],
            price=Decimal(spec.price),
            returnable=spec.returnable,
            return_window_days=spec.return_window_days if spec.returnable else 0,
            installable=spec.installable,
            trainable=spec.trainable,
            alterable=spec.alterable,
            recyclable=spec.recyclable,
            resale_value=(
                quantize(Decimal(spec.price) * spec.resale_pct / 100, CURRENCY) if spec.returnable else Decimal("0.00")
            ),
        )
        for spec in PRODUCTS
    ]
    return skills, ensure(Product, "sku", wanted, counts, history=True)


def ensure_inventory(products: dict[str, Product], locations: dict[str, Location], counts: Counter) -> None:
    """Stock of every product at every store and at the distribution centre."""
    stocked = [loc for loc in locations.values() if loc.kind in (LocationKind.STORE, LocationKind.WAREHOUSE)]
    have = set(
        Inventory.objects.filter(product__in=products.values(), location__in=stocked).values_list(
            "product_id", "location_id"
        )
    )
    rows = []
    for product in products.values():
        for location in stocked:
            if (product.pk, location.pk) in have:
                continue
            rng = random.Random(f"{SEED}:stock:{product.sku}:{location.code}")
            on_hand = rng.randint(40, 250) if location.kind == LocationKind.WAREHOUSE else rng.randint(0, 14)
            rows.append(
                Inventory(product=product, location=location, on_hand=on_hand, reserved=rng.randint(0, on_hand // 4))
            )
    bulk_create(Inventory, rows)
    counts["inventory rows"] += len(rows)
